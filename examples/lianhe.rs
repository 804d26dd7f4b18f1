//! A reseller's day with Lianhe: read a product, sell three tickets, one is used at the
//! gate, the customer cancels the rest, Lianhe's audit approves, and the refund
//! notification arrives.
//!
//! Runs against the in-process sandbox by default:
//!
//! ```sh
//! cargo run --example lianhe --features lianhe,sandbox
//! ```
//!
//! With `LIANHE_PARTNER_ID` set it reads the rest from the environment
//! (`Config::from_env`; `LIANHE_DEAL_ID` optionally picks a product), it reads the product list of the real service
//! and stops there: placing real orders is left to your own code.
#![allow(clippy::print_stdout)]

use std::error::Error as StdError;

use http::StatusCode;
use tixpay::core::sandbox::{SandboxRequest, SandboxResponse, SandboxServer, Shared};
use tixpay::lianhe::notify::{ACK, Notification, NotificationParser};
use tixpay::lianhe::sandbox::LianheSandbox;
use tixpay::lianhe::{
    CancelOrder, CancelOutcome, Client, Config, GetTeam, NewOrder, QueryOrder, Visitor,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn StdError>> {
    if std::env::var_os("LIANHE_PARTNER_ID").is_some() {
        return real(Config::from_env()?).await;
    }
    println!(
        "Lianhe sandbox (set LIANHE_PARTNER_ID, LIANHE_API_NAME, LIANHE_CLIENT_SECRET for the real service)\n"
    );
    let sandbox = LianheSandbox::start().await?;
    let config = sandbox.config();
    let client = Client::new(config.clone())?;

    // The reseller's notification endpoint.
    let parser = NotificationParser::new(&config);
    let received: Shared<Vec<Notification>> = Shared::new(Vec::new());
    let inbox = received.clone();
    let webhook = SandboxServer::start(move |req: &SandboxRequest| {
        match parser.parse(&req.headers, &req.body) {
            Ok(event) => {
                inbox.with(|seen| {
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
    sandbox.set_notify_url(format!("{}/lianhe/notify", webhook.uri()));

    let product = client
        .get_team(&GetTeam::by_ids(["852"]))
        .await?
        .products
        .remove(0);
    let price = product.sell_price.unwrap_or_default();
    println!(
        "1. getTeam      product {} “{}” at ¥{price}",
        product.deal_id, product.name
    );

    let order = NewOrder::new(
        "RESELLER-1001",
        &product.deal_id,
        price,
        3,
        Visitor::new("张三", "13800000000"),
    )
    .for_product(&product);
    let receipt = client.new_order(&order).await?;
    let lh_order_id = receipt.lh_order_id.clone().unwrap_or_default();
    println!(
        "2. newOrder     3 tickets: Lianhe order {lh_order_id}, status {}, voucher {}",
        receipt.order_status,
        receipt.voucher.as_deref().unwrap_or("-")
    );

    let codes = sandbox.redeem(&lh_order_id, 1)?;
    println!(
        "3. gate         ticket {} redeemed (snNotify sent)",
        codes.join(",")
    );

    let first = CancelOrder::new("RESELLER-1001", &lh_order_id, 3).refund_id("RF-1001-1");
    let refundable = match client.cancel_order(&first).await? {
        CancelOutcome::Refused(r) => {
            println!(
                "4. cancelOrder  3 refused: “{}”, refundable {:?}",
                r.describe, r.refundable_quantity
            );
            u32::try_from(r.refundable_quantity.unwrap_or(0)).unwrap_or(0)
        }
        other => return Err(format!("expected a refusal, got {other:?}").into()),
    };
    let second = CancelOrder::new("RESELLER-1001", &lh_order_id, refundable).refund_id("RF-1001-1");
    match client.cancel_order(&second).await? {
        CancelOutcome::Accepted(a) => println!(
            "5. cancelOrder  {refundable} accepted, waiting for audit (status {})",
            a.order_status
        ),
        other => return Err(format!("expected acceptance, got {other:?}").into()),
    }

    sandbox.approve_refund("RF-1001-1")?;
    println!("6. audit        Lianhe approves RF-1001-1 (reNotify sent)");
    for report in sandbox.settle_notifications().await {
        println!(
            "   delivery     {} → {} attempt(s), delivered: {}",
            report.id,
            report.attempts.len(),
            report.delivered
        );
    }
    for event in received.lock().iter() {
        match event {
            Notification::Redeemed(r) => {
                println!(
                    "   webhook      snNotify: {} of {} used",
                    r.used_quantity, r.order_quantity
                )
            }
            Notification::Refund(r) => println!(
                "   webhook      reNotify: approved {}, refunded {:?} in total",
                r.is_approved(),
                r.refunded_quantity
            ),
            other => println!("   webhook      {}", other.dedup_key()),
        }
    }

    let info = client
        .query_order(&QueryOrder::new("RESELLER-1001", &lh_order_id))
        .await?;
    println!(
        "7. queryOrder   status {}, used {:?}, refunded {:?}",
        info.order_status, info.used_quantity, info.refunded_quantity
    );
    Ok(())
}

async fn real(config: Config) -> Result<(), Box<dyn StdError>> {
    println!("Lianhe partner {}\n", config.partner_id());
    let client = Client::new(config)?;
    let request = match std::env::var("LIANHE_DEAL_ID") {
        Ok(id) => GetTeam::by_ids([id]).simple(true),
        Err(_) => GetTeam::page(0, 10).simple(true),
    };
    let page = client.get_team(&request).await?;
    println!(
        "getTeam: {} product(s), totalSize {:?}",
        page.products.len(),
        page.total_size
    );
    for p in &page.products {
        println!(
            "  {} “{}” sell ¥{} stock {:?} type {}",
            p.deal_id,
            p.name,
            p.sell_price.map(|m| m.to_string()).unwrap_or_default(),
            p.stock,
            p.team_type.as_str()
        );
    }
    Ok(())
}
