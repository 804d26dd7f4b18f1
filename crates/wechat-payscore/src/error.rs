//! WeChat Pay's error codes, and PayScore's finer codes carried in `Request-ID`.

use bytes::Bytes;
use tixpay_core::{ApiError, Error};

tixpay_core::provider_codes! {
    /// The `code` of an APIv3 error body, or the raw code.
    ///
    /// ```
    /// use tixpay_wechat_payscore::ErrorCode;
    /// assert_eq!(ErrorCode::from_code("ORDER_NOT_EXISTS"), ErrorCode::OrderNotExist);
    /// assert_eq!(ErrorCode::OrderNotExist.code(), "ORDER_NOT_EXIST");
    /// ```
    pub enum ErrorCode {
        "SYSTEM_ERROR" => SystemError, "500: 系统错误, retry with the same parameters";
        "PARAM_ERROR" => ParamError, "400: 参数错误";
        "INVALID_REQUEST" => InvalidRequest, "400: the same number was used with other parameters";
        "SIGN_ERROR" => SignError, "401: the request signature is wrong";
        "NO_AUTH" => NoAuth, "403: 商户无权限";
        "FREQUENCY_LIMITED" => FrequencyLimited, "429: 频率超限";
        "ORDER_NOT_EXIST" | "ORDER_NOT_EXISTS" => OrderNotExist, "404: 订单不存在";
        "INVALID_ORDER_STATE" => InvalidOrderState, "400: the order's state does not allow this";
        "ORDER_CANCELED" => OrderCanceled, "400: 订单已取消";
        "ORDER_DONE" => OrderDone, "400: 订单已完成";
        "RESOURCE_NOT_EXISTS" => ResourceNotExists, "404: e.g. no platform certificates (use the public key)";
    }
}

/// PayScore's most frequent finer codes: the number after the last `-` of `Request-ID`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayScoreCode {
    /// 271317510 order not found.
    OrderNotFound,
    /// 271316574 deduction failed.
    DeductionFailed,
    /// 271302262 / 271302333 / 271302332 illegal order state.
    IllegalOrderState,
    /// 268435464 parameter out of range.
    ParameterOutOfRange,
    /// 271316657 only while payment is pending.
    OnlyWhileUnpaid,
    /// 271316598 re-entry with different parameters.
    ReentryMismatch,
    /// 271302144 mch_id not found.
    MerchantNotFound,
    /// 271302149 mch_id and appid not bound.
    AppidNotBound,
    /// 268435472 rate-limited.
    RateLimited,
    /// 271300099 risk assessment rejected.
    RiskRejected,
    /// 271299627 the user has overdue unpaid orders.
    UserHasOverdueOrders,
    /// 268503786 no permission.
    NoPermission,
    /// 271316592 cannot cancel in this state.
    CannotCancelInState,
    /// 270924332 invalid Authorization.
    InvalidAuthorization,
    /// 271316754 deduction in progress.
    DeductionInProgress,
    /// 271316656 amount above the service's risk cap.
    AboveRiskCap,
    /// 271316637 end_time before start_time.
    EndBeforeStart,
    /// 268560785 teen-mode limit.
    TeenModeLimit,
    /// Another number.
    Other(u64),
}

impl PayScoreCode {
    /// The code for `n`.
    pub fn from_number(n: u64) -> Self {
        match n {
            271_317_510 => Self::OrderNotFound,
            271_316_574 => Self::DeductionFailed,
            271_302_262 | 271_302_333 | 271_302_332 => Self::IllegalOrderState,
            268_435_464 => Self::ParameterOutOfRange,
            271_316_657 => Self::OnlyWhileUnpaid,
            271_316_598 => Self::ReentryMismatch,
            271_302_144 => Self::MerchantNotFound,
            271_302_149 => Self::AppidNotBound,
            268_435_472 => Self::RateLimited,
            271_300_099 => Self::RiskRejected,
            271_299_627 => Self::UserHasOverdueOrders,
            268_503_786 => Self::NoPermission,
            271_316_592 => Self::CannotCancelInState,
            270_924_332 => Self::InvalidAuthorization,
            271_316_754 => Self::DeductionInProgress,
            271_316_656 => Self::AboveRiskCap,
            271_316_637 => Self::EndBeforeStart,
            268_560_785 => Self::TeenModeLimit,
            other => Self::Other(other),
        }
    }

    /// The finer code of a provider error, read from its `Request-ID`.
    ///
    /// ```
    /// use tixpay_core::{ApiError, Error};
    /// use tixpay_wechat_payscore::PayScoreCode;
    /// let err = Error::api(ApiError::new("INVALID_ORDER_STATE", "单据状态错误").with_request_id("08F4D-271316592"));
    /// assert_eq!(PayScoreCode::from_error(&err), Some(PayScoreCode::CannotCancelInState));
    /// ```
    pub fn from_error(err: &Error) -> Option<Self> {
        let id = err.as_api()?.request_id.as_deref()?;
        let (_, tail) = id.rsplit_once('-')?;
        tail.trim().parse().ok().map(Self::from_number)
    }
}

/// A non-2xx reply as an error: `{code, message, detail}` with the `Request-ID`, or a bare HTTP
/// error when the body is not WeChat Pay's error object. Whether it is authenticated is
/// decided by the caller (see [`crate::auth`]).
pub(crate) fn refusal_of(response: &http::Response<Bytes>) -> Error {
    #[derive(serde::Deserialize)]
    struct Body {
        code: String,
        #[serde(default)]
        message: String,
        #[serde(default)]
        detail: Option<serde_json::Value>,
    }
    let status = response.status();
    let request_id = response
        .headers()
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match serde_json::from_slice::<Body>(response.body()) {
        Ok(body) => {
            // SYSTEM_ERROR says so in the (signed) body: retry with the same parameters, and
            // nothing is settled, whatever the unsigned status code says.
            let system_error = body.code == "SYSTEM_ERROR";
            let mut api = ApiError::new(body.code.clone(), body.message)
                .with_status(status)
                .with_body(response.body().clone())
                .retryable(system_error)
                .outcome_unknown(system_error);
            if let Some(detail) = body.detail {
                api = api.with_detail(detail);
            }
            if let Some(id) = request_id {
                api = api.with_request_id(id);
            }
            Error::api(api)
        }
        Err(_) => Error::http(status, response.body(), request_id),
    }
}
