//! A deposit-free e-bike rental at the scenic spot with WeChat Pay PayScore: create the
//! service order, the user confirms, the ride ends with a member discount, the user pays,
//! and the USER_PAID callback arrives verified and decrypted.
//!
//! Runs against the in-process sandbox by default:
//!
//! ```sh
//! cargo run --example wechat_payscore --features wechat-payscore,sandbox
//! ```
//!
//! With `WECHATPAY_MCHID` (and the rest of `Config::from_env`'s variables),
//! `PAYSCORE_SERVICE_ID` and `PAYSCORE_APPID` set it queries the real API for the order
//! `PAYSCORE_OUT_ORDER_NO` (creating real orders is left to your code).
#![allow(clippy::print_stdout)]

use std::error::Error as StdError;

use http::StatusCode;
use tixpay::core::sandbox::{SandboxRequest, SandboxResponse, SandboxServer, Shared};
use tixpay::wechat_payscore::notify::{Callback, CallbackEvent};
use tixpay::wechat_payscore::sandbox::PayScoreSandbox;
use tixpay::wechat_payscore::*;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn StdError>> {
    if let (Some(_), Some(service_id), Some(appid)) = (
        env("WECHATPAY_MCHID"),
        env("PAYSCORE_SERVICE_ID"),
        env("PAYSCORE_APPID"),
    ) {
        let config = Config::from_env()?;
        let client = Client::new(config)?;
        let no = env("PAYSCORE_OUT_ORDER_NO").unwrap_or_default();
        let order = client
            .query_service_order(&OrderRef::OutOrderNo(no.clone()), &service_id, &appid)
            .await?;
        println!(
            "order {no}: {:?} {:?}",
            order.state, order.state_description
        );
        return Ok(());
    }
    println!("PayScore sandbox (set the WECHATPAY_* and PAYSCORE_* variables for the real API)\n");
    let sandbox = PayScoreSandbox::start().await?;
    let client = Client::new(sandbox.config())?;

    // The merchant's callback endpoint.
    let received: Shared<Vec<Callback>> = Shared::new(Vec::new());
    let inbox = received.clone();
    let verifier = client.clone();
    let runtime = tokio::runtime::Handle::current();
    let webhook = SandboxServer::start(move |req: &SandboxRequest| {
        let parsed = std::thread::scope(|s| {
            s.spawn(|| {
                runtime.block_on(
                    tixpay::wechat_payscore::notify::NotificationParser::new(&verifier)
                        .parse(&req.headers, &req.body),
                )
            })
            .join()
            .map_err(|_| "callback handler panicked".to_owned())
        });
        match parsed {
            Ok(Ok(callback)) => {
                inbox.with(|seen| {
                    if !seen.iter().any(|c| c.dedup_key() == callback.dedup_key()) {
                        seen.push(callback);
                    }
                });
                SandboxResponse::new(StatusCode::NO_CONTENT)
            }
            Ok(Err(e)) => SandboxResponse::text(StatusCode::UNAUTHORIZED, e.to_string()),
            Err(e) => SandboxResponse::text(StatusCode::INTERNAL_SERVER_ERROR, e),
        }
    })
    .await;

    let no = "RENT-3001";
    let order = CreateServiceOrder::new(
        no,
        sandbox.appid(),
        sandbox.service_id(),
        "景区电瓶车租借",
        TimeRange::starting(TimePoint::OnAccept),
        RiskFund::new(RiskFundName::Deposit, Fen::new(20_000)).description("电瓶车押金"),
        "https://reseller.example/payscore/notify",
    )
    .post_payment(PostPayment::new("租车费", Fen::new(3_000)).description("2小时"));
    let created = client.create_service_order(&order).await?;
    sandbox.set_notify_url(no, &webhook.uri());
    println!(
        "1. create    {no}: state {:?}, WeChat order {}",
        created.state,
        created.order_id.as_deref().unwrap_or("-")
    );
    let invoke = invoke::confirm_order(created.package.as_deref().unwrap_or_default())?;
    println!(
        "   front end  wx.openBusinessView({{businessType: \"{}\", extraData: {}}})",
        invoke.business_type,
        invoke.to_json()
    );

    sandbox.user_confirms(no)?;
    println!("2. confirm   the user confirms in WeChat (USER_CONFIRM callback)");
    let complete =
        CompleteServiceOrder::new(sandbox.appid(), sandbox.service_id(), Fen::new(2_500))
            .post_payment(PostPayment::new("租车费", Fen::new(3_000)))
            .post_discount(PostDiscount::new("会员优惠", Fen::new(500)));
    let done = client.complete_service_order(no, &complete).await?;
    println!(
        "3. complete  ¥30.00 − ¥5.00 = ¥25.00: {:?}/{:?}, collection {:?}",
        done.state,
        done.state_description,
        done.collection.as_ref().map(|c| &c.state)
    );
    sandbox.user_pays(no)?;
    println!("4. pay       PayScore collects ¥25.00 (USER_PAID callback)");
    for report in sandbox.settle_callbacks().await {
        println!(
            "   delivery   {} → {} attempt(s), delivered {}",
            report.id,
            report.attempts.len(),
            report.delivered
        );
    }
    for cb in received.lock().iter() {
        match &cb.event {
            CallbackEvent::UserPaid(o) => println!(
                "   callback   {} USER_PAID verified and decrypted: paid {:?}, transaction {:?}",
                cb.id,
                o.collection.as_ref().and_then(|c| c.paid_amount),
                o.collection
                    .as_ref()
                    .and_then(|c| c.details.first())
                    .and_then(|d| d.transaction_id.clone())
            ),
            other => println!(
                "   callback   {} {}: {:?}",
                cb.id,
                cb.event_type,
                std::mem::discriminant(other)
            ),
        }
    }
    Ok(())
}
