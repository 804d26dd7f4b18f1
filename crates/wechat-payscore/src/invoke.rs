//! Front-end invoke parameters for PayScore's mini-program (`wx.openBusinessView`), JSAPI
//! (`wx.invoke('openBusinessView')` / `WeixinJSBridge`) and app (`WXOpenBusinessView`)
//! calls (spec §2.7, part 2 §4).
//!
//! | `businessType` | helper | signed |
//! |---|---|---|
//! | `wxpayScoreEnable` (open the service after pre-authorization) | [`enable_service`], [`enable_service_in_order_scene`] | no: the current documents list only `apply_permissions_token` (and, in partner mode, `scene=ORDER`) |
//! | `wxpayScoreUse` (confirm an order) | [`confirm_order`] | no: the current documents pass the create reply's `package` alone |
//! | `wxpayScoreUse`, older service ids | [`confirm_order_signed`] | yes, the six-field form |
//! | `wxpayScoreDetail` (show an order) | [`order_detail`] | yes |
//!
//! Each helper gives an [`InvokeParams`], one value per channel: mini-program `extraData`
//! is [`InvokeParams::to_json`], JSAPI `queryString` and the app's `query` are
//! [`InvokeParams::query_string`] (values percent-encoded), the app's `extInfo` is
//! [`InvokeParams::APP_EXT_INFO`].
//!
//! The signed forms use APIv2-style signing: sorted non-empty parameters,
//! `&key=<APIv2 key>`, HMAC-SHA256 keyed with the APIv2 key, upper-case hex. The key is the
//! **APIv2** key (the official skill documents; gopay's use of the APIv3 key contradicts
//! them); in partner mode, the provider's. Whether `package` already carries a signature
//! (one official page) is unresolved; the signed form signs the documented parameter set
//! and leaves `package` as the create reply gave it.
//!
//! The front end's callback cannot tell whether the user authorized or confirmed: confirm
//! with a query or the callback (`PAYSCORE.USER_OPEN_SERVICE`, `PAYSCORE.USER_CONFIRM`).
//!
//! ```
//! use tixpay_core::Secret;
//! use tixpay_wechat_payscore::invoke::sign;
//!
//! // Vector W4.
//! let params = [("appid", "wxd930ea5d5a258f4f"), ("mch_id", "10000100"), ("device_info", "1000"), ("body", "test"), ("nonce_str", "ibuaiVcKdpRxkhJA")];
//! assert_eq!(sign(&params, &Secret::new("192006250b4c09247ec02edce69f6a2d")), "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6");
//! ```

use tixpay_core::crypto::{hex, hmac_sha256};
use tixpay_core::{Error, Secret, SortedParams};

use crate::config::Config;

/// Signs `params` (the `sign` field, if any, and empty values left out).
pub fn sign(params: &[(&str, &str)], apiv2_key: &Secret) -> String {
    let p: SortedParams = params.iter().copied().collect();
    let signed = p
        .skip_empty(true)
        .exclude(&["sign"])
        .to_string_with_suffix("key", apiv2_key.expose());
    hex::encode_upper(hmac_sha256(apiv2_key.expose_bytes(), signed.as_bytes()))
}

/// The parameters to pass to `wx.openBusinessView` (mini-program `extraData`),
/// `WeixinJSBridge.invoke('openBusinessView')` (as a query string) or the app SDK.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvokeParams {
    /// `businessType`: `wxpayScoreUse` or `wxpayScoreDetail`.
    pub business_type: &'static str,
    /// The signed parameters, `sign` included.
    pub params: Vec<(String, String)>,
}

impl InvokeParams {
    /// The app's `WXOpenBusinessView.Req.extInfo`: `{"miniProgramType":0}` (the release
    /// version of the PayScore mini-program).
    pub const APP_EXT_INFO: &'static str = r#"{"miniProgramType":0}"#;

    /// The parameters as JSON (for `extraData`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.params
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
        )
    }

    /// The parameters as a URL query string (for JSAPI's `queryString`), percent-encoded.
    pub fn query_string(&self) -> String {
        self.params
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    k,
                    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
                )
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn build(
    config: &Config,
    business_type: &'static str,
    mut params: Vec<(String, String)>,
) -> Result<InvokeParams, Error> {
    let key = config.apiv2_key.as_ref().ok_or_else(|| {
        Error::config("the invoke signature needs the APIv2 key: Config::apiv2_key")
    })?;
    params.push(("sign_type".into(), "HMAC-SHA256".into()));
    let borrowed: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let signature = sign(&borrowed, key);
    params.push(("sign".into(), signature));
    Ok(InvokeParams {
        business_type,
        params,
    })
}

/// `wxpayScoreEnable`: the user opens the service after a pre-authorization
/// ([`Client::apply_permissions`](crate::Client::apply_permissions) or
/// [`PartnerClient::apply_permissions`](crate::PartnerClient::apply_permissions), whose
/// token is valid about an hour). Only `apply_permissions_token` is passed; nothing is
/// signed and no key is used.
///
/// ```
/// use tixpay_wechat_payscore::invoke::{self, InvokeParams};
///
/// let enable = invoke::enable_service("TOKEN+a/b=")?;
/// assert_eq!(enable.business_type, "wxpayScoreEnable");
/// // Mini-program: wx.openBusinessView({businessType, extraData}).
/// assert_eq!(enable.to_json(), serde_json::json!({"apply_permissions_token": "TOKEN+a/b="}));
/// // JSAPI queryString, and the app's query: the token url-encoded.
/// assert_eq!(enable.query_string(), "apply_permissions_token=TOKEN%2Ba%2Fb%3D");
/// assert_eq!(InvokeParams::APP_EXT_INFO, r#"{"miniProgramType":0}"#);
/// # Ok::<(), tixpay_core::Error>(())
/// ```
pub fn enable_service(apply_permissions_token: &str) -> Result<InvokeParams, Error> {
    check_token(apply_permissions_token)?;
    Ok(InvokeParams {
        business_type: "wxpayScoreEnable",
        params: vec![(
            "apply_permissions_token".into(),
            apply_permissions_token.to_owned(),
        )],
    })
}

/// `wxpayScoreEnable` in partner mode's order scene (服务商交易场景授权): as
/// [`enable_service`], with `scene=ORDER`.
///
/// ```
/// let enable = tixpay_wechat_payscore::invoke::enable_service_in_order_scene("T1")?;
/// assert_eq!(enable.query_string(), "apply_permissions_token=T1&scene=ORDER");
/// # Ok::<(), tixpay_core::Error>(())
/// ```
pub fn enable_service_in_order_scene(apply_permissions_token: &str) -> Result<InvokeParams, Error> {
    let mut params = enable_service(apply_permissions_token)?;
    params.params.push(("scene".into(), "ORDER".into()));
    Ok(params)
}

/// The token is string(300) in the current documents and [1, 2048] in an older page: the
/// wider bound is checked.
fn check_token(token: &str) -> Result<(), Error> {
    tixpay_core::validate::required("apply_permissions_token", token, 2048)
}

/// `wxpayScoreUse`: the user confirms the order created with `package` (from the create
/// reply, valid an hour), in the form the current documents show: `package` alone,
/// nothing signed. Older service ids that still need the signed six-field form use
/// [`confirm_order_signed`].
///
/// ```
/// let confirm = tixpay_wechat_payscore::invoke::confirm_order("DJIOSQPYWDxsa")?;
/// assert_eq!(confirm.business_type, "wxpayScoreUse");
/// assert_eq!(confirm.to_json(), serde_json::json!({"package": "DJIOSQPYWDxsa"}));
/// # Ok::<(), tixpay_core::Error>(())
/// ```
pub fn confirm_order(package: &str) -> Result<InvokeParams, Error> {
    tixpay_core::validate::not_blank("package", package)?;
    Ok(InvokeParams {
        business_type: "wxpayScoreUse",
        params: vec![("package".into(), package.to_owned())],
    })
}

/// `wxpayScoreUse` in the older signed form, for service ids that still need it: `mch_id`,
/// `package`, `timestamp` (seconds), `nonce_str` (≤ 32 characters), `sign_type` and
/// `sign`, signed with the APIv2 key ([`Config::apiv2_key`]).
pub fn confirm_order_signed(
    config: &Config,
    package: &str,
    timestamp: i64,
    nonce_str: &str,
) -> Result<InvokeParams, Error> {
    build(
        config,
        "wxpayScoreUse",
        vec![
            ("mch_id".into(), config.mchid.clone()),
            ("package".into(), package.to_owned()),
            ("timestamp".into(), timestamp.to_string()),
            ("nonce_str".into(), nonce_str.to_owned()),
        ],
    )
}

/// `wxpayScoreDetail`: show the user the order.
pub fn order_detail(
    config: &Config,
    service_id: &str,
    out_order_no: &str,
    timestamp: i64,
    nonce_str: &str,
) -> Result<InvokeParams, Error> {
    build(
        config,
        "wxpayScoreDetail",
        vec![
            ("mch_id".into(), config.mchid.clone()),
            ("service_id".into(), service_id.to_owned()),
            ("out_order_no".into(), out_order_no.to_owned()),
            ("timestamp".into(), timestamp.to_string()),
            ("nonce_str".into(), nonce_str.to_owned()),
        ],
    )
}
