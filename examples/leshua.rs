//! Taking a customer's money with LeShua and giving part of it back.
//!
//! Runs against the in-process sandbox by default:
//!
//! ```sh
//! cargo run --example leshua --features leshua,sandbox
//! ```
//!
//! With `LESHUA_MERCHANT_ID`, `LESHUA_TRADE_KEY`, `LESHUA_NOTIFY_KEY` (and optionally
//! `LESHUA_BASE_URL`, e.g. the test host `https://t-paygate.lepass.cn`) set (see
//! `Config::from_env`) it creates a ¥0.01
//! QR order on the real gateway, prints the code to scan, and queries it.
#![allow(clippy::print_stdout)]

use std::error::Error as StdError;

use http::StatusCode;
use tixpay::core::Fen;
use tixpay::core::sandbox::{SandboxRequest, SandboxResponse, SandboxServer, Shared};
use tixpay::leshua::notify::{ACK, Notification, NotificationParser};
use tixpay::leshua::sandbox::LeshuaSandbox;
use tixpay::leshua::{Client, Config, OrderRef, PayMode, PayWay, Refund, RefundRef, UnifiedOrder};

#[tokio::main]
async fn main() -> Result<(), Box<dyn StdError>> {
    if std::env::var_os("LESHUA_MERCHANT_ID").is_some() {
        return real(Config::from_env()?).await;
    }
    println!(
        "LeShua sandbox (set LESHUA_MERCHANT_ID, LESHUA_TRADE_KEY, LESHUA_NOTIFY_KEY for the real gateway)\n"
    );
    let sandbox = LeshuaSandbox::start().await?;
    let config = sandbox.config();
    let client = Client::new(config.clone())?;

    let parser = NotificationParser::new(&config);
    let inbox: Shared<Vec<Notification>> = Shared::new(Vec::new());
    let received = inbox.clone();
    let webhook = SandboxServer::start(move |req: &SandboxRequest| {
        match parser.parse(&req.headers, &req.body) {
            Ok(event) => {
                received.with(|seen| {
                    if !seen.iter().any(|e| e.dedup_key() == event.dedup_key()) {
                        seen.push(event);
                    }
                });
                SandboxResponse::text(StatusCode::OK, ACK)
            }
            Err(e) => SandboxResponse::text(StatusCode::BAD_REQUEST, e.to_string()),
        }
    })
    .await;
    let notify_url = format!("{}/leshua/notify", webhook.uri());

    let order = UnifiedOrder::new(
        PayWay::Wechat,
        "RESELLER-1001",
        Fen::new(30_000),
        PayMode::Native,
    )
    .notify_url(&notify_url)
    .body("景区成人票 x3");
    let created = client.unified_order(&order).await?;
    println!(
        "1. get_tdcode           ¥{} order {}: scan {}",
        Fen::new(30_000).to_yuan_string(),
        created.leshua_order_id.as_deref().unwrap_or("-"),
        created.td_code.as_deref().unwrap_or("-")
    );
    sandbox.mark_paid("RESELLER-1001")?;
    let paid = client
        .query_order(&OrderRef::ThirdOrderId("RESELLER-1001".into()))
        .await?;
    println!("2. query_status        status {:?}", paid.status);

    let order_ref = OrderRef::ThirdOrderId("RESELLER-1001".into());
    let refund =
        Refund::new(order_ref.clone(), "RF10011", Fen::new(20_000)).notify_url(&notify_url);
    let reply = client.refund(&refund).await?;
    println!(
        "3. unified_refund      ¥200.00: status {:?}, balance left ¥{}",
        reply.status,
        reply
            .order_balance
            .map(Fen::to_yuan_string)
            .unwrap_or_default()
    );
    for report in sandbox.settle_notifications().await {
        println!(
            "   delivery            {} → {} attempt(s)",
            report.id,
            report.attempts.len()
        );
    }
    let settled = client
        .query_refund(&order_ref, &RefundRef::MerchantRefundId("RF10011".into()))
        .await?;
    println!("4. unified_query_refund status {:?}", settled.status);
    for event in inbox.lock().iter() {
        println!("   webhook             {}", event.dedup_key());
    }
    Ok(())
}

async fn real(config: Config) -> Result<(), Box<dyn StdError>> {
    println!("LeShua at {}\n", config.endpoint());
    let client = Client::new(config)?;
    let id = format!("TIXPAY{}", std::process::id());
    let created = client
        .unified_order(&UnifiedOrder::new(
            PayWay::Wechat,
            &id,
            Fen::new(1),
            PayMode::Native,
        ))
        .await?;
    println!(
        "get_tdcode: order {id}, scan {}",
        created.td_code.as_deref().unwrap_or("-")
    );
    let status = client.query_order(&OrderRef::ThirdOrderId(id)).await?;
    println!("query_status: {:?}", status.status);
    Ok(())
}
