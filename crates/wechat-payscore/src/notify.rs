//! Callbacks (回调通知): verified with the same rules as responses (`WECHATPAY/SIGNTEST/`
//! probes fail), the `resource` decrypted with the APIv3 key (AEAD_AES_256_GCM), and typed.
//!
//! [`NotificationParser`] implements the family's [`Notifications`] contract: answer its
//! `ack()` (HTTP 204) within 5 seconds, or its `reject()`; WeChat Pay retries for about 24
//! hours (15 s, 15 s, 30 s, 3 min, 10 min, 20 min, 30 min ×3, 60 min, 3 h ×3, 6 h ×2), so
//! de-duplicate on [`Callback::id`] (its `dedup_key()`).
//!
//! Partner (服务商) mode uses the same parser, built from the provider's client: order
//! payloads carry the sub-merchant ([`ServiceOrder::sub_mchid`], `sub_appid`, `sub_openid`;
//! the provider as `mchid` or, in one official sample, `sp_mchid`: see
//! [`ServiceOrder::provider_mchid`]), authorization payloads add the same `sub_*` fields,
//! and `PAYSCORE.BIND_SERVICE_ACCOUNT` is typed. Route by `sub_mchid`: the payment belongs
//! to the sub-merchant.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tixpay_core::crypto::base64;
use tixpay_core::notify::{Deduplicate, Notifications};
use tixpay_core::{Error, SignatureSubject};

use crate::client::Client;
use crate::types::{ServiceAccountApplicationState, ServiceOrder};

const PROVIDER: &str = "wechat-payscore";
const OPERATION: &str = "callback";

/// Verifies, decrypts and types callbacks with a client's platform keys and APIv3 key.
#[derive(Debug, Clone)]
pub struct NotificationParser {
    client: Client,
}

impl NotificationParser {
    /// A parser that uses `client`'s platform certificates or public key (downloading
    /// certificates when a serial is new) and its APIv3 key.
    pub fn new(client: &Client) -> Self {
        Self {
            client: client.clone(),
        }
    }

    /// Verifies, decrypts and types one callback from its headers and raw body.
    ///
    /// ```no_run
    /// use tixpay_wechat_payscore::core::notify::Notifications;
    /// use tixpay_wechat_payscore::notify::{CallbackEvent, NotificationParser};
    /// # async fn handle(client: tixpay_wechat_payscore::Client, headers: http::HeaderMap, body: bytes::Bytes) -> http::Response<bytes::Bytes> {
    /// let parser = NotificationParser::new(&client);
    /// match parser.parse(&headers, &body).await {
    ///     Ok(callback) => {
    ///         if let CallbackEvent::UserPaid(order) = &callback.event {
    ///             println!("paid: {:?}", order.out_order_no);
    ///         }
    ///         parser.ack()
    ///     }
    ///     Err(_) => parser.reject(),
    /// }
    /// # }
    /// ```
    pub async fn parse(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<Callback, Error> {
        parse_callback(&self.client, headers, body).await
    }
}

impl Notifications for NotificationParser {
    type Event = Callback;

    async fn parse(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<Callback, Error> {
        NotificationParser::parse(self, headers, body).await
    }

    /// `204 No Content`.
    fn ack(&self) -> http::Response<Bytes> {
        let mut r = http::Response::new(Bytes::new());
        *r.status_mut() = http::StatusCode::NO_CONTENT;
        r
    }

    /// `500` with `{"code":"FAIL","message":"rejected"}`: WeChat Pay will send again. The
    /// reason is not sent back (log it instead).
    fn reject(&self) -> http::Response<Bytes> {
        let mut r = http::Response::new(Bytes::from_static(
            br#"{"code":"FAIL","message":"rejected"}"#,
        ));
        *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        r
    }
}

impl Deduplicate for Callback {
    fn dedup_key(&self) -> String {
        Callback::dedup_key(self)
    }
}

/// A verified, decrypted callback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Callback {
    /// `id`: the notification id, the key to de-duplicate on.
    pub id: String,
    /// `create_time` (RFC 3339).
    pub create_time: Option<String>,
    /// `event_type`, as sent.
    pub event_type: String,
    /// `summary`.
    pub summary: Option<String>,
    /// The decrypted event.
    pub event: CallbackEvent,
}

impl Callback {
    /// The key to de-duplicate deliveries on (the notification `id`).
    pub fn dedup_key(&self) -> String {
        self.id.clone()
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum CallbackEvent {
    /// `PAYSCORE.USER_CONFIRM`: the user confirmed the order.
    UserConfirm(ServiceOrder),
    /// `PAYSCORE.USER_PAID`: the payment succeeded.
    UserPaid(ServiceOrder),
    /// `PAYSCORE.USER_OPEN_SERVICE`: the user authorized the service.
    UserOpenService(PermissionChange),
    /// `PAYSCORE.USER_CLOSE_SERVICE`: the user revoked the authorization.
    UserCloseService(PermissionChange),
    /// `PAYSCORE.BIND_SERVICE_ACCOUNT` (partner mode only): the result of a 收付通
    /// sub-merchant's application to bind to a service
    /// ([`PartnerClient::apply_service_account`](crate::PartnerClient::apply_service_account)).
    BindServiceAccount(ServiceAccountApplicationState),
    /// Another event, with its decrypted JSON.
    Unknown(serde_json::Value),
}

/// The payload of `USER_OPEN_SERVICE` / `USER_CLOSE_SERVICE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PermissionChange {
    /// `appid`.
    #[serde(default)]
    pub appid: Option<String>,
    /// `mchid`.
    #[serde(default)]
    pub mchid: Option<String>,
    /// `service_id`.
    #[serde(default)]
    pub service_id: Option<String>,
    /// `openid`.
    #[serde(default)]
    pub openid: Option<String>,
    /// `user_service_status`.
    #[serde(default)]
    pub user_service_status: Option<String>,
    /// `openorclose_time`.
    #[serde(default)]
    pub openorclose_time: Option<String>,
    /// `authorization_code` (pre-authorization only).
    #[serde(default)]
    pub authorization_code: Option<String>,
    /// `sub_mchid` (partner mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
    /// `sub_appid` (partner mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_appid: Option<String>,
    /// `sub_openid` (partner mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_openid: Option<String>,
    /// Every other field, unchanged.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct Envelope {
    id: String,
    #[serde(default)]
    create_time: Option<String>,
    event_type: String,
    #[serde(default)]
    summary: Option<String>,
    resource: Resource,
}

#[derive(Deserialize)]
struct Resource {
    #[serde(default)]
    algorithm: String,
    ciphertext: String,
    #[serde(default)]
    associated_data: String,
    nonce: String,
}

async fn parse_callback(
    client: &Client,
    headers: &http::HeaderMap,
    body: &[u8],
) -> Result<Callback, Error> {
    let ctx = |e: Error| e.with_provider(PROVIDER).with_operation(OPERATION);
    let signed =
        crate::auth::SignedHeaders::read(headers, SignatureSubject::Notification).map_err(ctx)?;
    crate::auth::verify_signed(client, &signed, body, SignatureSubject::Notification)
        .await
        .map_err(ctx)?;
    let envelope: Envelope = tixpay_core::json::decode(None, body).map_err(ctx)?;
    let r = &envelope.resource;
    // Only AES-256-GCM is defined: an empty or other algorithm is refused before
    // anything is decrypted.
    if r.algorithm != "AEAD_AES_256_GCM" {
        return Err(ctx(Error::decode(
            None,
            body,
            Some("resource.algorithm".into()),
            format!("unsupported algorithm `{}`", r.algorithm),
        )));
    }
    let ciphertext = base64::decode(r.ciphertext.trim()).map_err(|_| {
        ctx(Error::decode(
            None,
            body,
            Some("resource.ciphertext".into()),
            "not base64",
        ))
    })?;
    let plain = client
        .apiv3()
        .open(
            r.nonce.as_bytes(),
            r.associated_data.as_bytes(),
            &ciphertext,
        )
        .map_err(|_| {
            ctx(Error::signature(
                SignatureSubject::Notification,
                "the resource does not decrypt: wrong APIv3 key, nonce or associated data",
            ))
        })?;
    let event = match envelope.event_type.as_str() {
        "PAYSCORE.USER_CONFIRM" | "PAYSCORE.USER_ACCEPTED" => {
            CallbackEvent::UserConfirm(tixpay_core::json::decode(None, &plain).map_err(ctx)?)
        }
        "PAYSCORE.USER_PAID" => {
            CallbackEvent::UserPaid(tixpay_core::json::decode(None, &plain).map_err(ctx)?)
        }
        "PAYSCORE.USER_OPEN_SERVICE" => {
            CallbackEvent::UserOpenService(tixpay_core::json::decode(None, &plain).map_err(ctx)?)
        }
        "PAYSCORE.USER_CLOSE_SERVICE" => {
            CallbackEvent::UserCloseService(tixpay_core::json::decode(None, &plain).map_err(ctx)?)
        }
        "PAYSCORE.BIND_SERVICE_ACCOUNT" => {
            CallbackEvent::BindServiceAccount(tixpay_core::json::decode(None, &plain).map_err(ctx)?)
        }
        _ => CallbackEvent::Unknown(tixpay_core::json::decode(None, &plain).map_err(ctx)?),
    };
    Ok(Callback {
        id: envelope.id,
        create_time: envelope.create_time,
        event_type: envelope.event_type,
        summary: envelope.summary,
        event,
    })
}
