#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use tixpay_core as core;

/// 联合票务 Lianhe ticket distribution (feature `lianhe`).
#[cfg(feature = "lianhe")]
#[cfg_attr(docsrs, doc(cfg(feature = "lianhe")))]
pub use tixpay_lianhe as lianhe;

/// 乐刷 LeShua payment gateway (feature `leshua`).
#[cfg(feature = "leshua")]
#[cfg_attr(docsrs, doc(cfg(feature = "leshua")))]
pub use tixpay_leshua as leshua;

/// 游宝星 electronic ticket system with Hawk authentication (feature `ticket-hawk`).
#[cfg(feature = "ticket-hawk")]
#[cfg_attr(docsrs, doc(cfg(feature = "ticket-hawk")))]
pub use tixpay_ticket_hawk as ticket_hawk;

/// WeChat Pay PayScore 微信支付分 (feature `wechat-payscore`).
#[cfg(feature = "wechat-payscore")]
#[cfg_attr(docsrs, doc(cfg(feature = "wechat-payscore")))]
pub use tixpay_wechat_payscore as wechat_payscore;
