//! Bills that arrive verified: the PayScore merchant bill (endpoint 17), the trade bill and
//! the fund-flow bill, downloaded as streams, checked, and only then parsed into rows.
//!
//! # What "verified" means here
//!
//! WeChat Pay does not sign a bill file's download (spec part 2 §2.1, §2.2: the official
//! pages say to skip response verification for it). What it signs is the reply that gives
//! the file's `hash_value` (SHA-1 of the original CSV) and, for the PayScore bill, its
//! `encrypt_key` and `nonce`. So the file is checked against that verified reply:
//!
//! 1. the body is read piece by piece ([`HttpClient::execute_streaming`](tixpay_core::HttpClient::execute_streaming));
//! 2. PayScore only: the AES-256 key is unwrapped from `encrypt_key` with the merchant's API
//!    private key (RSA-OAEP with SHA-1 and MGF1-SHA-1: **inferred**, no bill page names the
//!    padding; it is WeChat Pay's scheme for data sent under the merchant's key), and the
//!    body is decrypted with AES-256-GCM, the nonce being the bytes of the `nonce` string
//!    whatever their number (16 and 32 are seen), with empty associated data;
//! 3. if the file was asked for with `tar_type=GZIP`, it is un-gzipped;
//! 4. the SHA-1 of the result is compared with `hash_value` (hex, case-insensitive).
//!
//! A GCM tag that fails, a gzip stream that is corrupt or cut short, or a hash that differs
//! is an error, and **no row of that file is returned**: rows are parsed only from a
//! [`VerifiedBill`], which exists only once every check of every file has passed.
//!
//! # Bounded memory: verify first, then parse
//!
//! A file can be gigabytes, and its hash is only known at its end. Returning rows while
//! reading would hand out unverified data; holding the file in memory would not scale. So
//! the download writes the decrypted, decompressed text to a [`Spool`] (a temporary file by
//! default, or one of yours) while hashing it, in pieces of at most 64 KiB; when the checks
//! pass, [`VerifiedBill::rows`] reads the spool back a line at a time. Memory stays constant
//! whatever the file's size ([`DownloadStats::peak_buffered_bytes`] reports it); the disk
//! holds one copy of the plaintext, removed when the [`VerifiedBill`] (or a failed download)
//! is dropped.
//!
//! ```no_run
//! use tixpay_wechat_payscore::bill::{BillType, Spool, TradeBillRequest};
//! use tixpay_wechat_payscore::Client;
//!
//! # async fn run(client: Client) -> Result<(), tixpay_core::Error> {
//! let bill = client
//!     .trade_bill(&TradeBillRequest::new("2024-05-01").bill_type(BillType::Success))
//!     .await?;
//! let verified = client.download_bill(&bill, Spool::temp_file()?).await?;
//! let mut rows = verified.rows()?;
//! for row in rows.by_ref() {
//!     let row = row?;
//!     println!(
//!         "{:?} {:?} {:?}",
//!         row.out_trade_no(),
//!         row.settlement_total()?,
//!         row.payscore().map(|p| p.out_order_no)
//!     );
//! }
//! println!("summary: {:?}", rows.summary().and_then(|s| s.get("总交易单数")));
//! # Ok(()) }
//! ```

mod csv;
pub(crate) mod pipeline;

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tixpay_core::{Error, SignatureSubject, validate};

pub use csv::{BillRow, BillRows, PayScoreRef};

/// 账单类型 `bill_type` of the trade bill.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BillType {
    /// `ALL`: every order of the day (the default).
    All,
    /// `SUCCESS`: paid orders.
    Success,
    /// `REFUND`: refunds.
    Refund,
    /// `RECHARGE_REFUND`: refunds of recharge coupons.
    RechargeRefund,
    /// `ALL_SPECIAL`: every order, special-rate format.
    AllSpecial,
    /// `SUC_SPECIAL`: paid orders, special-rate format.
    SucSpecial,
    /// `REF_SPECIAL`: refunds, special-rate format.
    RefSpecial,
    /// A value the documents do not list, kept as written.
    Unknown(String),
}

impl BillType {
    /// The value on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::All => "ALL",
            Self::Success => "SUCCESS",
            Self::Refund => "REFUND",
            Self::RechargeRefund => "RECHARGE_REFUND",
            Self::AllSpecial => "ALL_SPECIAL",
            Self::SucSpecial => "SUC_SPECIAL",
            Self::RefSpecial => "REF_SPECIAL",
            Self::Unknown(s) => s,
        }
    }

    /// Reads a wire value.
    pub fn parse(s: &str) -> Self {
        match s {
            "ALL" => Self::All,
            "SUCCESS" => Self::Success,
            "REFUND" => Self::Refund,
            "RECHARGE_REFUND" => Self::RechargeRefund,
            "ALL_SPECIAL" => Self::AllSpecial,
            "SUC_SPECIAL" => Self::SucSpecial,
            "REF_SPECIAL" => Self::RefSpecial,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

/// 资金账户类型 `account_type` of the fund-flow bill.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AccountType {
    /// `BASIC`: the basic account (the default).
    Basic,
    /// `OPERATION`: the operation account.
    Operation,
    /// `FEES`: the fees account.
    Fees,
    /// A value the documents do not list, kept as written.
    Unknown(String),
}

impl AccountType {
    /// The value on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Basic => "BASIC",
            Self::Operation => "OPERATION",
            Self::Fees => "FEES",
            Self::Unknown(s) => s,
        }
    }

    /// Reads a wire value.
    pub fn parse(s: &str) -> Self {
        match s {
            "BASIC" => Self::Basic,
            "OPERATION" => Self::Operation,
            "FEES" => Self::Fees,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

tixpay_core::wire_text_serde!(BillType, AccountType);

/// `GET /v3/bill/tradebill`: apply for the trade bill of one day.
///
/// ```
/// use tixpay_wechat_payscore::bill::{BillType, TradeBillRequest};
/// let request = TradeBillRequest::new("2024-05-01").bill_type(BillType::Refund);
/// assert_eq!(request.bill_date, "2024-05-01");
/// assert!(request.gzip, "GZIP unless said otherwise");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TradeBillRequest {
    /// `bill_date`, `yyyy-MM-dd` (the last 3 months).
    pub bill_date: String,
    /// `bill_type`; not sent when `None` (WeChat Pay then uses `ALL`).
    pub bill_type: Option<BillType>,
    /// Whether to ask for the file gzipped (`tar_type=GZIP`, the default).
    pub gzip: bool,
}

impl TradeBillRequest {
    /// The bill of `bill_date` (`yyyy-MM-dd`), all orders, gzipped.
    pub fn new(bill_date: impl Into<String>) -> Self {
        Self {
            bill_date: bill_date.into(),
            bill_type: None,
            gzip: true,
        }
    }

    /// Which orders (`bill_type`).
    #[must_use]
    pub fn bill_type(mut self, bill_type: BillType) -> Self {
        self.bill_type = Some(bill_type);
        self
    }

    /// Whether to ask for a gzipped file (default `true`).
    #[must_use]
    pub fn gzip(mut self, gzip: bool) -> Self {
        self.gzip = gzip;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_date(&self.bill_date)?;
        if let Some(BillType::Unknown(v)) = &self.bill_type {
            validate::required("bill_type", v, 32)?;
        }
        Ok(())
    }
}

/// `GET /v3/bill/fundflowbill`: apply for the fund-flow bill of one day.
///
/// ```
/// use tixpay_wechat_payscore::bill::{AccountType, FundFlowBillRequest};
/// let request = FundFlowBillRequest::new("2024-05-01").account_type(AccountType::Operation);
/// assert_eq!(request.account_type, Some(AccountType::Operation));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FundFlowBillRequest {
    /// `bill_date`, `yyyy-MM-dd`.
    pub bill_date: String,
    /// `account_type`; not sent when `None` (WeChat Pay then uses `BASIC`).
    pub account_type: Option<AccountType>,
    /// Whether to ask for the file gzipped (`tar_type=GZIP`, the default).
    pub gzip: bool,
}

impl FundFlowBillRequest {
    /// The fund flow of `bill_date` (`yyyy-MM-dd`), basic account, gzipped.
    pub fn new(bill_date: impl Into<String>) -> Self {
        Self {
            bill_date: bill_date.into(),
            account_type: None,
            gzip: true,
        }
    }

    /// Which account (`account_type`).
    #[must_use]
    pub fn account_type(mut self, account_type: AccountType) -> Self {
        self.account_type = Some(account_type);
        self
    }

    /// Whether to ask for a gzipped file (default `true`).
    #[must_use]
    pub fn gzip(mut self, gzip: bool) -> Self {
        self.gzip = gzip;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_date(&self.bill_date)?;
        if let Some(AccountType::Unknown(v)) = &self.account_type {
            validate::required("account_type", v, 32)?;
        }
        Ok(())
    }
}

fn check_date(date: &str) -> Result<(), Error> {
    if date.len() != 10 || tixpay_core::datetime::parse_ymd(date).is_none() {
        return Err(Error::invalid_request("bill_date", "must be yyyy-MM-dd"));
    }
    Ok(())
}

/// The verified reply of a trade- or fund-flow-bill application: where the file is and
/// the hash it must have. The URL is short-lived (30 s for trade bills; 30 s or 5 min for
/// fund-flow bills, the documents disagree): download at once, and apply again rather than
/// retry a stale URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BillDownload {
    /// `hash_type` (`SHA1`).
    pub hash_type: String,
    /// `hash_value`: SHA-1 of the original (un-gzipped) file, hex.
    pub hash_value: String,
    /// `download_url`.
    pub download_url: String,
    /// Whether the file was asked for gzipped (not on the wire: set from the request).
    #[serde(skip)]
    pub gzip: bool,
}

/// Where a bill's plaintext waits, outside memory, until its checks pass.
///
/// [`Spool::temp_file`] is the usual choice. [`Spool::file`] writes into a file of yours
/// (it is truncated first, and truncated again if the download fails, so that it never
/// holds unverified text afterwards). [`Spool::memory`] keeps it in memory up to a limit,
/// for small bills and tests.
///
/// ```
/// use tixpay_wechat_payscore::bill::Spool;
/// let spool = Spool::memory(1 << 20);
/// assert_eq!(spool.len(), 0);
/// ```
pub struct Spool {
    store: Store,
    len: u64,
}

enum Store {
    Temp { file: File, path: PathBuf },
    File(File),
    Memory { buf: Vec<u8>, limit: usize },
}

impl fmt::Debug for Spool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.store {
            Store::Temp { .. } => "temp file",
            Store::File(_) => "file",
            Store::Memory { .. } => "memory",
        };
        f.debug_struct("Spool")
            .field("kind", &kind)
            .field("len", &self.len)
            .finish()
    }
}

impl Spool {
    /// A new file in the system's temporary directory, readable by this user only, removed
    /// when the spool (or the [`VerifiedBill`] holding it) is dropped.
    pub fn temp_file() -> Result<Self, Error> {
        Self::temp_file_in(std::env::temp_dir())
    }

    /// A new temporary file in `dir`, removed when dropped.
    pub fn temp_file_in(dir: impl AsRef<Path>) -> Result<Self, Error> {
        let mut last = None;
        for _ in 0..8 {
            let name = format!(
                "tixpay-bill-{}.csv",
                tixpay_core::nonce::random_alphanumeric(16)?
            );
            let path = dir.as_ref().join(name);
            let mut options = OpenOptions::new();
            options.read(true).write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(0o600);
            }
            match options.open(&path) {
                Ok(file) => {
                    return Ok(Self {
                        store: Store::Temp { file, path },
                        len: 0,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(spool_error(e)),
            }
        }
        Err(spool_error(
            last.unwrap_or_else(|| io::Error::other("no free name")),
        ))
    }

    /// Your file, opened for reading and writing. It is truncated before the download and
    /// after a failed one.
    pub fn file(file: File) -> Self {
        Self {
            store: Store::File(file),
            len: 0,
        }
    }

    /// In memory, refusing more than `limit` bytes of plaintext (a download that would
    /// exceed it fails). For small bills and tests: a day's bill can be large.
    pub fn memory(limit: usize) -> Self {
        Self {
            store: Store::Memory {
                buf: Vec::new(),
                limit,
            },
            len: 0,
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Empties the spool for a new download.
    pub(crate) fn reset(&mut self) -> io::Result<()> {
        self.len = 0;
        match &mut self.store {
            Store::Temp { file, .. } | Store::File(file) => {
                file.set_len(0)?;
                file.seek(SeekFrom::Start(0)).map(|_| ())
            }
            Store::Memory { buf, .. } => {
                buf.clear();
                Ok(())
            }
        }
    }

    /// Appends plaintext (at most 64 KiB at a time, from the pipeline).
    pub(crate) fn append(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.store {
            Store::Temp { file, .. } | Store::File(file) => file.write_all(data)?,
            Store::Memory { buf, limit } => {
                if buf.len().saturating_add(data.len()) > *limit {
                    return Err(io::Error::other(format!(
                        "the bill is larger than the in-memory spool's limit of {limit} bytes"
                    )));
                }
                buf.extend_from_slice(data);
            }
        }
        self.len = self.len.saturating_add(data.len() as u64);
        Ok(())
    }

    /// Rewinds for reading.
    fn into_reader(mut self) -> io::Result<SpoolReader> {
        match &mut self.store {
            Store::Temp { file, .. } | Store::File(file) => {
                file.flush()?;
                file.seek(SeekFrom::Start(0))?;
            }
            Store::Memory { .. } => {}
        }
        Ok(SpoolReader {
            spool: self,
            pos: 0,
        })
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if let Store::Temp { path, .. } = &self.store {
            // Best effort: the file is ours and holds nothing a retry needs.
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The verified plaintext of a bill, read from its [`Spool`] (see
/// [`VerifiedBill::into_reader`]). A temporary spool is removed when this is dropped.
#[derive(Debug)]
pub struct SpoolReader {
    spool: Spool,
    pos: usize,
}

impl Read for SpoolReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match &mut self.spool.store {
            Store::Temp { file, .. } | Store::File(file) => file.read(out),
            Store::Memory { buf, .. } => {
                let rest = buf.get(self.pos..).unwrap_or(&[]);
                let n = rest.len().min(out.len());
                if let (Some(dst), Some(src)) = (out.get_mut(..n), rest.get(..n)) {
                    dst.copy_from_slice(src);
                }
                self.pos += n;
                Ok(n)
            }
        }
    }
}

fn spool_error(e: io::Error) -> Error {
    Error::config(format!("cannot use the bill spool: {e}")).with_source(e)
}

/// One file of a bill that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedFile {
    /// `bill_sequence` (1 for a trade or fund-flow bill).
    pub sequence: u32,
    /// The SHA-1 that matched `hash_value`, lower-case hex.
    pub sha1: String,
    /// Bytes downloaded (ciphertext and tag, or the gzip stream, or the text).
    pub downloaded_bytes: u64,
    /// Bytes of verified text.
    pub plaintext_bytes: u64,
}

/// How a download used memory and bandwidth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct DownloadStats {
    /// The most bytes the pipeline held in memory at once: the network piece being
    /// processed, the decryption buffer, the gzip window and output buffer. Independent of
    /// the file's size.
    pub peak_buffered_bytes: usize,
    /// Bytes downloaded over all files.
    pub downloaded_bytes: u64,
    /// Bytes of verified text over all files.
    pub plaintext_bytes: u64,
}

/// A bill whose every file passed its checks, its text waiting in a [`Spool`]. Only this
/// gives rows.
#[derive(Debug)]
pub struct VerifiedBill {
    spool: Spool,
    files: Vec<VerifiedFile>,
    stats: DownloadStats,
}

impl VerifiedBill {
    pub(crate) fn new(spool: Spool, files: Vec<VerifiedFile>, stats: DownloadStats) -> Self {
        Self {
            spool,
            files,
            stats,
        }
    }

    /// The files, in `bill_sequence` order.
    pub fn files(&self) -> &[VerifiedFile] {
        &self.files
    }

    /// Memory and bandwidth used.
    pub fn stats(&self) -> DownloadStats {
        self.stats
    }

    /// The verified text (the files' texts concatenated in `bill_sequence` order), as a
    /// reader: to store the CSV as it is, or parse it your own way.
    pub fn into_reader(self) -> Result<SpoolReader, Error> {
        self.spool.into_reader().map_err(spool_error)
    }

    /// The rows: the detail rows as an iterator, then the summary row
    /// ([`BillRows::summary`]). Reads the spool a line at a time.
    pub fn rows(self) -> Result<BillRows<BufReader<SpoolReader>>, Error> {
        let reader = self.into_reader()?;
        Ok(BillRows::new(BufReader::with_capacity(64 * 1024, reader)))
    }
}

/// Why a bill could not be verified or parsed, kept as the source of the [`Error`] a bill
/// call returns (`err.source()` downcasts to it), so that callers can tell a tampered file
/// from a network failure.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BillError {
    /// The SHA-1 of the file's text differs from `hash_value`.
    HashMismatch {
        /// `bill_sequence`.
        sequence: u32,
        /// The digest WeChat Pay's verified reply gave.
        expected: String,
        /// The digest of what arrived.
        found: String,
    },
    /// AES-GCM decryption failed: tampered or truncated ciphertext, a wrong nonce or key.
    Decrypt {
        /// `bill_sequence`.
        sequence: u32,
    },
    /// The `encrypt_key` could not be unwrapped with the merchant's private key.
    KeyUnwrap {
        /// `bill_sequence`.
        sequence: u32,
    },
    /// The gzip stream is corrupt or cut short.
    Gzip {
        /// `bill_sequence`.
        sequence: u32,
        /// What the decoder said.
        reason: String,
    },
    /// The bill's description is not usable (a missing field, an unsupported hash or
    /// algorithm, chunks out of order or missing).
    Description(String),
    /// A line of the CSV is malformed.
    Malformed {
        /// The line number (1-based, over the whole bill).
        line: u64,
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for BillError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HashMismatch {
                sequence,
                expected,
                found,
            } => write!(
                f,
                "bill file {sequence}: SHA-1 {found} is not the hash_value {expected}"
            ),
            Self::Decrypt { sequence } => write!(
                f,
                "bill file {sequence}: AES-GCM decryption failed (tampered, truncated, or wrong key or nonce)"
            ),
            Self::KeyUnwrap { sequence } => write!(
                f,
                "bill file {sequence}: encrypt_key does not decrypt with the merchant private key"
            ),
            Self::Gzip { sequence, reason } => {
                write!(f, "bill file {sequence}: gzip stream is corrupt: {reason}")
            }
            Self::Description(why) => write!(f, "bill description unusable: {why}"),
            Self::Malformed { line, reason } => write!(f, "bill line {line}: {reason}"),
        }
    }
}

impl std::error::Error for BillError {}

impl From<BillError> for Error {
    fn from(e: BillError) -> Self {
        let message = e.to_string();
        let err = match &e {
            // The file is not what the verified reply describes: it is not trusted.
            BillError::HashMismatch { .. } | BillError::Decrypt { .. } | BillError::Gzip { .. } => {
                Error::signature(SignatureSubject::Response, message)
            }
            BillError::KeyUnwrap { .. } => Error::config(message),
            BillError::Description(_) | BillError::Malformed { .. } => {
                Error::decode(None, b"", None, message)
            }
        };
        err.with_source(e)
    }
}

/// The [`BillError`] behind an error from a bill call, if there is one.
///
/// ```
/// use tixpay_wechat_payscore::bill::{BillError, bill_error};
/// let err: tixpay_core::Error = BillError::Decrypt { sequence: 1 }.into();
/// assert_eq!(bill_error(&err), Some(&BillError::Decrypt { sequence: 1 }));
/// ```
pub fn bill_error(err: &Error) -> Option<&BillError> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(s) = source {
        if let Some(bill) = s.downcast_ref::<BillError>() {
            return Some(bill);
        }
        source = s.source();
    }
    None
}
