//! Bills that arrive verified: the exact requests of the applications and downloads
//! (Authorization over the path and query), every check of a file failing on its own with
//! no row returned, bounded memory on a multi-MiB bill, the CSV's edge cases, and the
//! sandbox's bills reconciled against the orders it collected.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read as _, Write as _};
use std::sync::Arc;

use tixpay_core::crypto::{RsaPrivateKey, base64, gcm, hex, sha1};
use tixpay_core::test_util::{fixed_clock_client, mock_server};
use tixpay_core::{ErrorKind, FixedClock, FixedNonce, Secret};
use tixpay_wechat_payscore::auth::{request_message, sign_response};
use tixpay_wechat_payscore::bill::{
    AccountType, BillError, BillRows, BillType, FundFlowBillRequest, Spool, TradeBillRequest,
    bill_error,
};
use tixpay_wechat_payscore::*;
use wiremock::matchers::{method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

const NOW: i64 = 1_700_000_000;
const NONCE: &str = "A1B2C3D4E5F6G7";
const MERCHANT_KEY: &str = include_str!("../../core/tests/fixtures/w1_private_key.pem");
const PLATFORM_KEY: &str = include_str!("../sandbox-keys/platform_a.key");
const PUB_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000TEST";

fn platform() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(PLATFORM_KEY).unwrap()
}

fn merchant() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(MERCHANT_KEY).unwrap()
}

fn client(server: &MockServer) -> Client {
    let config = Config::new(
        "1234567890",
        MERCHANT_KEY,
        "0123456789ABC",
        Secret::new("a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb"),
    )
    .unwrap()
    .wechatpay_public_key(PUB_KEY_ID, &platform().public_key().unwrap().to_spki_pem())
    .unwrap()
    .base_url(server.uri())
    .clock(Arc::new(FixedClock::from_seconds(NOW)))
    .nonce_source(Arc::new(FixedNonce::new(NONCE)));
    let http = fixed_clock_client(NOW, &tixpay_core::retry::InstantSleep::default()).unwrap();
    Client::with_http_client(config, http)
}

/// The Authorization header: fixed fields, and an RSA signature over the message rebuilt
/// from the request as received (method, path and query, empty body).
struct SignedByMerchant;

impl Match for SignedByMerchant {
    fn matches(&self, request: &Request) -> bool {
        let Some(header) = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let prefix = format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"1234567890\",nonce_str=\"{NONCE}\",timestamp=\"{NOW}\",serial_no=\"0123456789ABC\",signature=\""
        );
        let Some(sig) = header
            .strip_prefix(&prefix)
            .and_then(|s| s.strip_suffix('"'))
        else {
            return false;
        };
        let canonical = match request.url.query() {
            Some(q) => format!("{}?{q}", request.url.path()),
            None => request.url.path().to_owned(),
        };
        let message = request_message(request.method.as_str(), &canonical, NOW, NONCE, b"");
        let key = merchant().public_key().unwrap();
        request.body.is_empty()
            && base64::decode(sig).is_ok_and(|s| key.verify_sha256(&message, &s).is_ok())
    }
}

struct Query(String);

impl Match for Query {
    fn matches(&self, request: &Request) -> bool {
        request.url.query() == Some(self.0.as_str())
    }
}

fn signed(status: u16, body: &str) -> ResponseTemplate {
    let sig = sign_response(&platform(), NOW, "N1", body.as_bytes()).unwrap();
    ResponseTemplate::new(status)
        .insert_header("wechatpay-timestamp", NOW.to_string().as_str())
        .insert_header("wechatpay-nonce", "N1")
        .insert_header("wechatpay-signature", sig.as_str())
        .insert_header("wechatpay-serial", PUB_KEY_ID)
        .set_body_raw(body.to_owned(), "application/json")
}

/// A bill file as WeChat Pay sends it: raw bytes, no signature headers.
fn file(bytes: Vec<u8>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(bytes, "application/octet-stream")
}

async fn expect_get(server: &MockServer, p: &str, query: &str, reply: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(p))
        .and(Query(query.to_owned()))
        .and(SignedByMerchant)
        .respond_with(reply)
        .expect(1)
        .mount(server)
        .await;
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

const TRADE_CSV: &str = "交易时间,公众账号ID,商户号,微信订单号,商户订单号,交易类型,交易状态,应结订单金额,微信退款单号,商户退款单号,退款金额,退款状态,商户数据包\n\
`2024-05-01 10:00:00,`wx1,`1234567890,`4200000001,`RENT-7,`JSAPI,`SUCCESS,`0.01,`0,`0,`0.00,`,`\n\
`2024-05-01 11:30:00,`wx1,`1234567890,`4200000002,`100000000000000101,`AUTH,`SUCCESS,`12.3,`0,`0,`0.00,`,`wxzff|1000000000000001|RENT-8\n\
`2024-05-01 12:00:00,`wx1,`1234567890,`4200000001,`RENT-7,`JSAPI,`REFUND,`0.00,`50300001,`REF-1,`0.01,`SUCCESS,`\n\
总交易单数,应结订单总金额,退款总金额\n\
`3,`12.31,`0.01\n";

fn hash_of(text: &[u8]) -> String {
    hex::encode_upper(sha1(text))
}

#[tokio::test]
async fn trade_bill_apply_and_download() {
    let server = mock_server().await;
    let c = client(&server);
    let url = format!(
        "{}/v3/billdownload/file?token=T1&tartype=gzip",
        server.uri()
    );
    let reply = format!(
        r#"{{"hash_type":"SHA1","hash_value":"{}","download_url":"{url}"}}"#,
        hash_of(TRADE_CSV.as_bytes())
    );
    expect_get(
        &server,
        "/v3/bill/tradebill",
        "bill_date=2024-05-01&bill_type=SUCCESS&tar_type=GZIP",
        signed(200, &reply),
    )
    .await;
    expect_get(
        &server,
        "/v3/billdownload/file",
        "token=T1&tartype=gzip",
        file(gz(TRADE_CSV.as_bytes())),
    )
    .await;
    let bill = c
        .trade_bill(&TradeBillRequest::new("2024-05-01").bill_type(BillType::Success))
        .await
        .unwrap();
    assert!(bill.gzip);
    assert_eq!(bill.download_url, url);
    let verified = c
        .download_bill(&bill, Spool::temp_file().unwrap())
        .await
        .unwrap();
    assert_eq!(verified.files().len(), 1);
    assert_eq!(
        verified.files()[0].sha1,
        hash_of(TRADE_CSV.as_bytes()).to_lowercase()
    );
    assert_eq!(verified.stats().plaintext_bytes, TRADE_CSV.len() as u64);
    let mut rows = verified.rows().unwrap();
    let all: Vec<_> = rows.by_ref().map(Result::unwrap).collect();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].trade_time(), Some("2024-05-01 10:00:00"));
    assert_eq!(all[0].out_trade_no(), Some("RENT-7"));
    assert_eq!(all[0].settlement_total().unwrap(), Some(Fen::new(1)));
    assert_eq!(all[0].payscore(), None);
    assert_eq!(all[1].trade_type(), Some("AUTH"));
    assert_eq!(all[1].settlement_total().unwrap(), Some(Fen::new(1230)));
    let ps = all[1].payscore().unwrap();
    assert_eq!(
        (ps.order_id.as_str(), ps.out_order_no.as_str()),
        ("1000000000000001", "RENT-8")
    );
    assert_eq!(all[2].trade_state(), Some("REFUND"));
    assert_eq!(all[2].refund_id(), Some("50300001"));
    assert_eq!(all[2].out_refund_no(), Some("REF-1"));
    assert_eq!(all[2].refund_amount().unwrap(), Some(Fen::new(1)));
    assert_eq!(all[2].refund_status(), Some("SUCCESS"));
    assert_eq!(all[2].transaction_id(), Some("4200000001"));
    assert_eq!(all[2].get("商户号"), Some("1234567890"));
    assert_eq!(all[0].attach(), None, "empty is absent for typed accessors");
    assert_eq!(all[0].get("商户数据包"), Some(""));
    let summary = rows.summary().unwrap();
    assert_eq!(summary.get("总交易单数"), Some("3"));
    assert_eq!(
        summary.amount("应结订单总金额").unwrap(),
        Some(Fen::new(1231))
    );
}

#[tokio::test]
async fn fund_flow_bill_apply_and_plain_download() {
    let server = mock_server().await;
    let c = client(&server);
    let text = "记账时间,收支金额(元)\n`2024-05-01 10:00:00,`5.00\n资金流水总笔数\n`1\n";
    let reply = format!(
        r#"{{"hash_type":"SHA1","hash_value":"{}","download_url":"{}/v3/billdownload/file?token=F1"}}"#,
        hash_of(text.as_bytes()).to_lowercase(),
        server.uri()
    );
    expect_get(
        &server,
        "/v3/bill/fundflowbill",
        "bill_date=2024-05-01&account_type=OPERATION",
        signed(200, &reply),
    )
    .await;
    expect_get(
        &server,
        "/v3/billdownload/file",
        "token=F1",
        file(text.as_bytes().to_vec()),
    )
    .await;
    let request = FundFlowBillRequest::new("2024-05-01")
        .account_type(AccountType::Operation)
        .gzip(false);
    let bill = c.fund_flow_bill(&request).await.unwrap();
    assert!(!bill.gzip);
    let mut rows = c
        .download_bill(&bill, Spool::memory(1 << 20))
        .await
        .unwrap()
        .rows()
        .unwrap();
    let row = rows.next().unwrap().unwrap();
    assert_eq!(row.amount("收支金额(元)").unwrap(), Some(Fen::new(500)));
    assert!(rows.next().is_none());
    assert_eq!(rows.summary().unwrap().get("资金流水总笔数"), Some("1"));
}

#[tokio::test]
async fn applications_are_validated_and_refusals_typed() {
    let server = mock_server().await;
    let c = client(&server);
    for bad in ["20240501", "2024-5-1", "2024-02-30", "2024-05-01 ", ""] {
        let err = c.trade_bill(&TradeBillRequest::new(bad)).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidRequest { .. }),
            "{bad}: {err:?}"
        );
        assert!(
            c.fund_flow_bill(&FundFlowBillRequest::new(bad))
                .await
                .is_err()
        );
    }
    assert!(
        c.trade_bill(
            &TradeBillRequest::new("2024-05-01").bill_type(BillType::Unknown(String::new()))
        )
        .await
        .is_err()
    );
    assert!(server.received_requests().await.unwrap().is_empty());

    expect_get(
        &server,
        "/v3/bill/tradebill",
        "bill_date=2024-05-01&tar_type=GZIP",
        signed(
            400,
            r#"{"code":"NO_STATEMENT_EXIST","message":"账单文件不存在"}"#,
        ),
    )
    .await;
    let err = c
        .trade_bill(&TradeBillRequest::new("2024-05-01"))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some("NO_STATEMENT_EXIST"));
    assert_eq!(err.operation(), Some("GET /v3/bill/tradebill"));
}

fn bill(server: &MockServer, text: &str, token: &str) -> bill::BillDownload {
    serde_json::from_value(serde_json::json!({
        "hash_type": "SHA1",
        "hash_value": hash_of(text.as_bytes()),
        "download_url": format!("{}/v3/billdownload/file?token={token}", server.uri()),
    }))
    .unwrap()
}

#[tokio::test]
async fn download_refusals_expired_url_and_no_auth() {
    let server = mock_server().await;
    let c = client(&server);
    let expired = bill(&server, TRADE_CSV, "OLD");
    expect_get(
        &server,
        "/v3/billdownload/file",
        "token=OLD",
        ResponseTemplate::new(400).set_body_raw(
            r#"{"code":"INVALID_REQUEST","message":"下载链接已失效"}"#,
            "application/json",
        ),
    )
    .await;
    let err = c
        .download_bill(&expired, Spool::memory(1 << 20))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some("INVALID_REQUEST"));
    assert_eq!(err.operation(), Some("GET {download_url}"));

    let other = bill(&server, TRADE_CSV, "OTHER");
    expect_get(
        &server,
        "/v3/billdownload/file",
        "token=OTHER",
        signed(403, r#"{"code":"NO_AUTH","message":"无权限"}"#),
    )
    .await;
    let err = c
        .download_bill(&other, Spool::memory(1 << 20))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some("NO_AUTH"));
    assert!(
        err.unverified_reason().is_none(),
        "a signed refusal is authenticated"
    );
}

#[tokio::test]
async fn a_hash_mismatch_returns_no_row_and_empties_the_spool() {
    let server = mock_server().await;
    let c = client(&server);
    let mut b = bill(&server, TRADE_CSV, "T");
    b.gzip = true;
    let tampered = TRADE_CSV.replace("12.3", "99.9");
    expect_get(
        &server,
        "/v3/billdownload/file",
        "token=T",
        file(gz(tampered.as_bytes())),
    )
    .await;
    let dir = std::env::temp_dir().join(format!("tixpay-bills-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("mine.csv");
    let mine = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&target)
        .unwrap();
    let err = c.download_bill(&b, Spool::file(mine)).await.unwrap_err();
    assert!(
        matches!(
            bill_error(&err),
            Some(BillError::HashMismatch { sequence: 1, .. })
        ),
        "{err:?}"
    );
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }));
    assert_eq!(
        std::fs::metadata(&target).unwrap().len(),
        0,
        "the unverified text does not stay in the caller's file"
    );
    // The temporary spool of a failed download is removed.
    let b2 = bill(&server, "other", "T2");
    expect_get(
        &server,
        "/v3/billdownload/file",
        "token=T2",
        file(b"tampered".to_vec()),
    )
    .await;
    let before = temp_spools(&dir);
    assert!(
        c.download_bill(&b2, Spool::temp_file_in(&dir).unwrap())
            .await
            .is_err()
    );
    assert_eq!(temp_spools(&dir), before);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn temp_spools(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("tixpay-bill-")
        })
        .count()
}

#[tokio::test]
async fn a_truncated_gzip_is_an_error() {
    let server = mock_server().await;
    let c = client(&server);
    let mut b = bill(&server, TRADE_CSV, "T");
    b.gzip = true;
    let whole = gz(TRADE_CSV.as_bytes());
    expect_get(
        &server,
        "/v3/billdownload/file",
        "token=T",
        file(whole[..whole.len() - 6].to_vec()),
    )
    .await;
    let err = c
        .download_bill(&b, Spool::memory(1 << 20))
        .await
        .unwrap_err();
    assert!(
        matches!(bill_error(&err), Some(BillError::Gzip { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_foreign_plain_http_url_is_not_sent_the_signature() {
    let server = mock_server().await;
    let c = client(&server);
    let mut b = bill(&server, TRADE_CSV, "T");
    b.download_url = "http://elsewhere.invalid/v3/billdownload/file?token=T".into();
    let err = c
        .download_bill(&b, Spool::memory(1 << 20))
        .await
        .unwrap_err();
    assert!(
        matches!(bill_error(&err), Some(BillError::Description(_))),
        "{err:?}"
    );
    b.download_url = format!("{}evil.invalid/x", server.uri());
    assert!(c.download_bill(&b, Spool::memory(1 << 20)).await.is_err());
    b.hash_type = "MD5".into();
    assert!(c.download_bill(&b, Spool::memory(1 << 20)).await.is_err());
}

// ---------------------------------------------------------------------------------------
// Endpoint 17: encrypted files.

/// One file of endpoint 17, sealed as WeChat Pay does, with its list entry.
struct Sealed {
    entry: serde_json::Value,
    body: Vec<u8>,
    token: String,
}

fn seal_file(
    server: &MockServer,
    sequence: u32,
    text: &[u8],
    nonce: &str,
    gzip: bool,
    wrap_for: &RsaPrivateKey,
) -> Sealed {
    let key: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(sequence as u8 + 3));
    let plain = if gzip { gz(text) } else { text.to_vec() };
    let body = gcm::seal(&key, nonce.as_bytes(), b"", &plain).unwrap();
    let wrapped = wrap_for
        .public_key()
        .unwrap()
        .encrypt_oaep_sha1(&key)
        .unwrap();
    let token = format!("PS{sequence}");
    Sealed {
        entry: serde_json::json!({
            "bill_sequence": sequence,
            "hash_type": "SHA1",
            "hash_value": hex::encode_lower(sha1(text)),
            "download_url": format!("{}/v3/billdownload/file?token={token}", server.uri()),
            "encrypt_key": base64::encode(wrapped),
            "nonce": nonce,
        }),
        body,
        token,
    }
}

async fn apply_merchant_bill(server: &MockServer, c: &Client, files: &[&Sealed]) -> MerchantBill {
    let list: Vec<_> = files.iter().map(|f| f.entry.clone()).collect();
    let reply = serde_json::json!({"download_bill_count": list.len(), "download_bill_list": list});
    expect_get(
        server,
        "/v3/payscore/merchant-bill",
        "bill_date=2024-05-01&service_id=500001&encryption_algorithm=AEAD_AES_256_GCM&tar_type=GZIP",
        signed(200, &reply.to_string()),
    )
    .await;
    c.merchant_bill("2024-05-01", "500001", true).await.unwrap()
}

async fn serve(server: &MockServer, f: &Sealed) {
    expect_get(
        server,
        "/v3/billdownload/file",
        &format!("token={}", f.token),
        file(f.body.clone()),
    )
    .await;
}

#[tokio::test]
async fn merchant_bill_files_are_decrypted_in_sequence_order() {
    let server = mock_server().await;
    let c = client(&server);
    // Split mid-row: only the concatenation is CSV.
    let (first, second) = TRADE_CSV.as_bytes().split_at(200);
    let f1 = seal_file(
        &server,
        1,
        first,
        "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        true,
        &merchant(),
    );
    let f2 = seal_file(&server, 2, second, "a8607ef79034c49c", true, &merchant());
    // Listed out of order: downloaded and concatenated by bill_sequence.
    let bill = apply_merchant_bill(&server, &c, &[&f2, &f1]).await;
    assert!(bill.gzip);
    serve(&server, &f1).await;
    serve(&server, &f2).await;
    let verified = c
        .download_merchant_bill(&bill, Spool::temp_file().unwrap())
        .await
        .unwrap();
    let sequences: Vec<u32> = verified.files().iter().map(|f| f.sequence).collect();
    assert_eq!(sequences, [1, 2]);
    let mut text = String::new();
    verified
        .into_reader()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, TRADE_CSV);

    let server2 = mock_server().await;
    let c2 = client(&server2);
    let f1 = seal_file(
        &server2,
        1,
        TRADE_CSV.as_bytes(),
        "a8607ef79034c49c",
        true,
        &merchant(),
    );
    let bill = apply_merchant_bill(&server2, &c2, &[&f1]).await;
    serve(&server2, &f1).await;
    let rows: Vec<_> = c2
        .download_merchant_bill(&bill, Spool::memory(1 << 20))
        .await
        .unwrap()
        .rows()
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows[1].payscore().unwrap().out_order_no, "RENT-8");
}

/// Each failure of an encrypted file: an error, and no row of any file.
#[tokio::test]
async fn merchant_bill_failures_return_no_row() {
    enum Fault {
        Tampered,
        WrongNonce,
        HashOfOther,
        WrappedForAnotherKey,
        Truncated,
    }
    for fault in [
        Fault::Tampered,
        Fault::WrongNonce,
        Fault::HashOfOther,
        Fault::WrappedForAnotherKey,
        Fault::Truncated,
    ] {
        let server = mock_server().await;
        let c = client(&server);
        let (first, second) = TRADE_CSV.as_bytes().split_at(150);
        let f1 = seal_file(
            &server,
            1,
            first,
            "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
            true,
            &merchant(),
        );
        let other = RsaPrivateKey::generate().unwrap();
        let wrap_for = match fault {
            Fault::WrappedForAnotherKey => &other,
            _ => &merchant(),
        };
        let mut f2 = seal_file(&server, 2, second, "a8607ef79034c49c", true, wrap_for);
        let expected = match fault {
            Fault::Tampered => {
                f2.body[10] ^= 0x80;
                BillError::Decrypt { sequence: 2 }
            }
            Fault::WrongNonce => {
                f2.entry["nonce"] = "a8607ef79034c49d".into();
                BillError::Decrypt { sequence: 2 }
            }
            Fault::Truncated => {
                f2.body.truncate(f2.body.len() - 3);
                BillError::Decrypt { sequence: 2 }
            }
            Fault::HashOfOther => {
                f2.entry["hash_value"] = hex::encode_lower(sha1(first)).into();
                BillError::HashMismatch {
                    sequence: 2,
                    expected: hex::encode_lower(sha1(first)),
                    found: hex::encode_lower(sha1(second)),
                }
            }
            Fault::WrappedForAnotherKey => BillError::KeyUnwrap { sequence: 2 },
        };
        let bill = apply_merchant_bill(&server, &c, &[&f1, &f2]).await;
        if !matches!(fault, Fault::WrappedForAnotherKey) {
            // The key of every file is unwrapped before anything is downloaded.
            serve(&server, &f1).await;
            serve(&server, &f2).await;
        }
        let err = c
            .download_merchant_bill(&bill, Spool::memory(1 << 20))
            .await
            .unwrap_err();
        assert_eq!(bill_error(&err), Some(&expected), "{err:?}");
    }
}

#[tokio::test]
async fn merchant_bill_descriptions_are_checked_before_downloading() {
    let server = mock_server().await;
    let c = client(&server);
    let f1 = seal_file(&server, 1, b"a\n", "a8607ef79034c49c", true, &merchant());
    let f3 = seal_file(&server, 3, b"b\n", "a8607ef79034c49c", true, &merchant());
    let bill = apply_merchant_bill(&server, &c, &[&f1, &f3]).await;
    let err = c
        .download_merchant_bill(&bill, Spool::memory(1024))
        .await
        .unwrap_err();
    assert!(
        matches!(bill_error(&err), Some(BillError::Description(_))),
        "{err:?}"
    );
    // A repeated sequence, a count that disagrees, a missing nonce: the same.
    let mut bad = bill.clone();
    bad.download_bill_list[1].bill_sequence = Some(1);
    assert!(
        c.download_merchant_bill(&bad, Spool::memory(1024))
            .await
            .is_err()
    );
    let mut bad = bill.clone();
    bad.download_bill_count = Some(3);
    assert!(
        c.download_merchant_bill(&bad, Spool::memory(1024))
            .await
            .is_err()
    );
    let mut bad = bill.clone();
    bad.download_bill_list[0].nonce = None;
    assert!(
        c.download_merchant_bill(&bad, Spool::memory(1024))
            .await
            .is_err()
    );
    let mut bad = bill;
    bad.download_bill_list[0].encrypt_key = Some("not base64!".into());
    let err = c
        .download_merchant_bill(&bad, Spool::memory(1024))
        .await
        .unwrap_err();
    assert_eq!(
        bill_error(&err),
        Some(&BillError::KeyUnwrap { sequence: 1 })
    );
    // Only the application was sent.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

/// 4 MiB of text, encrypted and not gzipped (so every byte crosses the network), goes
/// through memory in bounded pieces: the peak the pipeline reports stays far below the
/// file's size, and every row comes out.
#[tokio::test]
async fn a_multi_mib_bill_streams_through_bounded_memory() {
    let server = mock_server().await;
    let c = client(&server);
    let header = "交易时间,商户订单号,应结订单金额\n";
    let mut text = String::from(header);
    let mut n = 0u64;
    while text.len() < 4 << 20 {
        n += 1;
        text.push_str(&format!(
            "`2024-05-01 10:00:00,`ORDER-{n:08},`{}.{:02}\n",
            n % 1000,
            n % 100
        ));
    }
    text.push_str("总交易单数\n`");
    text.push_str(&n.to_string());
    text.push('\n');
    let f1 = seal_file(
        &server,
        1,
        text.as_bytes(),
        "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        false,
        &merchant(),
    );
    let list =
        serde_json::json!({"download_bill_count": 1, "download_bill_list": [f1.entry.clone()]});
    expect_get(
        &server,
        "/v3/payscore/merchant-bill",
        "bill_date=2024-05-01&service_id=500001&encryption_algorithm=AEAD_AES_256_GCM",
        signed(200, &list.to_string()),
    )
    .await;
    serve(&server, &f1).await;
    let bill = c
        .merchant_bill("2024-05-01", "500001", false)
        .await
        .unwrap();
    let verified = c
        .download_merchant_bill(&bill, Spool::temp_file().unwrap())
        .await
        .unwrap();
    let stats = verified.stats();
    assert_eq!(stats.plaintext_bytes, text.len() as u64);
    assert_eq!(stats.downloaded_bytes, text.len() as u64 + 16);
    assert!(
        stats.peak_buffered_bytes < 1 << 20,
        "peak {} bytes for a {} byte bill",
        stats.peak_buffered_bytes,
        text.len()
    );
    assert!(stats.peak_buffered_bytes > 0);
    let mut rows = verified.rows().unwrap();
    let mut count = 0u64;
    let mut total = 0u64;
    for row in rows.by_ref() {
        let row = row.unwrap();
        count += 1;
        total += row.settlement_total().unwrap().unwrap().get();
    }
    assert_eq!(count, n);
    let expected: u64 = (1..=n).map(|i| (i % 1000) * 100 + i % 100).sum();
    assert_eq!(total, expected);
    assert_eq!(
        rows.summary().unwrap().get("总交易单数"),
        Some(n.to_string().as_str())
    );
}

// ---------------------------------------------------------------------------------------
// The CSV.

fn parse(
    text: &[u8],
) -> (
    Vec<Result<bill::BillRow, tixpay_core::Error>>,
    Option<bill::BillRow>,
) {
    let mut rows = BillRows::new(text);
    let out: Vec<_> = rows.by_ref().collect();
    (out, rows.summary().cloned())
}

#[test]
fn csv_edge_cases() {
    // A BOM, CRLF line ends, blank lines, quoted fields with commas, amounts.
    let text = "\u{feff}交易时间,商品名称,应结订单金额\r\n\r\n`2024-05-01 10:00:00,`\"票,成人\",`0.01\r\n`2024-05-01 10:00:01,`\"说\"\"明\"\"\",`12.3\r\n总交易单数,应结订单总金额\r\n`2,`12.31\r\n\r\n";
    let (rows, summary) = parse(text.as_bytes());
    let rows: Vec<_> = rows.into_iter().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].columns()[0], "交易时间");
    assert_eq!(rows[0].get("商品名称"), Some("票,成人"));
    assert_eq!(rows[1].get("商品名称"), Some("说\"明\""));
    assert_eq!(rows[0].settlement_total().unwrap(), Some(Fen::new(1)));
    assert_eq!(rows[1].settlement_total().unwrap(), Some(Fen::new(1230)));
    assert_eq!(rows[1].line(), 4);
    assert_eq!(rows[1].iter().count(), 3);
    assert_eq!(rows[1].values()[0], "2024-05-01 10:00:01");
    let summary = summary.unwrap();
    assert_eq!(
        summary.amount("应结订单总金额").unwrap(),
        Some(Fen::new(1231))
    );
    assert_eq!(summary.get("没有"), None);

    // A day without orders: headers and a zero summary.
    let (rows, summary) = parse("交易时间,应结订单金额\n总交易单数\n`0\n".as_bytes());
    assert!(rows.is_empty());
    assert_eq!(summary.unwrap().get("总交易单数"), Some("0"));
    // Nothing at all.
    let (rows, summary) = parse(b"");
    assert!(rows.is_empty() && summary.is_none());
}

#[test]
fn malformed_csv_is_a_typed_error_never_a_panic() {
    let cases: &[(&[u8], &str)] = &[
        ("a,b\n`1\n".as_bytes(), "1 fields where the header has 2"),
        ("a,b\n`1,`2,`3\n".as_bytes(), "3 fields"),
        ("`1,`2\n".as_bytes(), "before the header"),
        ("a\n`1\ns\n`1\n`extra\n".as_bytes(), "after the summary"),
        ("a\n`1\ns\n".as_bytes(), "summary header without its row"),
        (b"a,b\n`1,`\xff\xfe\n", "not UTF-8"),
        ("a,b\n`1,`\"open\n".as_bytes(), "unterminated quote"),
    ];
    for (text, why) in cases {
        let (rows, _) = parse(text);
        let err = rows
            .into_iter()
            .find_map(Result::err)
            .unwrap_or_else(|| panic!("no error for {:?}", String::from_utf8_lossy(text)));
        assert!(err.to_string().contains(why), "{err} should say {why}");
        assert!(matches!(
            bill_error(&err),
            Some(BillError::Malformed { .. })
        ));
        assert!(matches!(err.kind(), ErrorKind::Decode { .. }));
    }
    // Amounts that are not yuan with at most two decimals.
    for bad in ["1.234", "-1.00", "1e3", "１", ".5", "12."] {
        let text = format!("应结订单金额\n`{bad}\n");
        let (rows, _) = parse(text.as_bytes());
        let row = rows.into_iter().next().unwrap().unwrap();
        assert!(row.settlement_total().is_err(), "{bad}");
    }
    // Not PayScore: no reference.
    for attach in [
        "wxzff|only",
        "wxzff||RENT",
        "wxzff|1|",
        "other|1|2",
        "wxzff|1|2|3",
    ] {
        let text = format!("商户数据包\n`{attach}\n");
        let (rows, _) = parse(text.as_bytes());
        assert_eq!(
            rows.into_iter().next().unwrap().unwrap().payscore(),
            None,
            "{attach}"
        );
    }
    // Random bytes never panic.
    let mut seed = 7u64;
    for _ in 0..300 {
        let len = (seed % 200) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                b"a,`\n\"\xe4\xb8\xad\xff.1"[(seed >> 59) as usize % 11]
            })
            .collect();
        let (rows, _) = parse(&bytes);
        for row in rows.into_iter().flatten() {
            let _ = row.settlement_total();
            let _ = row.payscore();
        }
    }
}

// ---------------------------------------------------------------------------------------
// The sandbox, end to end.

#[cfg(feature = "sandbox")]
mod sandbox {
    use super::*;
    use tixpay_wechat_payscore::sandbox::{PayScoreSandbox, SandboxOptions};

    async fn collect(sandbox: &PayScoreSandbox, client: &Client, no: &str, fen: u64) {
        let order = CreateServiceOrder::new(
            no,
            sandbox.appid(),
            sandbox.service_id(),
            "景区电瓶车租借",
            TimeRange::starting(TimePoint::OnAccept),
            RiskFund::new(RiskFundName::Deposit, Fen::new(20_000)),
            "https://notify.invalid/payscore",
        )
        .post_payment(PostPayment::new("租车费", Fen::new(fen)));
        client.create_service_order(&order).await.unwrap();
        sandbox.user_confirms(no).unwrap();
        let complete =
            CompleteServiceOrder::new(sandbox.appid(), sandbox.service_id(), Fen::new(fen))
                .post_payment(PostPayment::new("租车费", Fen::new(fen)));
        client.complete_service_order(no, &complete).await.unwrap();
        sandbox.user_pays(no).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_days_bills_match_the_orders_collected() {
        let now = 1_714_543_200; // 2024-05-01 14:00 China time
        let clock = Arc::new(FixedClock::from_seconds(now));
        let sandbox = PayScoreSandbox::start_with(
            SandboxOptions::default().clock(clock).bill_chunk_bytes(300),
        )
        .await
        .unwrap();
        let client = Client::new(sandbox.config()).unwrap();
        let orders = [("DAY-1", 2_500u64), ("DAY-2", 1), ("DAY-3", 12_030)];
        for (no, fen) in orders {
            collect(&sandbox, &client, no, fen).await;
        }
        // An order created but never paid is in no bill.
        client
            .create_service_order(
                &CreateServiceOrder::new(
                    "DAY-UNPAID",
                    sandbox.appid(),
                    sandbox.service_id(),
                    "景区电瓶车租借",
                    TimeRange::starting(TimePoint::OnAccept),
                    RiskFund::new(RiskFundName::Deposit, Fen::new(20_000)),
                    "https://notify.invalid/payscore",
                )
                .post_payment(PostPayment::new("租车费", Fen::new(5))),
            )
            .await
            .unwrap();

        let verified = client
            .fetch_merchant_bill(
                "2024-05-01",
                sandbox.service_id(),
                Spool::temp_file().unwrap(),
            )
            .await
            .unwrap();
        assert!(verified.files().len() > 1, "the sandbox split the bill");
        let mut rows = verified.rows().unwrap();
        let mut seen: Vec<(String, Fen)> = rows
            .by_ref()
            .map(|r| {
                let r = r.unwrap();
                assert_eq!(r.trade_type(), Some("AUTH"));
                (
                    r.payscore().unwrap().out_order_no,
                    r.settlement_total().unwrap().unwrap(),
                )
            })
            .collect();
        seen.sort();
        let expected: Vec<(String, Fen)> = orders
            .iter()
            .map(|(n, f)| ((*n).to_owned(), Fen::new(*f)))
            .collect();
        assert_eq!(seen, expected);
        assert_eq!(rows.summary().unwrap().get("总交易单数"), Some("3"));
        assert_eq!(
            rows.summary().unwrap().amount("应结订单总金额").unwrap(),
            Some(Fen::new(14_531))
        );

        // The trade bill, gzipped, says the same.
        let bill = client
            .trade_bill(&TradeBillRequest::new("2024-05-01"))
            .await
            .unwrap();
        let rows: Vec<_> = client
            .download_bill(&bill, Spool::memory(1 << 20))
            .await
            .unwrap()
            .rows()
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|r| r.payscore().is_some()));
        // Another day is empty.
        let empty = client
            .fetch_merchant_bill("2024-04-30", sandbox.service_id(), Spool::memory(1 << 20))
            .await
            .unwrap();
        assert_eq!(empty.rows().unwrap().count(), 0);

        // The fund flow: one income per deduction.
        let bill = client
            .fund_flow_bill(&FundFlowBillRequest::new("2024-05-01"))
            .await
            .unwrap();
        let fund = client
            .download_bill(&bill, Spool::memory(1 << 20))
            .await
            .unwrap();
        assert_eq!(fund.rows().unwrap().count(), 3);

        // A stale URL is refused, as WeChat Pay does.
        let bill = client
            .trade_bill(&TradeBillRequest::new("2024-05-01"))
            .await
            .unwrap();
        sandbox.expire_bill_urls();
        let err = client
            .download_bill(&bill, Spool::memory(1 << 20))
            .await
            .unwrap_err();
        assert_eq!(err.api_code(), Some("INVALID_REQUEST"));
    }
}
