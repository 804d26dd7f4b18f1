//! LeShua's error codes (交易错误码参照表, manual page 1099868), and how a reply's layers map
//! onto [`tixpay_core::Error`].
//!
//! A reply is judged in the manual's order: `resp_code` ≠ 0 is a protocol error (its
//! [`ApiError`](tixpay_core::ApiError) has `layer` [`ErrorLayer::Protocol`] and the
//! `resp_code` as code); `result_code` ≠ 0 is a business error ([`ErrorLayer::Business`],
//! the `error_code` as code); then the `status` of the order.
//!
//! [`ErrorLayer::Protocol`]: tixpay_core::ErrorLayer::Protocol
//! [`ErrorLayer::Business`]: tixpay_core::ErrorLayer::Business

tixpay_core::provider_codes! {
    /// A LeShua error code (交易错误码参照表), or the raw code.
    ///
    /// ```
    /// use tixpay_leshua::ErrorCode;
    /// assert_eq!(ErrorCode::from_code("-5103"), ErrorCode::DuplicateRefundId);
    /// assert_eq!(ErrorCode::from_code("-1041").code(), "-1041");
    /// ```
    pub enum ErrorCode {
    "-20001" => InvalidParameter, "参数错误或无效";
    "-20002" => InvalidMerchant, "无效的乐刷商户号";
    "-20003" => BadThirdOrderIdFormat, "商户订单号格式有误";
    "-20004" => OrderNotFound, "乐刷订单不存在";
    "-20005" => ServiceError, "服务错误";
    "-20006" => SignatureFailed, "验签失败";
    "-20007" => KeyNotConfigured, "签名 Key 未配置";
    "-20008" => BadPayWay, "支付类型错误";
    "-20009" => BadAmount, "订单金额填写有误";
    "-20010" => SystemError, "系统错误";
    "-20011" => IllegalParameter, "非法参数";
    "-20012" => EmptyAuthCode, "授权码为空";
    "-20013" => IllegalAuthCode, "非法的授权码";
    "-20014" => UnknownAuthCodeType, "未知类型的授权码";
    "-20015" => IllegalJsPayFlag, "非法的公众号支付标识";
    "-20016" => InvalidLeshuaOrderId, "无效乐刷订单号";
    "-20018" => InvalidOrderIds, "无效的第三方订单号或者乐刷订单号";
    "-20019" => RefundNotAllowed, "订单状态不允许退款";
    "-20020" => NotRefunded, "订单未退款";
    "-20021" => UserMerchantMismatch, "用户名跟商户ID不匹配";
    "-20022" => InvalidRefundId, "无效的第三方退款订单号";
    "-20023" => InsufficientRefundableBalance, "订单可退余额不足";
    "-20024" => OrderIdRequired, "乐刷或第三方订单号必填 1 个";
    "-20025" => RefundIdRequired, "乐刷或第三方退款订单号必填 1 个";
    "-20026" => DuplicateThirdOrderId, "第三方订单号在该商户号下已经存在";
    "-20027" => AlreadyPaid, "该订单已支付";
    "-20028" => PaymentFailedCannotCancel, "订单支付失败，不能撤销";
    "-20029" => AlreadyRefunded, "该订单已退款";
    "-20030" => RefundFailedCannotCancel, "该订单退款失败，不能撤销";
    "-20031" => InvalidDeviceSn, "无效的机具 SN 编号，请联系客服";
    "-20032" => DeviceNotBound, "机具 SN 跟商户无绑定关系";
    "-4027" => SystemException, "系统异常";
    "-4006" => OrderDoesNotExist, "订单不存在";
    "-1006" => OrderIdUsed, "该订单号已被用";
    "-1002" => InvalidMerchantId, "无效商户号";
    "-2034" => TestMerchantLimit, "测试商户号金额限制";
    "-4004" => OrderProcessing, "订单正在处理中";
    "-5103" => DuplicateRefundId, "商户退款 id 已存在";
    "-5014" => NoRefundPermission, "商户无退款权限";
    "-5015" => RefundUnsupported, "暂不支持退款";
    "-5016" => OrderStateAbnormal, "订单状态异常";
    "-5017" => InsufficientRefundableAmount, "订单可退金额不足";
    "-5018" => RefundCountExceeded, "订单退款次数超限";
    "-5019" => RefundNotInitiated, "订单未发起退款";
    "-5020" => FeatureUnsupported, "接口不支持该功能";
    "-2125" => RiskControlBlocked, "交易被风控拦截";
    }
}
