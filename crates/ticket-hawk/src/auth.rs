//! The ticket system's half of every call ([`Authenticate`]): a fresh Hawk header for each
//! attempt, and each reply verified, bound and judged against what that attempt signed.
//!
//! - **Signing.** Every attempt gets a new nonce and timestamp (a Hawk server refuses a
//!   replayed nonce), the timestamp corrected by the offset learnt from the server, and a
//!   payload hash over the exact body bytes.
//! - **Stale timestamp.** A `401` whose `WWW-Authenticate` carries the server's `ts` is a
//!   refusal *before* the server acted. When its `tsm` verifies (or the connection is TLS,
//!   or [`Config::trust_unsigned_server_time`] is on) the offset is adopted and the client
//!   signs again and resends at once ([`Verdict::SignAgain`]), once per call.
//! - **Server-Authorization.** When present (or [`ServerAuth::Required`]) it must verify:
//!   its MAC covers this attempt's `ts`, `nonce`, method, resource, host and port, and the
//!   reply's payload hash, so a verified reply is bound to this very request. Without it the
//!   reply is not authenticated: under the default [`ServerAuth::IfPresent`] a refusal of a
//!   write is then outcome-unknown, and once the server has signed one reply to this client
//!   (or a clone), a reply without the header is refused as stripped. [`ServerAuth::Off`]
//!   declares that the deployment signs nothing, and its refusals are taken as answers (only
//!   TLS vouches for them).
//! - **Judging.** A non-2xx reply, or a 2xx whose body is an `OperationResult` with
//!   `errcode` ≠ 0, is a refusal; an order reply must echo the `orderid` asked for when it
//!   carries one.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use bytes::Bytes;
use http::StatusCode;
use serde_json::Value;
use tixpay_core::{ApiError, Authenticate, Clock, Error, Reply, SignatureSubject, Verdict};

use crate::config::{Config, ServerAuth};
use crate::hawk::{Artifacts, ServerAuthorization, WwwAuthenticate};
use crate::types::{OperationResult, OrderOperatorResult};
use crate::wire;

/// A reply the ticket system's hook accepted: its status and exact bytes, and the body read
/// as JSON (XML replies are mapped onto the same shape).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Bytes,
    pub(crate) value: Value,
}

impl Answer {
    /// A decode error that keeps this reply's evidence.
    pub(crate) fn decode_error(&self, message: &str) -> Error {
        Error::decode(Some(self.status), &self.body, None, message)
    }
}

/// One call of one client: the configuration, and what the client's clones share: the
/// clock offset, and whether this server has signed a reply (`Server-Authorization`).
pub(crate) struct Exchange<'a> {
    pub(crate) config: &'a Config,
    pub(crate) offset_millis: &'a AtomicI64,
    pub(crate) server_signs: &'a AtomicBool,
}

impl Authenticate for Exchange<'_> {
    type Signed = Artifacts;
    type Output = Answer;

    fn sign(&self, request: &mut http::Request<Bytes>, _attempt: u32) -> Result<Artifacts, Error> {
        let config = self.config;
        let now = config
            .clock
            .now_millis()
            .saturating_add(self.offset_millis.load(Ordering::SeqCst));
        let nonce = config.nonce.nonce(12)?;
        let mut artifacts = Artifacts::for_url(
            request.method().as_str(),
            request.uri(),
            now.div_euclid(1000),
            nonce,
        )
        .map_err(|e| Error::config(e.to_string()))?;
        if !request.body().is_empty() {
            let content_type = request
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            artifacts = artifacts.hash(
                config
                    .credentials
                    .payload_hash(content_type, request.body()),
            );
        }
        if let Some(ext) = &config.ext {
            artifacts = artifacts.ext(ext.clone());
        }
        let header = config
            .credentials
            .header(&artifacts)
            .map_err(|e| Error::config(e.to_string()))?;
        let value = http::HeaderValue::from_str(&header)
            .map_err(|_| Error::config("the Hawk header is not a valid header value"))?;
        request
            .headers_mut()
            .insert(http::header::AUTHORIZATION, value);
        Ok(artifacts)
    }

    async fn verify(&self, reply: Reply<'_, Artifacts>) -> Verdict<Answer> {
        self.judge(reply)
    }
}

impl Exchange<'_> {
    fn judge(&self, reply: Reply<'_, Artifacts>) -> Verdict<Answer> {
        let response = &reply.response;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED {
            return self.unauthorized(response);
        }
        let verified = match self.check_server_auth(response, &reply.signed) {
            Ok(verified) => verified,
            Err(e) => return Verdict::Reject(e),
        };
        let unverified = |e: Error| {
            if verified || self.config.server_auth == ServerAuth::Off {
                e
            } else {
                e.mark_unverified("the reply carries no Server-Authorization")
            }
        };
        let value = match decode(response) {
            Ok(v) => v,
            Err(e) => return Verdict::Reject(unverified(e)),
        };
        let binding = reply
            .operation
            .binding(|field| value.get(field).and_then(text));
        if let Some((refusal, stated_in_body)) = refusal(status, &value, response.body()) {
            // The response MAC covers the body, not the status code: a status alone cannot
            // make a refusal authentic.
            let refusal = if stated_in_body || !verified {
                unverified(refusal)
            } else {
                refusal.mark_unverified("the status code is outside the Server-Authorization MAC")
            };
            return Verdict::Reject(binding.judge_refusal(refusal));
        }
        match binding.require() {
            Ok(()) => Verdict::Accept(Answer {
                status,
                body: response.body().clone(),
                value,
            }),
            Err(e) => Verdict::Reject(e),
        }
    }

    /// A `401`: a stale timestamp the client can correct, or a refusal of the credentials.
    fn unauthorized(&self, response: &http::Response<Bytes>) -> Verdict<Answer> {
        // Several challenges may come (IIS adds Negotiate, Basic…): read the Hawk one.
        let hawk = response
            .headers()
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| {
                v.trim_start()
                    .get(..4)
                    .is_some_and(|s| s.eq_ignore_ascii_case("hawk"))
            });
        let www = match hawk.map(WwwAuthenticate::parse) {
            Some(Ok(www)) => www,
            Some(Err(e)) => {
                return Verdict::Reject(Error::decode(
                    Some(response.status()),
                    response.body(),
                    Some("WWW-Authenticate".into()),
                    e.to_string(),
                ));
            }
            None => WwwAuthenticate::default(),
        };
        let refused = unauthorized_error(response, &www);
        if www.is_stale_timestamp() {
            // Believed enough to sign again (the server's time is proven by tsm or TLS), but
            // not as an answer: tsm covers the time alone, not this request, so should no
            // attempt be left, this refusal settles nothing.
            return match self.resync(&www) {
                Ok(()) => Verdict::SignAgain(refused.mark_unverified(
                    "a stale-timestamp 401 proves the server's time, not that this request was refused",
                )),
                Err(e) => Verdict::Reject(e),
            };
        }
        // Nothing authenticates a 401 but a tsm, and this one has none to check.
        Verdict::Reject(if self.config.server_auth == ServerAuth::Off {
            refused
        } else {
            refused.mark_unverified("a 401 without a verified tsm is not authenticated")
        })
    }

    /// Adopts the server's time from a stale-timestamp reply, after checking `tsm`.
    fn resync(&self, www: &WwwAuthenticate) -> Result<(), Error> {
        let config = self.config;
        let verified = www.verify_tsm(&config.credentials).map_err(|e| {
            Error::signature(
                SignatureSubject::Response,
                format!("stale-timestamp reply: {e}"),
            )
        })?;
        let over_tls = config.base_url.starts_with("https://");
        if !verified && !over_tls && !config.trust_unsigned_server_time {
            return Err(Error::signature(
                SignatureSubject::Response,
                "the server's time came without tsm over plain HTTP; enable Config::trust_unsigned_server_time to accept it",
            ));
        }
        let server_ts = www.ts.unwrap_or_default();
        let offset = server_ts
            .saturating_mul(1000)
            .saturating_sub(config.clock.now_millis());
        // A clock ten years off is not skew but a broken or hostile answer.
        if offset.unsigned_abs() > 10 * 365 * 86_400 * 1000 {
            return Err(Error::signature(
                SignatureSubject::Response,
                format!("the server's time {server_ts} is implausibly far from ours"),
            ));
        }
        tracing::info!(
            offset_ms = offset,
            "Hawk clock offset adopted from the server"
        );
        self.offset_millis.store(offset, Ordering::SeqCst);
        Ok(())
    }

    /// `Ok(true)` when a `Server-Authorization` verified over this attempt's artifacts,
    /// `Ok(false)` when none was required and none came.
    fn check_server_auth(
        &self,
        response: &http::Response<Bytes>,
        signed: &Artifacts,
    ) -> Result<bool, Error> {
        let config = self.config;
        let header = response.headers().get("server-authorization");
        let fail = |why: String| Error::signature(SignatureSubject::Response, why);
        match (config.server_auth, header) {
            (ServerAuth::Off, _) => Ok(false),
            // Once this server has signed a reply, it signs them: a missing header is then a
            // stripped one, not a server that does not sign.
            (ServerAuth::IfPresent, None) if self.server_signs.load(Ordering::SeqCst) => Err(fail(
                "no Server-Authorization, though this server has signed its replies".into(),
            )),
            (ServerAuth::IfPresent, None) => Ok(false),
            (ServerAuth::Required, None) => Err(fail("no Server-Authorization header".into())),
            (_, Some(value)) => {
                let text = value
                    .to_str()
                    .map_err(|_| fail("Server-Authorization is not ASCII".into()))?;
                let parsed = ServerAuthorization::parse(text).map_err(|e| fail(e.to_string()))?;
                let content_type = response
                    .headers()
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                // As the reference client: a body must be covered by the response hash.
                let payload = (!response.body().is_empty())
                    .then_some((content_type, response.body().as_ref()));
                parsed
                    .verify(&config.credentials, signed, payload)
                    .map_err(|e| fail(e.to_string()))?;
                self.server_signs.store(true, Ordering::SeqCst);
                Ok(true)
            }
        }
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn unauthorized_error(response: &http::Response<Bytes>, www: &WwwAuthenticate) -> Error {
    let message = www
        .error
        .clone()
        .unwrap_or_else(|| "unauthorized".to_owned());
    Error::api(
        ApiError::new("401", message)
            .with_status(response.status())
            .with_body(response.body().clone()),
    )
}

/// The refusal a reply stands for, and whether its body says so: a 2xx or non-2xx
/// `OperationResult` whose `errcode` is not 0, or an `OrderOperatorResult` (the pay
/// endpoints) whose `resultcode` is not 0 (0 is success: documented for `resultcode`,
/// inferred for `errcode` from the sibling models, see the README), is refused by its body;
/// any other non-2xx only by its status (a provider error when it still carries one of
/// those results, an HTTP error otherwise).
fn refusal(status: StatusCode, value: &Value, body: &Bytes) -> Option<(Error, bool)> {
    let result = if value.get("errcode").is_some() {
        serde_json::from_value::<OperationResult>(value.clone())
            .ok()
            .map(|r| (r.errcode, r.errmsg))
    } else if value.get("resultcode").is_some() {
        serde_json::from_value::<OrderOperatorResult>(value.clone())
            .ok()
            .map(|r| (r.result_code, r.return_message))
    } else {
        None
    };
    match result {
        Some((code, message)) if !status.is_success() || code != 0 => {
            let stated_in_body = code != 0;
            let mut api = ApiError::new(code.to_string(), message.unwrap_or_default())
                .with_body(body.clone());
            if !status.is_success() {
                api = api.with_status(status);
            }
            Some((Error::api(api), stated_in_body))
        }
        Some(_) => None,
        None if !status.is_success() => Some((Error::http(status, body, None), false)),
        None => None,
    }
}

/// The reply as a JSON-like value, from JSON or XML by its content type.
fn decode(response: &http::Response<Bytes>) -> Result<Value, Error> {
    let status = response.status();
    let body = response.body();
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let parsed: Result<Value, String> = if body.is_empty() {
        Ok(Value::Null)
    } else if content_type.contains("xml") {
        wire::xml_to_value(body)
    } else {
        serde_json::from_slice(body).map_err(|e| e.to_string())
    };
    match parsed {
        Ok(v) => Ok(v),
        // A non-2xx that is not the ticket system's shape is an HTTP error (an IIS page).
        Err(_) if !status.is_success() => Err(Error::http(status, body, None)),
        Err(why) => Err(Error::decode(Some(status), body, None, why)),
    }
}
