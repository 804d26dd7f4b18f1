//! Lianhe's reply codes.

use tixpay_core::Error;

/// `code` 10000: 执行成功, success on every method.
pub const CODE_SUCCESS: i64 = 10000;
/// `code` 200: success on `queryOrder` (its examples use 200/300 instead of 10000/20000).
pub const CODE_QUERY_SUCCESS: i64 = 200;
/// `code` 20000: 执行失败, the generic failure.
pub const CODE_FAILURE: i64 = 20000;
/// `code` 300: failure on `queryOrder` ("未找到订单").
pub const CODE_QUERY_FAILURE: i64 = 300;

/// The order-creation error codes of the admin book's 下单错误提示说明 (10001–10017).
///
/// Whether the OpenAPI puts them in the reply's `code` is not stated in the documents; this
/// type recognises them wherever they appear. Read one from an error with
/// [`OrderErrorCode::from_error`].
///
/// ```
/// use tixpay_core::{ApiError, Error};
/// use tixpay_lianhe::OrderErrorCode;
///
/// let err = Error::api(ApiError::new("10009", "库存不足,产品已超售"));
/// assert_eq!(OrderErrorCode::from_error(&err), Some(OrderErrorCode::OutOfStock));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OrderErrorCode {
    /// 10001 余额不足,请及时充值: the partner's balance is too low.
    InsufficientBalance,
    /// 10002 当前日期产品价格异常,检查价格日历.
    PriceAbnormalForDate,
    /// 10003 您提交信息不符合购买条件,身份证校验提示.
    IdentityCheckFailed,
    /// 10004 本产品必须指定出游日期.
    TravelDateRequired,
    /// 10005 出游日限制购买.
    TravelDateRestricted,
    /// 10006 产品分销的售价不一致,不能下单.
    SellPriceMismatch,
    /// 10007 产品分销的结算价不一致,不能下单.
    SettlementPriceMismatch,
    /// 10008 本产品需提前购买.
    AdvancePurchaseRequired,
    /// 10009 库存不足,产品已超售.
    OutOfStock,
    /// 10010 手机号不能为空.
    MobileRequired,
    /// 10011 单次最多可购买X张.
    AboveMaximumQuantity,
    /// 10012 单次最少可购买X张.
    BelowMinimumQuantity,
    /// 10013 需要所有游玩人信息,一人一票.
    VisitorPerTicketRequired,
    /// 10014 (the table says 无).
    Code10014,
    /// 10015 (the table says 无).
    Code10015,
    /// 10016 游玩人证件信息不可为空.
    VisitorCredentialsRequired,
    /// 10017 本票仅限自助机下单.
    KioskOnly,
    /// Any other code.
    Unknown(i64),
}

impl OrderErrorCode {
    /// The code for `code`.
    pub fn from_code(code: i64) -> Self {
        match code {
            10001 => Self::InsufficientBalance,
            10002 => Self::PriceAbnormalForDate,
            10003 => Self::IdentityCheckFailed,
            10004 => Self::TravelDateRequired,
            10005 => Self::TravelDateRestricted,
            10006 => Self::SellPriceMismatch,
            10007 => Self::SettlementPriceMismatch,
            10008 => Self::AdvancePurchaseRequired,
            10009 => Self::OutOfStock,
            10010 => Self::MobileRequired,
            10011 => Self::AboveMaximumQuantity,
            10012 => Self::BelowMinimumQuantity,
            10013 => Self::VisitorPerTicketRequired,
            10014 => Self::Code10014,
            10015 => Self::Code10015,
            10016 => Self::VisitorCredentialsRequired,
            10017 => Self::KioskOnly,
            other => Self::Unknown(other),
        }
    }

    /// The number.
    pub fn code(self) -> i64 {
        match self {
            Self::InsufficientBalance => 10001,
            Self::PriceAbnormalForDate => 10002,
            Self::IdentityCheckFailed => 10003,
            Self::TravelDateRequired => 10004,
            Self::TravelDateRestricted => 10005,
            Self::SellPriceMismatch => 10006,
            Self::SettlementPriceMismatch => 10007,
            Self::AdvancePurchaseRequired => 10008,
            Self::OutOfStock => 10009,
            Self::MobileRequired => 10010,
            Self::AboveMaximumQuantity => 10011,
            Self::BelowMinimumQuantity => 10012,
            Self::VisitorPerTicketRequired => 10013,
            Self::Code10014 => 10014,
            Self::Code10015 => 10015,
            Self::VisitorCredentialsRequired => 10016,
            Self::KioskOnly => 10017,
            Self::Unknown(n) => n,
        }
    }

    /// The order-creation code of a provider error, if it carries a numeric one.
    pub fn from_error(err: &Error) -> Option<Self> {
        err.api_code()?.trim().parse().ok().map(Self::from_code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for code in 10001..=10017 {
            let known = OrderErrorCode::from_code(code);
            assert!(!matches!(known, OrderErrorCode::Unknown(_)));
            assert_eq!(known.code(), code);
        }
        assert_eq!(
            OrderErrorCode::from_code(20000),
            OrderErrorCode::Unknown(20000)
        );
        let err = Error::api(tixpay_core::ApiError::new("oops", "x"));
        assert_eq!(OrderErrorCode::from_error(&err), None);
    }
}
