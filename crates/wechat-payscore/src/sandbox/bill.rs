//! The sandbox's bills, built from its own orders: endpoint 17 (each file gzipped when
//! asked, sealed with AES-256-GCM under a fresh key wrapped for the merchant's public key
//! with RSA-OAEP-SHA1, nonces of 32 and 16 characters), the trade bill and the fund-flow
//! bill, each downloaded from the sandbox's own `/v3/billdownload/file?token=…`.
//!
//! Every row comes from a [`TradeLine`]: a paid PayScore deduction is an `AUTH` row whose
//! 商户数据包 is `wxzff|<order_id>|<out_order_no>`. A refund is one more constructor of
//! [`TradeLine`] and one more source in [`day_lines`].

use bytes::Bytes;
use http::StatusCode;
use serde_json::{Value, json};
use tixpay_core::crypto::{base64, gcm, hex, sha1};
use tixpay_core::sandbox::{SandboxRequest, SandboxResponse};
use tixpay_core::{Clock, Fen, datetime};

use super::{SANDBOX_MCHID, Simulator, State, sandbox_random};

/// The detail columns of a trade bill (spec part 2 §2.2, the v2 layout).
const DETAIL: [&str; 27] = [
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
];

const SUMMARY: [&str; 7] = [
    "总交易单数",
    "应结订单总金额",
    "退款总金额",
    "充值券退款总金额",
    "手续费总金额",
    "订单总金额",
    "申请退款总金额",
];

/// How long a download token is valid, in the sandbox's seconds (trade bills: 30 s).
const TOKEN_SECONDS: i64 = 30;

/// Download tokens issued and not yet expired.
#[derive(Default)]
pub(super) struct Bills {
    tokens: std::collections::BTreeMap<String, (Bytes, i64)>,
}

/// One detail row of the trade bill.
pub(super) struct TradeLine {
    time: i64,
    appid: String,
    transaction_id: String,
    out_trade_no: String,
    openid: String,
    trade_type: &'static str,
    trade_state: &'static str,
    amount: u64,
    refund_id: String,
    out_refund_no: String,
    refund_amount: u64,
    refund_status: String,
    product: String,
    attach: String,
    service_id: String,
}

impl TradeLine {
    /// The deductions of a collected order (`paid_type` `NEWTON`): `AUTH` rows whose
    /// 商户订单号 WeChat Pay generates and whose 商户数据包 names the service order.
    fn payments(order: &Value) -> Vec<Self> {
        let Some(details) = order["collection"]["details"].as_array() else {
            return Vec::new();
        };
        details
            .iter()
            .filter(|d| d["paid_type"] == "NEWTON")
            .filter_map(|d| {
                let time = datetime::parse_compact(d["paid_time"].as_str()?, datetime::CST)?;
                let order_id = order["order_id"].as_str().unwrap_or_default();
                Some(Self {
                    time,
                    appid: order["appid"].as_str().unwrap_or_default().to_owned(),
                    transaction_id: d["transaction_id"].as_str().unwrap_or_default().to_owned(),
                    out_trade_no: format!("{order_id}{:02}", d["seq"].as_u64().unwrap_or(1)),
                    openid: order["openid"].as_str().unwrap_or_default().to_owned(),
                    trade_type: "AUTH",
                    trade_state: "SUCCESS",
                    amount: d["amount"].as_u64().unwrap_or(0),
                    refund_id: "0".into(),
                    out_refund_no: "0".into(),
                    refund_amount: 0,
                    refund_status: String::new(),
                    product: order["service_introduction"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    attach: format!(
                        "wxzff|{order_id}|{}",
                        order["out_order_no"].as_str().unwrap_or_default()
                    ),
                    service_id: order["service_id"].as_str().unwrap_or_default().to_owned(),
                })
            })
            .collect()
    }

    fn fields(&self) -> [String; 27] {
        let yuan = |fen: u64| Fen::new(fen).to_yuan_string();
        let requested_refund = yuan(self.refund_amount);
        [
            datetime::format_local(self.time, datetime::CST),
            self.appid.clone(),
            SANDBOX_MCHID.to_owned(),
            String::new(),
            String::new(),
            self.transaction_id.clone(),
            self.out_trade_no.clone(),
            self.openid.clone(),
            self.trade_type.to_owned(),
            self.trade_state.to_owned(),
            "OTHERS".into(),
            "CNY".into(),
            yuan(self.amount),
            yuan(0),
            self.refund_id.clone(),
            self.out_refund_no.clone(),
            yuan(self.refund_amount),
            yuan(0),
            String::new(),
            self.refund_status.clone(),
            self.product.clone(),
            self.attach.clone(),
            yuan(0),
            "0.60%".into(),
            yuan(self.amount),
            requested_refund,
            String::new(),
        ]
    }
}

/// Every row of `date` (`yyyy-MM-dd`, China time), in time order.
fn day_lines(state: &State, date: &str) -> Vec<TradeLine> {
    let mut lines: Vec<TradeLine> = state
        .orders
        .values()
        .flat_map(TradeLine::payments)
        .filter(|l| datetime::format_local(l.time, datetime::CST).starts_with(date))
        .collect();
    lines.sort_by_key(|l| l.time);
    lines
}

/// A field as the bill writes it: backquoted, quoted if it holds a comma or a quote.
fn cell(value: &str) -> String {
    if value.contains([',', '"', '\n']) {
        format!("`\"{}\"", value.replace('"', "\"\""))
    } else {
        format!("`{value}")
    }
}

fn trade_csv(lines: &[TradeLine]) -> String {
    let mut out = DETAIL.join(",");
    out.push('\n');
    let (mut total, mut refunds) = (0u64, 0u64);
    for line in lines {
        total = total.saturating_add(line.amount);
        refunds = refunds.saturating_add(line.refund_amount);
        let row: Vec<String> = line.fields().iter().map(|f| cell(f)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out.push_str(&SUMMARY.join(","));
    out.push('\n');
    let yuan = |fen: u64| cell(&Fen::new(fen).to_yuan_string());
    let summary = [
        cell(&lines.len().to_string()),
        yuan(total),
        yuan(refunds),
        yuan(0),
        yuan(0),
        yuan(total),
        yuan(refunds),
    ];
    out.push_str(&summary.join(","));
    out.push('\n');
    out
}

/// The fund flow: one income row per deduction. Its real columns are not documented; these
/// are illustrative.
fn fund_csv(lines: &[TradeLine]) -> String {
    let mut out = String::from(
        "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号\n",
    );
    let mut balance = 0u64;
    for (i, line) in lines.iter().enumerate() {
        balance = balance.saturating_add(line.amount);
        let row = [
            datetime::format_local(line.time, datetime::CST),
            line.transaction_id.clone(),
            format!("FF{:010}", i + 1),
            "交易".into(),
            "交易".into(),
            "收入".into(),
            Fen::new(line.amount).to_yuan_string(),
            Fen::new(balance).to_yuan_string(),
            "system".into(),
            String::new(),
            line.out_trade_no.clone(),
        ];
        let row: Vec<String> = row.iter().map(|f| cell(f)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out.push_str("资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\n");
    out.push_str(&format!(
        "`{},`{},`{},`0,`0.00\n",
        lines.len(),
        lines.len(),
        Fen::new(balance).to_yuan_string()
    ));
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

impl Simulator {
    fn bill_date(&self, request: &SandboxRequest) -> Result<String, SandboxResponse> {
        let date = request.query_param("bill_date").unwrap_or_default();
        if date.len() != 10 || datetime::parse_ymd(&date).is_none() {
            return Err(self.error(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "bill_date格式错误",
                None,
            ));
        }
        Ok(date)
    }

    /// A token for `body` and its URL on this server.
    fn issue(&self, request: &SandboxRequest, body: Vec<u8>) -> String {
        let token = sandbox_random(32);
        let now = self.options.clock.now_seconds();
        self.state.with(|s| {
            s.bills
                .tokens
                .insert(token.clone(), (Bytes::from(body), now));
        });
        let host = request.header("host").unwrap_or("127.0.0.1");
        format!("http://{host}/v3/billdownload/file?token={token}")
    }

    fn lines(&self, date: &str) -> Vec<TradeLine> {
        self.state.with(|s| day_lines(s, date))
    }

    /// `GET /v3/bill/tradebill`.
    pub(super) fn trade_bill(&self, request: &SandboxRequest) -> SandboxResponse {
        let date = match self.bill_date(request) {
            Ok(d) => d,
            Err(r) => return r,
        };
        let kind = request
            .query_param("bill_type")
            .unwrap_or_else(|| "ALL".into());
        let lines: Vec<TradeLine> = self
            .lines(&date)
            .into_iter()
            .filter(|l| match kind.as_str() {
                "ALL" => true,
                "SUCCESS" => l.trade_state == "SUCCESS",
                "REFUND" => l.trade_state == "REFUND",
                _ => false,
            })
            .collect();
        self.plain_bill(request, trade_csv(&lines))
    }

    /// `GET /v3/bill/fundflowbill`.
    pub(super) fn fund_flow_bill(&self, request: &SandboxRequest) -> SandboxResponse {
        let date = match self.bill_date(request) {
            Ok(d) => d,
            Err(r) => return r,
        };
        let account = request
            .query_param("account_type")
            .unwrap_or_else(|| "BASIC".into());
        let lines = if account == "BASIC" {
            self.lines(&date)
        } else {
            Vec::new()
        };
        self.plain_bill(request, fund_csv(&lines))
    }

    fn plain_bill(&self, request: &SandboxRequest, text: String) -> SandboxResponse {
        let hash = hex::encode_lower(sha1(text.as_bytes()));
        let body = if request.query_param("tar_type").as_deref() == Some("GZIP") {
            gzip(text.as_bytes())
        } else {
            text.into_bytes()
        };
        let url = self.issue(request, body);
        self.signed(
            StatusCode::OK,
            json!({"hash_type": "SHA1", "hash_value": hash, "download_url": url}).to_string(),
        )
    }

    /// `GET /v3/payscore/merchant-bill` (endpoint 17): the PayScore rows of the service,
    /// split into files of [`SandboxOptions::bill_chunk_bytes`](super::SandboxOptions::bill_chunk_bytes).
    pub(super) fn merchant_bill(&self, request: &SandboxRequest) -> SandboxResponse {
        let date = match self.bill_date(request) {
            Ok(d) => d,
            Err(r) => return r,
        };
        let service_id = request.query_param("service_id").unwrap_or_default();
        if service_id != super::SANDBOX_SERVICE_ID {
            return self.error(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "service_id错误",
                None,
            );
        }
        if request.query_param("encryption_algorithm").as_deref() != Some("AEAD_AES_256_GCM") {
            return self.error(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "encryption_algorithm错误",
                None,
            );
        }
        let gzipped = request.query_param("tar_type").as_deref() == Some("GZIP");
        let lines: Vec<TradeLine> = self
            .lines(&date)
            .into_iter()
            .filter(|l| l.service_id == service_id)
            .collect();
        let text = trade_csv(&lines);
        let size = self.options.bill_chunk_bytes.unwrap_or(usize::MAX).max(1);
        let mut files = Vec::new();
        for (i, part) in text.as_bytes().chunks(size).enumerate() {
            let sequence = i + 1;
            let Some(file) = self.sealed_file(request, sequence, part, gzipped) else {
                return self.error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "SYSTEM_ERROR",
                    "sandbox could not seal the bill",
                    None,
                );
            };
            files.push(file);
        }
        self.signed(
            StatusCode::OK,
            json!({"download_bill_count": files.len(), "download_bill_list": files}).to_string(),
        )
    }

    /// One file of endpoint 17: gzip (if asked), AES-256-GCM under a fresh key, the key
    /// wrapped for the merchant.
    fn sealed_file(
        &self,
        request: &SandboxRequest,
        sequence: usize,
        part: &[u8],
        gzipped: bool,
    ) -> Option<Value> {
        let mut key = [0u8; 32];
        tixpay_core::crypto::fill_random(&mut key).ok()?;
        // Both nonce lengths the documents show: 32 characters, then 16.
        let nonce = sandbox_random(if sequence % 2 == 1 { 32 } else { 16 });
        let body = if gzipped { gzip(part) } else { part.to_vec() };
        let sealed = gcm::seal(&key, nonce.as_bytes(), b"", &body).ok()?;
        let wrapped = self.merchant_public.encrypt_oaep_sha1(&key).ok()?;
        let url = self.issue(request, sealed);
        Some(json!({
            "bill_sequence": sequence,
            "hash_type": "SHA1",
            "hash_value": hex::encode_upper(sha1(part)),
            "download_url": url,
            "encrypt_key": base64::encode(wrapped),
            "nonce": nonce,
        }))
    }

    /// `GET /v3/billdownload/file?token=…`: the file, unsigned, as WeChat Pay sends it. An
    /// unknown or expired token is `400 INVALID_REQUEST`.
    pub(super) fn bill_file(&self, request: &SandboxRequest) -> SandboxResponse {
        let token = request.query_param("token").unwrap_or_default();
        let now = self.options.clock.now_seconds();
        let file = self.state.with(|s| {
            s.bills
                .tokens
                .retain(|_, (_, issued)| now - *issued <= TOKEN_SECONDS);
            s.bills.tokens.get(&token).map(|(body, _)| body.clone())
        });
        match file {
            Some(body) => SandboxResponse::new(StatusCode::OK)
                .header("content-type", "application/octet-stream")
                .body(body),
            None => self.error(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "下载链接已失效，请重新申请",
                None,
            ),
        }
    }

    /// Forgets every download token (the URLs expire).
    pub(super) fn expire_bill_urls(&self) {
        self.state.with(|s| s.bills.tokens.clear());
    }
}
