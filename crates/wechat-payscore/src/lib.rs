//! # tixpay-wechat-payscore
//!
//! A typed, async client for WeChat Pay PayScore (微信支付分) APIv3, direct merchants:
//! every service-order and permission endpoint, every reply verified before it is decoded,
//! callbacks verified and decrypted, the front-end invoke parameters, and a simulator
//! (feature `sandbox`). The official Go and Java SDKs have no PayScore order API.
//!
//! | # | endpoint | Rust | retries |
//! |---|---|---|---|
//! | 1 | `POST /v3/payscore/serviceorder` | [`Client::create_service_order`] | keyed by `out_order_no` |
//! | 2 | `GET /v3/payscore/serviceorder` | [`Client::query_service_order`] | safe |
//! | 3 | `POST …/{out_order_no}/cancel` | [`Client::cancel_service_order`] | keyed |
//! | 4 | `POST …/{out_order_no}/modify` | [`Client::modify_service_order`] | keyed |
//! | 5 | `POST …/{out_order_no}/complete` | [`Client::complete_service_order`] | keyed |
//! | 6 | `POST …/{out_order_no}/pay` | [`Client::pay_service_order`] | keyed |
//! | 7 | `POST …/{out_order_no}/sync` | [`Client::sync_service_order`] | keyed |
//! | 8 | `POST /v3/payscore/serviceorder/direct-complete` | [`Client::direct_complete`] | keyed |
//! | 9 | `POST /v3/payscore/permissions` | [`Client::apply_permissions`] | keyed by `authorization_code` |
//! | 10 | `GET …/authorization-code/{code}` | [`Client::query_authorization_by_code`] | safe |
//! | 11 | `POST …/authorization-code/{code}/terminate` | [`Client::terminate_authorization_by_code`] | keyed |
//! | 12 | `GET …/openid/{openid}` | [`Client::query_authorization_by_openid`] | safe |
//! | 13 | `POST …/openid/{openid}/terminate` | [`Client::terminate_authorization_by_openid`] | keyed |
//! | 14 | `POST …/assess-user-risk-level` | [`Client::assess_user_risk_level`] | safe |
//! | 15 | `POST …/{out_order_no}/send-pendingmessage` | [`Client::send_pending_message`] | keyed |
//! | 16 | `POST …/{out_order_no}/send-prepaidmessage` | [`Client::send_prepaid_message`] | keyed |
//! | 17 | `GET /v3/payscore/merchant-bill` | [`Client::merchant_bill`] | safe |
//! | | `GET /v3/certificates` | [`Client::refresh_certificates`] | safe |
//! | | callbacks | [`Client::parse_callback`] | — |
//!
//! Requests are signed over the exact bytes sent ([`auth`]); `out_order_no` is a
//! percent-encoded path segment, never part of a body. Every 2xx reply — a 204's empty
//! body included — is verified (all four `Wechatpay-*` headers, the 5-minute window on the
//! injectable clock, the key chosen by `Wechatpay-Serial`, `WECHATPAY/SIGNTEST/` probes
//! refused) before it is decoded. Writes keyed by `out_order_no` are retried with the same
//! parameters after `SYSTEM_ERROR`/5xx/429 and timeouts, as the documents ask.
//!
//! ```no_run
//! use tixpay_core::Secret;
//! use tixpay_wechat_payscore::*;
//!
//! # async fn run() -> Result<(), tixpay_core::Error> {
//! let config = Config::new("1230000109", "-----BEGIN PRIVATE KEY-----…", "5157F09E…", Secret::new("APIv3 key, 32 bytes............"))?
//!     .wechatpay_public_key("PUB_KEY_ID_…", "-----BEGIN PUBLIC KEY-----…")?;
//! let client = Client::new(config)?;
//! let order = client
//!     .create_service_order(
//!         &CreateServiceOrder::new(
//!             "RENT-1001", "wxd678efh567hg6787", "500001", "景区电瓶车租借",
//!             TimeRange::starting(TimePoint::OnAccept),
//!             RiskFund { name: RiskFundName::Deposit, amount: 20_000, description: None },
//!             "https://reseller.example/payscore/notify",
//!         )
//!         .post_payment(PostPayment::new("租车费", 3_000)),
//!     )
//!     .await?;
//! println!("confirm with package {:?}", order.package);
//! # Ok(()) }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
mod client;
mod config;
mod error;
pub mod invoke;
pub mod notify;
mod requests;
#[cfg(feature = "sandbox")]
pub mod sandbox;
mod types;

pub use client::{Client, OrderRef};
pub use config::{BACKUP_BASE_URL, Config, PRODUCTION_BASE_URL};
pub use error::{ErrorCode, PayScoreCode};
pub use requests::{
    AssessUserRiskLevel, Authorization, BillFile, CancelServiceOrder, CompleteServiceOrder,
    CreateServiceOrder, DirectComplete, MerchantBill, ModifyServiceOrder, OrderAck, PaymentMessage,
    PermissionsRequest, PermissionsToken, SyncDetail, SyncServiceOrder,
};
pub use types::{
    AuthorizationState, Collection, CollectionDetail, CollectionState, Device, Location, PaidType,
    PostDiscount, PostPayment, RiskFund, RiskFundName, ServiceOrder, State, StateDescription,
    TimePoint, TimeRange,
};
