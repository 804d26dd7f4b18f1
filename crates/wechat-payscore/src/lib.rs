#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
pub mod bill;
mod certificates;
mod client;
mod config;
mod error;
pub mod invoke;
pub mod notify;
#[cfg(feature = "sandbox")]
pub mod sandbox;
mod types;
mod wire;

pub use client::{Client, OrderRef, PartnerClient};
pub use config::{BACKUP_BASE_URL, Config, DEFAULT_CERTIFICATE_REFRESH, PRODUCTION_BASE_URL};
pub use error::{ErrorCode, PayScoreCode};
/// `tixpay-core`, re-exported so that this crate works alone: the shared client, errors,
/// money, secrets, clocks and test helpers are reachable as `core::…`.
pub use tixpay_core as core;
pub use tixpay_core::{Error, ErrorKind, Fen, Result, Secret};
pub use types::{
    ApplyForScene, PartnerAssessUserRiskLevel, PartnerCancelServiceOrder,
    PartnerCompleteServiceOrder, PartnerCreateServiceOrder, PartnerDirectComplete,
    PartnerModifyServiceOrder, PartnerPaymentMessage, PartnerPermissionsRequest, PartnerSyncDetail,
    PartnerSyncServiceOrder, PartnerTerminateAuthorization, PartnerUser, Quota, SceneToken,
    ServiceAccountApplication, ServiceAccountApplicationState, ServiceQuotas, TransactionSceneInfo,
};
pub use types::{
    AssessUserRiskLevel, Authorization, AuthorizationState, BillFile, CancelServiceOrder,
    Collection, CollectionDetail, CollectionState, CompleteServiceOrder, CreateServiceOrder,
    Device, DirectComplete, Location, MerchantBill, ModifyServiceOrder, OrderAck, PaidType,
    PaymentMessage, PermissionsRequest, PermissionsToken, PostDiscount, PostPayment, RiskFund,
    RiskFundName, ServiceOrder, State, StateDescription, SyncDetail, SyncServiceOrder, TimePoint,
    TimeRange,
};

#[cfg(test)]
mod readme {
    #[test]
    fn examples_need_only_this_crate() {
        tixpay_core::test_util::assert_readme_stands_alone(
            include_str!("../README.md"),
            "tixpay_wechat_payscore",
        );
    }
}
