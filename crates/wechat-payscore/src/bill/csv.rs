//! The bill CSV (spec part 2 §2.2, "File layout"): a detail header row and its rows, then a
//! summary header row and its row; every data field prefixed with a backquote, which is
//! stripped. Columns are read by header name, because the exact v3 columns are not
//! documented: every column is kept.

use std::fmt;
use std::io::BufRead;
use std::sync::Arc;

use tixpay_core::{Error, Fen};

use super::BillError;

/// The longest line accepted (a bill line is a few hundred bytes).
const MAX_LINE: usize = 64 * 1024;

/// One row of a bill: its values by column name.
///
/// ```
/// use tixpay_wechat_payscore::bill::BillRows;
/// use tixpay_wechat_payscore::Fen;
///
/// let csv = "交易时间,商户订单号,交易类型,应结订单金额,商户数据包\n\
///            `2024-05-01 10:00:00,`420000001,`AUTH,`12.3,`wxzff|1000000000000001|RENT-1\n\
///            总交易单数,应结订单总金额\n\
///            `1,`12.30\n";
/// let mut rows = BillRows::new(csv.as_bytes());
/// let row = rows.next().unwrap()?;
/// assert_eq!(row.get("商户订单号"), Some("420000001"));
/// assert_eq!(row.settlement_total()?, Some(Fen::new(1230)));
/// assert_eq!(row.payscore().unwrap().out_order_no, "RENT-1");
/// assert!(rows.next().is_none());
/// assert_eq!(rows.summary().unwrap().amount("应结订单总金额")?, Some(Fen::new(1230)));
/// # Ok::<(), tixpay_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct BillRow {
    columns: Arc<[String]>,
    values: Vec<String>,
    line: u64,
}

impl fmt::Debug for BillRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BillRow")
            .field("line", &self.line)
            .field("values", &self.iter().collect::<Vec<_>>())
            .finish()
    }
}

/// A PayScore automatic deduction's ids, from 商户数据包 `wxzff|<微信服务单号>|<商户服务单号>`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PayScoreRef {
    /// 微信服务单号: the service order's `order_id`.
    pub order_id: String,
    /// 商户服务单号: the service order's `out_order_no`.
    pub out_order_no: String,
}

impl BillRow {
    /// The value of `column` (backquote stripped); `None` if the bill has no such column.
    pub fn get(&self, column: &str) -> Option<&str> {
        let i = self.columns.iter().position(|c| c == column)?;
        self.values.get(i).map(String::as_str)
    }

    /// The value of `column`, `None` when the column is absent or the value empty.
    fn text(&self, column: &str) -> Option<&str> {
        self.get(column).filter(|v| !v.is_empty())
    }

    /// The column names, as the header row gives them.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The values, in column order.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// `(column, value)` pairs in column order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.columns
            .iter()
            .map(String::as_str)
            .zip(self.values.iter().map(String::as_str))
    }

    /// The line this row was read from (1-based, over the whole bill).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// An amount in 元 (`"0.01"`, `"12.3"`, `"12"`) as exact fen; `None` when the column is
    /// absent or empty, an error when it is not such an amount (a sign, three decimals).
    pub fn amount(&self, column: &str) -> Result<Option<Fen>, Error> {
        let Some(text) = self.text(column) else {
            return Ok(None);
        };
        Fen::parse_yuan(text).map(Some).ok_or_else(|| {
            BillError::Malformed {
                line: self.line,
                reason: format!("{column} `{text}` is not an amount in yuan"),
            }
            .into()
        })
    }

    /// 交易时间 (`yyyy-MM-dd HH:mm:ss`, China time, as written).
    pub fn trade_time(&self) -> Option<&str> {
        self.text("交易时间")
    }

    /// 商户订单号. For a PayScore automatic deduction (交易类型 `AUTH`) WeChat Pay generates
    /// it; the service order's `out_order_no` is in [`BillRow::payscore`].
    pub fn out_trade_no(&self) -> Option<&str> {
        self.text("商户订单号")
    }

    /// 微信订单号 (`transaction_id`).
    pub fn transaction_id(&self) -> Option<&str> {
        self.text("微信订单号")
    }

    /// 交易类型 (`JSAPI`, `AUTH` for a PayScore automatic deduction, …).
    pub fn trade_type(&self) -> Option<&str> {
        self.text("交易类型")
    }

    /// 交易状态 (`SUCCESS`, `REFUND`, …).
    pub fn trade_state(&self) -> Option<&str> {
        self.text("交易状态")
    }

    /// 应结订单金额, in fen.
    pub fn settlement_total(&self) -> Result<Option<Fen>, Error> {
        self.amount("应结订单金额")
    }

    /// 微信退款单号.
    pub fn refund_id(&self) -> Option<&str> {
        self.text("微信退款单号")
    }

    /// 商户退款单号.
    pub fn out_refund_no(&self) -> Option<&str> {
        self.text("商户退款单号")
    }

    /// 退款金额, in fen.
    pub fn refund_amount(&self) -> Result<Option<Fen>, Error> {
        self.amount("退款金额")
    }

    /// 退款状态.
    pub fn refund_status(&self) -> Option<&str> {
        self.text("退款状态")
    }

    /// 商户数据包 (`attach`).
    pub fn attach(&self) -> Option<&str> {
        self.text("商户数据包")
    }

    /// The PayScore service order behind an automatic deduction: 商户数据包 of the form
    /// `wxzff|<微信服务单号>|<商户服务单号>` (spec part 2 §2.2). `None` for any other row.
    pub fn payscore(&self) -> Option<PayScoreRef> {
        let rest = self.attach()?.strip_prefix("wxzff|")?;
        let (order_id, out_order_no) = rest.split_once('|')?;
        if order_id.is_empty() || out_order_no.is_empty() || out_order_no.contains('|') {
            return None;
        }
        Some(PayScoreRef {
            order_id: order_id.to_owned(),
            out_order_no: out_order_no.to_owned(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    /// Before the detail header.
    Start,
    Detail,
    /// After the summary header, before its row.
    SummaryHeader,
    Done,
}

/// The rows of a bill, read a line at a time from any [`BufRead`]: detail rows from the
/// iterator, then [`BillRows::summary`]. After an error the iterator ends.
///
/// Sections are told apart by the backquote: data fields carry it, header rows do not. The
/// first line without one is the detail header; the next is the summary header, and the
/// line after it the summary row. A data row with a different number of fields from its
/// header, bytes that are not UTF-8, an unterminated quote, a line over 64 KiB, or anything
/// after the summary row are [`BillError::Malformed`]. Blank lines are skipped.
pub struct BillRows<R> {
    reader: R,
    line: u64,
    section: Section,
    detail: Option<Arc<[String]>>,
    summary_columns: Option<Arc<[String]>>,
    summary: Option<BillRow>,
    buf: Vec<u8>,
    failed: bool,
}

impl<R> fmt::Debug for BillRows<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BillRows")
            .field("line", &self.line)
            .field("columns", &self.detail)
            .finish()
    }
}

impl<R: BufRead> BillRows<R> {
    /// Rows from `reader`. For a downloaded bill use [`VerifiedBill::rows`](super::VerifiedBill::rows),
    /// which only exists once the file is verified.
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            line: 0,
            section: Section::Start,
            detail: None,
            summary_columns: None,
            summary: None,
            buf: Vec::new(),
            failed: false,
        }
    }

    /// The detail header's column names, once the first row has been asked for.
    pub fn columns(&self) -> Option<&[String]> {
        self.detail.as_deref()
    }

    /// The summary row, once the detail rows are exhausted (`None` before, or if the bill
    /// has none).
    pub fn summary(&self) -> Option<&BillRow> {
        self.summary.as_ref()
    }

    fn malformed(&self, reason: impl Into<String>) -> Error {
        BillError::Malformed {
            line: self.line,
            reason: reason.into(),
        }
        .into()
    }

    /// The next non-blank line as fields, with whether any field carried the backquote.
    fn next_fields(&mut self) -> Result<Option<(Vec<String>, bool)>, Error> {
        loop {
            self.buf.clear();
            let more = read_line(&mut self.reader, &mut self.buf).map_err(|e| match e {
                LineError::TooLong => self.malformed("line longer than 64 KiB"),
                LineError::Io(e) => {
                    Error::config(format!("cannot read the bill: {e}")).with_source(e)
                }
            })?;
            if !more {
                return Ok(None);
            }
            self.line += 1;
            let mut bytes = self.buf.as_slice();
            if self.line == 1 {
                bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            }
            while let Some(rest) = bytes
                .strip_suffix(b"\n")
                .or_else(|| bytes.strip_suffix(b"\r"))
            {
                bytes = rest;
            }
            if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            let text = std::str::from_utf8(bytes)
                .map_err(|e| self.malformed(format!("not UTF-8 at byte {}", e.valid_up_to())))?;
            let fields = split(text).ok_or_else(|| self.malformed("unterminated quote"))?;
            let mut marked = false;
            let fields = fields
                .into_iter()
                .map(|f| match f.strip_prefix('`') {
                    Some(rest) => {
                        marked = true;
                        rest.to_owned()
                    }
                    None => f,
                })
                .collect();
            return Ok(Some((fields, marked)));
        }
    }

    fn step(&mut self) -> Result<Option<BillRow>, Error> {
        loop {
            let Some((fields, marked)) = self.next_fields()? else {
                return match self.section {
                    Section::SummaryHeader => {
                        Err(self.malformed("a summary header without its row"))
                    }
                    _ => {
                        self.section = Section::Done;
                        Ok(None)
                    }
                };
            };
            match self.section {
                Section::Start => {
                    if marked {
                        return Err(self.malformed("a data row before the header row"));
                    }
                    self.detail = Some(fields.into());
                    self.section = Section::Detail;
                }
                Section::Detail if !marked => {
                    self.summary_columns = Some(fields.into());
                    self.section = Section::SummaryHeader;
                }
                Section::Detail => {
                    let columns = self.detail.clone().unwrap_or_else(|| Arc::from(Vec::new()));
                    return self.row(columns, fields).map(Some);
                }
                Section::SummaryHeader => {
                    let columns = self
                        .summary_columns
                        .clone()
                        .unwrap_or_else(|| Arc::from(Vec::new()));
                    self.summary = Some(self.row(columns, fields)?);
                    self.section = Section::Done;
                }
                Section::Done => return Err(self.malformed("a line after the summary row")),
            }
        }
    }

    fn row(&self, columns: Arc<[String]>, values: Vec<String>) -> Result<BillRow, Error> {
        if values.len() != columns.len() {
            return Err(self.malformed(format!(
                "{} fields where the header has {}",
                values.len(),
                columns.len()
            )));
        }
        Ok(BillRow {
            columns,
            values,
            line: self.line,
        })
    }
}

impl<R: BufRead> Iterator for BillRows<R> {
    type Item = Result<BillRow, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.section == Section::Done {
            return None;
        }
        match self.step() {
            Ok(row) => row.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

enum LineError {
    TooLong,
    Io(std::io::Error),
}

/// Reads up to and including the next `\n` into `out`, refusing lines over [`MAX_LINE`].
/// `false` at the end of input.
fn read_line(reader: &mut impl BufRead, out: &mut Vec<u8>) -> Result<bool, LineError> {
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(LineError::Io(e)),
        };
        if available.is_empty() {
            return Ok(!out.is_empty());
        }
        let (take, done) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if out.len() + take > MAX_LINE {
            return Err(LineError::TooLong);
        }
        out.extend_from_slice(available.get(..take).unwrap_or(&[]));
        reader.consume(take);
        if done {
            return Ok(true);
        }
    }
}

/// Splits a line on commas; a field that starts with `"` runs to its closing quote (`""`
/// inside is a quote). `None` for an unterminated quote.
fn split(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        // A backquoted field may be quoted after its backquote: `"a,b".
        let mut ahead = chars.clone();
        if ahead.next() == Some('`') && ahead.peek() == Some(&'"') {
            field.push('`');
            chars.next();
        }
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => break,
                    c => field.push(c),
                }
            }
            // Anything between the closing quote and the comma is kept as written.
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                field.push(c);
                chars.next();
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                field.push(c);
                chars.next();
            }
        }
        fields.push(field);
        match chars.next() {
            Some(',') => continue,
            _ => return Some(fields),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn split_handles_quotes_and_empties() {
        assert_eq!(split("a,,b").unwrap(), ["a", "", "b"]);
        assert_eq!(split("").unwrap(), [""]);
        assert_eq!(split(",").unwrap(), ["", ""]);
        assert_eq!(split(r#""x,y","a""b",c"#).unwrap(), ["x,y", r#"a"b"#, "c"]);
        assert_eq!(split(r#""x"z,w"#).unwrap(), ["xz", "w"]);
        assert_eq!(split(r#"`"x,y",`z"#).unwrap(), ["`x,y", "`z"]);
        assert!(split(r#"`"x"#).is_none());
        assert!(split(r#""open"#).is_none());
    }

    #[test]
    fn long_lines_are_refused_not_buffered() {
        let line = vec![b'a'; MAX_LINE + 1];
        let mut rows = BillRows::new(line.as_slice());
        let err = rows.next().unwrap().unwrap_err();
        assert!(err.to_string().contains("64 KiB"), "{err}");
        assert!(rows.next().is_none());
        // Exactly at the limit is fine (a header row).
        let mut ok = vec![b'a'; MAX_LINE - 1];
        ok.push(b'\n');
        let mut rows = BillRows::new(ok.as_slice());
        assert!(rows.next().is_none());
        assert_eq!(rows.columns().unwrap()[0].len(), MAX_LINE - 1);
    }
}
