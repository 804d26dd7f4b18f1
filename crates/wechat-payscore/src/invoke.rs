//! Front-end invoke parameters for `wxpayScoreUse` (confirm an order) and
//! `wxpayScoreDetail` (show an order), signed APIv2-style: sorted non-empty parameters,
//! `&key=<APIv2 key>`, HMAC-SHA256 keyed with the APIv2 key, upper-case hex (spec §2.7).
//!
//! The key is the **APIv2** key (the official skill documents; gopay's use of the APIv3 key
//! contradicts them). Whether `package` already carries a signature (one official page)
//! is unresolved; this module signs the documented parameter set and leaves `package`
//! as the create reply gave it.
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

/// `wxpayScoreUse`: the user confirms the order created with `package` (from the create
/// reply). `timestamp` in seconds; `nonce_str` ≤ 32 characters.
pub fn confirm_order(
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
