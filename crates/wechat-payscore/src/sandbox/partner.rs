//! Partner (服务商) mode in the sandbox: `/v3/payscore/partner/…`.
//!
//! The sandbox merchant is the service provider (the same keys sign and verify), serving
//! the sub-merchants of [`SandboxOptions::sub_mchids`](super::SandboxOptions::sub_mchids);
//! another `sub_mchid` gets `403 NO_AUTH`, as WeChat Pay answers a sub-merchant that has
//! not authorized the provider. Partner orders live in the same state machine as direct
//! ones (one `out_order_no` space), carry their `sub_mchid` / `sub_appid` / `sub_openid`
//! into queries and callbacks, and are found only under their own `sub_mchid`. The order
//! actions, direct-complete and the terminations answer `204`, signed.

#![allow(clippy::indexing_slicing)]

use http::StatusCode;
use serde_json::{Value, json};
use tixpay_core::sandbox::{SandboxRequest, SandboxResponse};

use super::{
    PayScoreSandbox, SANDBOX_APPID, SANDBOX_MCHID, SANDBOX_SERVICE_ID, SANDBOX_SUB_APPID,
    Simulator, sandbox_random,
};

impl PayScoreSandbox {
    /// The first sub-merchant the sandbox serves in partner mode.
    pub fn sub_mchid(&self) -> &str {
        self.simulator
            .options
            .sub_mchids
            .first()
            .map_or(super::SANDBOX_SUB_MCHID, String::as_str)
    }

    /// The `sub_appid` the sandbox accepts in partner mode.
    pub fn sub_appid(&self) -> &'static str {
        SANDBOX_SUB_APPID
    }
}

impl Simulator {
    /// `NO_AUTH` unless `sub_mchid` is one of the configured sub-merchants and `sub_appid`,
    /// when given, is the sandbox's.
    fn check_sub(
        &self,
        sub_mchid: Option<&str>,
        sub_appid: Option<&str>,
    ) -> Option<SandboxResponse> {
        let served = sub_mchid.is_some_and(|id| self.options.sub_mchids.iter().any(|s| s == id));
        if !served || sub_appid.is_some_and(|a| a != SANDBOX_SUB_APPID) {
            return Some(self.error(
                StatusCode::FORBIDDEN,
                "NO_AUTH",
                "请检查sub_mchid是否授权mchid微信支付分产品权限",
                Some(268_503_786),
            ));
        }
        None
    }

    fn not_found(&self) -> SandboxResponse {
        self.error(
            StatusCode::NOT_FOUND,
            "ORDER_NOT_EXIST",
            "订单不存在",
            Some(271_317_510),
        )
    }

    /// A success of the shared state machine, answered as partner mode does: `204`, signed.
    fn no_content_if_done(&self, response: SandboxResponse) -> SandboxResponse {
        if response.status.is_success() {
            self.signed(StatusCode::NO_CONTENT, String::new())
        } else {
            response
        }
    }

    /// The order's `sub_mchid`, `None` for an unknown or direct order.
    fn order_sub_mchid(&self, no: &str) -> Option<Option<String>> {
        self.state.with(|s| {
            s.orders
                .get(no)
                .map(|o| o["sub_mchid"].as_str().map(str::to_owned))
        })
    }

    pub(super) fn partner(
        &self,
        request: &SandboxRequest,
        rest: &[&str],
        body: &Value,
    ) -> SandboxResponse {
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let q = |name: &str| request.query_param(name);
        let body_sub = body["sub_mchid"].as_str();
        let body_sub_appid = body["sub_appid"].as_str();
        match (request.method.as_str(), rest) {
            ("POST", ["serviceorder"]) => {
                if let Some(refused) = self.check_sub(body_sub, body_sub_appid) {
                    return refused;
                }
                self.create(body)
            }
            ("GET", ["serviceorder"]) => {
                let sub = q("sub_mchid");
                if let Some(refused) = self.check_sub(sub.as_deref(), None) {
                    return refused;
                }
                let no = q("out_order_no")
                    .or_else(|| q("query_id"))
                    .unwrap_or_default();
                match self.order_sub_mchid(&no) {
                    Some(Some(owner)) if Some(&owner) == sub.as_ref() => {
                        self.query(&no, q("service_id").as_deref())
                    }
                    _ => self.not_found(),
                }
            }
            ("POST", ["serviceorder", "direct-complete"]) => {
                if let Some(refused) = self.check_sub(body_sub, body_sub_appid) {
                    return refused;
                }
                let response = self.direct_complete(body);
                self.no_content_if_done(response)
            }
            ("POST", ["serviceorder", no, action]) => {
                if let Some(refused) = self.check_sub(body_sub, None) {
                    return refused;
                }
                let no = decode(no);
                match self.order_sub_mchid(&no) {
                    Some(Some(owner)) if Some(owner.as_str()) == body_sub => {}
                    _ => return self.not_found(),
                }
                // The partner schemas have no appid; the shared state machine checks the
                // direct one's, so the order's own is filled in (and its service_id where
                // the partner body may leave it out).
                let mut direct = body.clone();
                if let Some(map) = direct.as_object_mut() {
                    map.insert("appid".into(), json!(SANDBOX_APPID));
                    map.entry("service_id").or_insert(json!(SANDBOX_SERVICE_ID));
                }
                let response = self.action(&no, action, &direct);
                self.no_content_if_done(response)
            }
            ("POST", ["permissions"]) => {
                if let Some(refused) = self.check_sub(body_sub, body_sub_appid) {
                    return refused;
                }
                if let Some(refused) = self.check_app(body) {
                    return refused;
                }
                let code = body["authorization_code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                self.state.with(|s| {
                    s.authorizations.insert(code.clone(), json!({"authorization_code": code, "authorization_state": "UNAVAILABLE", "service_id": body["service_id"], "appid": body["appid"], "mchid": SANDBOX_MCHID, "sub_mchid": body["sub_mchid"], "sub_appid": body["sub_appid"]}))
                });
                self.signed(
                    StatusCode::OK,
                    json!({"apply_permissions_token": format!("TOKEN{}", sandbox_random(16))})
                        .to_string(),
                )
            }
            ("POST", ["permissions", "apply-for-scene"]) => {
                if let Some(refused) = self.check_sub(body_sub, body_sub_appid) {
                    return refused;
                }
                self.signed(StatusCode::OK, json!({"scene": body["scene"], "transaction_permissions_token": format!("TOKEN{}", sandbox_random(16))}).to_string())
            }
            ("GET", ["permissions", "authorization-code", code]) => {
                let sub = q("sub_mchid");
                if let Some(refused) = self.check_sub(sub.as_deref(), None) {
                    return refused;
                }
                let found = self
                    .state
                    .with(|s| s.authorizations.get(&decode(code)).cloned());
                match found.filter(|a| a["sub_mchid"].as_str() == sub.as_deref()) {
                    Some(a) => self.signed(StatusCode::OK, super::public(&a).to_string()),
                    None => self.error(
                        StatusCode::NOT_FOUND,
                        "RESOURCE_NOT_EXISTS",
                        "授权记录不存在",
                        None,
                    ),
                }
            }
            ("POST", ["permissions", "authorization-code", code, "terminate"]) => {
                if let Some(refused) = self.check_sub(body_sub, None) {
                    return refused;
                }
                let code = decode(code);
                let removed = self.state.with(|s| {
                    let owned = s
                        .authorizations
                        .get(&code)
                        .is_some_and(|a| a["sub_mchid"].as_str() == body_sub);
                    owned && s.authorizations.remove(&code).is_some()
                });
                if removed {
                    self.signed(StatusCode::NO_CONTENT, String::new())
                } else {
                    self.error(
                        StatusCode::NOT_FOUND,
                        "RESOURCE_NOT_EXISTS",
                        "授权记录不存在",
                        None,
                    )
                }
            }
            ("GET", ["permissions", "search"]) => {
                let sub = q("sub_mchid");
                if let Some(refused) = self.check_sub(sub.as_deref(), q("sub_appid").as_deref()) {
                    return refused;
                }
                self.signed(
                    StatusCode::OK,
                    super::public(&json!({"service_id": q("service_id"), "appid": q("appid"), "mchid": SANDBOX_MCHID, "sub_mchid": sub, "sub_appid": q("sub_appid"), "openid": q("openid"), "sub_openid": q("sub_openid"), "authorization_state": "AVAILABLE", "authorization_success_time": "2024-01-01T10:00:00+08:00"})).to_string(),
                )
            }
            ("POST", ["permissions", "terminate"]) => {
                if let Some(refused) = self.check_sub(body_sub, body_sub_appid) {
                    return refused;
                }
                self.signed(StatusCode::NO_CONTENT, String::new())
            }
            ("POST", ["permissions", "assess-user-risk-level"]) => {
                let sub = q("sub_mchid");
                if let Some(refused) = self.check_sub(sub.as_deref(), body_sub_appid) {
                    return refused;
                }
                self.signed(
                    StatusCode::OK,
                    super::public(&json!({"service_id": body["service_id"], "appid": body["appid"], "mchid": SANDBOX_MCHID, "sub_mchid": sub, "openid": body["openid"], "sub_openid": body["sub_openid"], "authorization_state": "AVAILABLE", "user_risk_level": 1, "risk_level_version": 1})).to_string(),
                )
            }
            ("GET", ["servicequotas", "service-id", service_id]) => {
                let sub = q("sub_mchid");
                if let Some(refused) = self.check_sub(sub.as_deref(), q("sub_appid").as_deref()) {
                    return refused;
                }
                let version: i64 = q("risk_level_version")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1);
                self.signed(
                    StatusCode::OK,
                    json!({"service_id": decode(service_id), "mchid": SANDBOX_MCHID, "sub_mchid": sub, "appid": q("appid"), "risk_level_version": version, "quotas": [{"risk_level": 1, "suggested_quota": 10_000}, {"risk_level": 2, "suggested_quota": 5_000}]}).to_string(),
                )
            }
            ("POST", ["service-account-applications"]) => {
                if let Some(refused) = self.check_sub(body_sub, body_sub_appid) {
                    return refused;
                }
                let no = body["out_apply_no"].as_str().unwrap_or_default().to_owned();
                // The documents list no `apply_state` values: the sandbox's own is named so.
                let application = super::public(
                    &json!({"service_id": body["service_id"], "mchid": SANDBOX_MCHID, "appid": body["appid"], "sub_mchid": body["sub_mchid"], "sub_appid": body["sub_appid"], "out_apply_no": no, "result_notify_url": body["result_notify_url"], "apply_state": "SANDBOX_ACCEPTED"}),
                );
                self.state
                    .with(|s| s.applications.insert(no, application.clone()));
                self.signed(StatusCode::OK, application.to_string())
            }
            ("GET", ["service-account-applications", no]) => {
                match self
                    .state
                    .with(|s| s.applications.get(&decode(no)).cloned())
                {
                    Some(a) => self.signed(StatusCode::OK, a.to_string()),
                    None => self.error(
                        StatusCode::NOT_FOUND,
                        "RESOURCE_NOT_EXISTS",
                        "申请单不存在",
                        None,
                    ),
                }
            }
            _ => self.error(
                StatusCode::NOT_FOUND,
                "RESOURCE_NOT_EXISTS",
                "no such partner endpoint in the sandbox",
                None,
            ),
        }
    }
}
