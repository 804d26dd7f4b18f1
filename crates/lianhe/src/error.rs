//! Lianhe's reply codes.

/// `code` 10000: 执行成功, success on every method.
pub const CODE_SUCCESS: i64 = 10000;
/// `code` 200: success on `queryOrder` (its examples use 200/300 instead of 10000/20000).
pub const CODE_QUERY_SUCCESS: i64 = 200;
/// `code` 20000: 执行失败, the generic failure.
pub const CODE_FAILURE: i64 = 20000;
/// `code` 300: failure on `queryOrder` ("未找到订单").
pub const CODE_QUERY_FAILURE: i64 = 300;

tixpay_core::provider_codes! {
    /// The order-creation error codes of the admin book's 下单错误提示说明 (10001–10017).
    ///
    /// Whether the OpenAPI puts them in the reply's `code` is not stated in the documents; this
    /// type recognises them wherever they appear. Read one from an error with
    /// [`OrderErrorCode::from_error`].
    ///
    /// ```
    /// use tixpay_lianhe::{Error, OrderErrorCode, core::ApiError};
    ///
    /// let err = Error::api(ApiError::new("10009", "库存不足,产品已超售"));
    /// assert_eq!(OrderErrorCode::from_error(&err), Some(OrderErrorCode::OutOfStock));
    /// assert_eq!(OrderErrorCode::OutOfStock.code(), "10009");
    /// ```
    pub enum OrderErrorCode {
        "10001" => InsufficientBalance, "余额不足,请及时充值: the partner's balance is too low";
        "10002" => PriceAbnormalForDate, "当前日期产品价格异常,检查价格日历";
        "10003" => IdentityCheckFailed, "您提交信息不符合购买条件,身份证校验提示";
        "10004" => TravelDateRequired, "本产品必须指定出游日期";
        "10005" => TravelDateRestricted, "出游日限制购买";
        "10006" => SellPriceMismatch, "产品分销的售价不一致,不能下单";
        "10007" => SettlementPriceMismatch, "产品分销的结算价不一致,不能下单";
        "10008" => AdvancePurchaseRequired, "本产品需提前购买";
        "10009" => OutOfStock, "库存不足,产品已超售";
        "10010" => MobileRequired, "手机号不能为空";
        "10011" => AboveMaximumQuantity, "单次最多可购买X张";
        "10012" => BelowMinimumQuantity, "单次最少可购买X张";
        "10013" => VisitorPerTicketRequired, "需要所有游玩人信息,一人一票";
        "10014" => Code10014, "(the table says 无)";
        "10015" => Code10015, "(the table says 无)";
        "10016" => VisitorCredentialsRequired, "游玩人证件信息不可为空";
        "10017" => KioskOnly, "本票仅限自助机下单";
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tixpay_core::Error;

    #[test]
    fn round_trip() {
        for code in 10001..=10017 {
            let text = code.to_string();
            let known = OrderErrorCode::from_code(&text);
            assert!(!matches!(known, OrderErrorCode::Unknown(_)));
            assert_eq!(known.code(), text);
            assert!(known.description().is_some());
        }
        assert_eq!(
            OrderErrorCode::from_code("20000"),
            OrderErrorCode::Unknown("20000".into())
        );
        let err = Error::api(tixpay_core::ApiError::new("oops", "x"));
        assert_eq!(
            OrderErrorCode::from_error(&err),
            Some(OrderErrorCode::Unknown("oops".into()))
        );
    }
}
