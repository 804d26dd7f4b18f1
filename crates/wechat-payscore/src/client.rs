//! [`Client`]: endpoints 1–17, every reply verified before it is decoded.

use std::fmt;
use std::sync::{Arc, Weak};

use bytes::Bytes;
use http::Method;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tixpay_core::crypto::{Certificate, base64};
use tixpay_core::{
    ApiError, Clock, Error, ErrorKind, HttpClient, Idempotency, Operation, SignatureSubject,
};

use crate::auth::{KeyRing, Lookup, RequestSigner, SignedHeaders};
use crate::config::Config;
use crate::requests::{
    AppService, AssessUserRiskLevel, Authorization, CancelServiceOrder, CompleteServiceOrder,
    CreateServiceOrder, DirectComplete, MerchantBill, ModifyServiceOrder, OrderAck, PaymentMessage,
    PermissionsRequest, PermissionsToken, SyncServiceOrder,
};
use crate::types::{ServiceOrder, check_required};

const PROVIDER: &str = "wechat-payscore";

/// Characters left as they are in a path segment or query value: unreserved characters.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// How to find a service order for a query (endpoint 2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OrderRef {
    /// `out_order_no`.
    OutOrderNo(String),
    /// `query_id` (回跳查询ID).
    QueryId(String),
}

/// A PayScore client for one merchant. Cheap to clone.
///
/// ```no_run
/// use tixpay_wechat_payscore::{CancelServiceOrder, Client, Config};
/// # async fn run(config: Config) -> Result<(), tixpay_core::Error> {
/// let client = Client::new(config)?;
/// let cancel = CancelServiceOrder { appid: "wxd678efh567hg6787".into(), service_id: "500001".into(), reason: "用户投诉".into() };
/// let ack = client.cancel_service_order("1234323JKHDFE1243252", &cancel).await?;
/// println!("cancelled {:?}", ack.order_id);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    http: HttpClient,
    keys: KeyRing,
    refresh: tokio::sync::Mutex<()>,
    last_refresh: std::sync::Mutex<Option<tokio::time::Instant>>,
}

/// How soon an unknown serial may trigger another certificate download: a stream of
/// forged callbacks must not turn into a stream of downloads.
const REFRESH_COOLDOWN: std::time::Duration = std::time::Duration::from_secs(60);

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field("keys", &self.inner.keys)
            .finish()
    }
}

fn encode(segment: &str) -> String {
    utf8_percent_encode(segment, COMPONENT).to_string()
}

/// A path parameter that a URL library would resolve away (`.`, `..`) cannot be sent as
/// signed.
fn check_segment(field: &str, value: &str) -> Result<(), Error> {
    if value == "." || value == ".." {
        return Err(Error::invalid_request(field, "cannot be `.` or `..`"));
    }
    Ok(())
}

/// A reply body is required here: an empty 2xx is a decode error.
fn expect_body<T>(name: &'static str) -> impl FnOnce(Option<T>) -> Result<T, Error> {
    move |body| {
        body.ok_or_else(|| {
            context(name)(Error::decode(
                None,
                b"",
                None,
                "an empty reply where a body was expected",
            ))
        })
    }
}

fn context(name: &'static str) -> impl Fn(Error) -> Error {
    move |e| e.with_provider(PROVIDER).with_operation(name)
}

impl Client {
    /// A client with the default HTTP machinery.
    pub fn new(config: Config) -> Result<Self, Error> {
        Self::with_http_client(config, HttpClient::new()?)
    }

    /// A client sending through `http`.
    pub fn with_http_client(config: Config, http: HttpClient) -> Result<Self, Error> {
        let keys = config.key_ring()?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                http,
                keys,
                refresh: tokio::sync::Mutex::new(()),
                last_refresh: std::sync::Mutex::new(None),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The serials of the platform certificates held.
    pub fn certificate_serials(&self) -> Vec<String> {
        self.inner.keys.certificate_serials()
    }

    async fn send(
        &self,
        name: &'static str,
        method: Method,
        path_and_query: &str,
        body: Option<Bytes>,
        idempotency: Idempotency,
    ) -> Result<http::Response<Bytes>, Error> {
        let config = &self.inner.config;
        let build = |base: &str| -> Result<Operation, Error> {
            let mut op = Operation::new(
                PROVIDER,
                name,
                method.clone(),
                format!("{base}{path_and_query}"),
            )
            .header("accept", "application/json")?
            .idempotency(idempotency.clone());
            if let Some(bytes) = &body {
                op = op
                    .header("content-type", "application/json")?
                    .body(bytes.clone());
            }
            Ok(op)
        };
        let signer = RequestSigner {
            mchid: &config.mchid,
            serial_no: &config.cert_serial,
            key: &config.private_key,
            clock: &config.clock,
            nonce: &config.nonce,
            accept_serial: self.inner.keys.preferred_serial(),
        };
        match self
            .inner
            .http
            .execute(&build(&config.base_url)?, &signer)
            .await
        {
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::Transport {
                        may_have_been_sent: false
                    }
                ) && config.backup_url.is_some() =>
            {
                let backup = config.backup_url.as_deref().unwrap_or_default();
                tracing::warn!(
                    operation = name,
                    "main host unreachable; trying the backup host"
                );
                self.inner.http.execute(&build(backup)?, &signer).await
            }
            other => other,
        }
    }

    /// Verifies a 2xx reply's signature (any body, the empty one of a 204 included).
    async fn verify(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        subject: SignatureSubject,
    ) -> Result<(), Error> {
        let signed = SignedHeaders::read(headers, subject)?;
        signed.precheck(self.inner.config.clock.now_seconds(), subject)?;
        let key = match self.inner.keys.lookup(&signed.serial) {
            Lookup::Found(key) => key,
            Lookup::UnknownCertificate => {
                let recent = self
                    .inner
                    .last_refresh
                    .lock()
                    .map(|t| t.is_some_and(|t| t.elapsed() < REFRESH_COOLDOWN))
                    .unwrap_or(false);
                if recent {
                    return Err(Error::signature(
                        subject,
                        format!(
                            "no platform certificate has serial {} (refreshed less than a minute ago)",
                            signed.serial
                        ),
                    ));
                }
                self.refresh_certificates().await?;
                match self.inner.keys.lookup(&signed.serial) {
                    Lookup::Found(key) => key,
                    _ => {
                        return Err(Error::signature(
                            subject,
                            format!("no platform certificate has serial {}", signed.serial),
                        ));
                    }
                }
            }
            Lookup::Unknown => {
                return Err(Error::signature(
                    subject,
                    format!(
                        "Wechatpay-Serial {} is not the configured public key id",
                        signed.serial
                    ),
                ));
            }
        };
        signed.verify_with(&key, body, subject)
    }

    pub(crate) async fn verify_callback(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<(), Error> {
        self.verify(headers, body, SignatureSubject::Notification)
            .await
    }

    pub(crate) fn apiv3(&self) -> &tixpay_core::crypto::AesGcmKey {
        &self.inner.config.apiv3
    }

    async fn call<T: DeserializeOwned>(
        &self,
        name: &'static str,
        method: Method,
        path_and_query: &str,
        body: Option<Bytes>,
        idempotency: Idempotency,
    ) -> Result<Option<T>, Error> {
        let ctx = context(name);
        let response = self
            .send(name, method, path_and_query, body, idempotency)
            .await?;
        let status = response.status();
        if !status.is_success() {
            return Err(ctx(api_error(&response)));
        }
        self.verify(
            response.headers(),
            response.body(),
            SignatureSubject::Response,
        )
        .await
        .map_err(&ctx)?;
        if response.body().is_empty() {
            return Ok(None);
        }
        tixpay_core::json::decode(Some(status), response.body())
            .map(Some)
            .map_err(ctx)
    }

    /// A JSON `POST`: the body serialized once, to the bytes that are signed and sent.
    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        name: &'static str,
        path: &str,
        body: &B,
        idempotency: Idempotency,
    ) -> Result<Option<T>, Error> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| context(name)(Error::invalid_request("body", e.to_string())))?;
        self.call(
            name,
            Method::POST,
            path,
            Some(Bytes::from(bytes)),
            idempotency,
        )
        .await
    }

    async fn json_call<B: Serialize, T: DeserializeOwned>(
        &self,
        name: &'static str,
        path: &str,
        body: &B,
        idempotency: Idempotency,
    ) -> Result<T, Error> {
        self.post(name, path, body, idempotency)
            .await
            .and_then(expect_body(name))
    }

    async fn no_content<B: Serialize>(
        &self,
        name: &'static str,
        path: &str,
        body: &B,
        idempotency: Idempotency,
    ) -> Result<(), Error> {
        self.post::<B, serde_json::Value>(name, path, body, idempotency)
            .await
            .map(|_| ())
    }

    async fn get<T: DeserializeOwned>(
        &self,
        name: &'static str,
        path_and_query: &str,
    ) -> Result<T, Error> {
        self.call(name, Method::GET, path_and_query, None, Idempotency::Safe)
            .await
            .and_then(expect_body(name))
    }

    /// Downloads, decrypts and verifies the platform certificates (`GET /v3/certificates`)
    /// and replaces the ones held. Returns their serials.
    pub async fn refresh_certificates(&self) -> Result<Vec<String>, Error> {
        const NAME: &str = "certificates";
        let ctx = context(NAME);
        if !self.inner.keys.uses_certificates() {
            return Err(ctx(Error::config(
                "this client verifies with the WeChat Pay public key only",
            )));
        }
        let _one_at_a_time = self.inner.refresh.lock().await;
        match self.inner.last_refresh.lock() {
            Ok(mut t) => *t = Some(tokio::time::Instant::now()),
            Err(e) => *e.into_inner() = Some(tokio::time::Instant::now()),
        }
        let response = self
            .send(
                NAME,
                Method::GET,
                "/v3/certificates?algorithm_type=RSA",
                None,
                Idempotency::Safe,
            )
            .await?;
        if !response.status().is_success() {
            return Err(ctx(api_error(&response)));
        }
        #[derive(serde::Deserialize)]
        struct List {
            data: Vec<Item>,
        }
        #[derive(serde::Deserialize)]
        struct Item {
            encrypt_certificate: Encrypted,
        }
        #[derive(serde::Deserialize)]
        struct Encrypted {
            nonce: String,
            #[serde(default)]
            associated_data: String,
            ciphertext: String,
        }
        let list: List =
            tixpay_core::json::decode(Some(response.status()), response.body()).map_err(&ctx)?;
        let mut certificates = Vec::new();
        for item in list.data {
            let e = item.encrypt_certificate;
            let ciphertext = base64::decode(e.ciphertext.trim()).map_err(|_| {
                ctx(Error::signature(
                    SignatureSubject::Response,
                    "certificate ciphertext is not base64",
                ))
            })?;
            let pem = self
                .inner
                .config
                .apiv3
                .open(
                    e.nonce.as_bytes(),
                    e.associated_data.as_bytes(),
                    &ciphertext,
                )
                .map_err(|_| {
                    ctx(Error::signature(
                        SignatureSubject::Response,
                        "cannot decrypt a certificate: wrong APIv3 key?",
                    ))
                })?;
            let pem = String::from_utf8(pem).map_err(|_| {
                ctx(Error::decode(
                    None,
                    b"",
                    None,
                    "a decrypted certificate is not text",
                ))
            })?;
            certificates.push(
                Certificate::from_pem(&pem)
                    .map_err(|e| ctx(Error::decode(None, b"", None, e.to_string())))?,
            );
        }
        // The download is verified with a key already held (the public key, or a known
        // certificate), else, at bootstrap, with the certificates it brought.
        let signed =
            SignedHeaders::read(response.headers(), SignatureSubject::Response).map_err(&ctx)?;
        signed
            .precheck(
                self.inner.config.clock.now_seconds(),
                SignatureSubject::Response,
            )
            .map_err(&ctx)?;
        let key = match self.inner.keys.lookup(&signed.serial) {
            Lookup::Found(key) => key,
            _ => certificates
                .iter()
                .find(|c| c.serial().eq_ignore_ascii_case(&signed.serial))
                .map(|c| c.public_key().clone())
                .ok_or_else(|| {
                    ctx(Error::signature(
                        SignatureSubject::Response,
                        "the certificate list is signed by no key held and none of its certificates",
                    ))
                })?,
        };
        signed
            .verify_with(&key, response.body(), SignatureSubject::Response)
            .map_err(&ctx)?;
        let serials = certificates.iter().map(|c| c.serial().to_owned()).collect();
        self.inner.keys.set_certificates(certificates);
        Ok(serials)
    }

    /// Refreshes the platform certificates every [`Config::certificate_refresh_interval`]
    /// in the background, until the client (every clone) is dropped.
    pub fn spawn_certificate_refresh(&self) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let every = self.inner.config.certificate_refresh;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(inner) = weak.upgrade() else { return };
                let client = Client { inner };
                if let Err(e) = client.refresh_certificates().await {
                    tracing::warn!(error = %e, "platform certificate refresh failed");
                }
            }
        })
    }

    /// (1) `POST /v3/payscore/serviceorder`: create a service order. Keyed by
    /// `out_order_no`: retried with the same parameters after a 5xx or timeout, as the
    /// documents ask.
    pub async fn create_service_order(
        &self,
        order: &CreateServiceOrder,
    ) -> Result<ServiceOrder, Error> {
        const NAME: &str = "serviceorder.create";
        order.check().map_err(context(NAME))?;
        self.json_call(
            NAME,
            "/v3/payscore/serviceorder",
            order,
            Idempotency::Keyed(order.out_order_no.clone()),
        )
        .await
    }

    /// (2) `GET /v3/payscore/serviceorder`: query by `out_order_no` or `query_id`.
    ///
    /// ```no_run
    /// # async fn run(client: tixpay_wechat_payscore::Client) -> Result<(), tixpay_core::Error> {
    /// use tixpay_wechat_payscore::OrderRef;
    /// let order = client
    ///     .query_service_order(&OrderRef::OutOrderNo("RENT-1001".into()), "500001", "wxd678efh567hg6787")
    ///     .await?;
    /// println!("{:?} {:?}", order.state, order.state_description);
    /// # Ok(()) }
    /// ```
    pub async fn query_service_order(
        &self,
        order: &OrderRef,
        service_id: &str,
        appid: &str,
    ) -> Result<ServiceOrder, Error> {
        const NAME: &str = "serviceorder.query";
        let (key, value) = match order {
            OrderRef::OutOrderNo(v) => ("out_order_no", v),
            OrderRef::QueryId(v) => ("query_id", v),
        };
        check_required(key, value, 64).map_err(context(NAME))?;
        check_required("service_id", service_id, 32).map_err(context(NAME))?;
        check_required("appid", appid, 32).map_err(context(NAME))?;
        let path = format!(
            "/v3/payscore/serviceorder?service_id={}&appid={}&{key}={}",
            encode(service_id),
            encode(appid),
            encode(value)
        );
        self.get(NAME, &path).await
    }

    fn order_path(out_order_no: &str, action: &str) -> String {
        format!(
            "/v3/payscore/serviceorder/{}/{action}",
            encode(out_order_no)
        )
    }

    /// `POST /v3/payscore/serviceorder/{out_order_no}/{action}`, keyed by `out_order_no`.
    /// Returns `None` for a 204.
    async fn order_action<B: Serialize, T: DeserializeOwned>(
        &self,
        name: &'static str,
        out_order_no: &str,
        action: &str,
        body: &B,
    ) -> Result<Option<T>, Error> {
        Self::check_out_order_no(name, out_order_no)?;
        let path = Self::order_path(out_order_no, action);
        self.post(
            name,
            &path,
            body,
            Idempotency::Keyed(out_order_no.to_owned()),
        )
        .await
    }

    fn check_out_order_no(name: &'static str, out_order_no: &str) -> Result<(), Error> {
        check_required("out_order_no", out_order_no, 32)
            .and_then(|()| check_segment("out_order_no", out_order_no))
            .map_err(context(name))
    }

    /// (3) `POST …/{out_order_no}/cancel`: allowed while `CREATED`, or `DOING` after the
    /// user confirmed and before the merchant completed.
    pub async fn cancel_service_order(
        &self,
        out_order_no: &str,
        cancel: &CancelServiceOrder,
    ) -> Result<OrderAck, Error> {
        const NAME: &str = "serviceorder.cancel";
        cancel.check().map_err(context(NAME))?;
        self.order_action(NAME, out_order_no, "cancel", cancel)
            .await
            .and_then(expect_body(NAME))
    }

    /// (4) `POST …/{out_order_no}/modify`: lower the amount of a completed, unpaid order.
    pub async fn modify_service_order(
        &self,
        out_order_no: &str,
        modify: &ModifyServiceOrder,
    ) -> Result<ServiceOrder, Error> {
        const NAME: &str = "serviceorder.modify";
        modify.check().map_err(context(NAME))?;
        self.order_action(NAME, out_order_no, "modify", modify)
            .await
            .and_then(expect_body(NAME))
    }

    /// (5) `POST …/{out_order_no}/complete`: end the service and charge
    /// `total_amount = Σ payments − Σ discounts` (checked before sending).
    ///
    /// ```no_run
    /// # async fn run(client: tixpay_wechat_payscore::Client) -> Result<(), tixpay_core::Error> {
    /// use tixpay_wechat_payscore::{CompleteServiceOrder, PostDiscount, PostPayment};
    /// let complete = CompleteServiceOrder::new("wxd678efh567hg6787", "500001", 2_500)
    ///     .post_payment(PostPayment::new("租车费", 3_000))
    ///     .post_discount(PostDiscount::new("会员优惠", 500));
    /// let order = client.complete_service_order("RENT-1001", &complete).await?;
    /// println!("{:?}", order.collection);
    /// # Ok(()) }
    /// ```
    pub async fn complete_service_order(
        &self,
        out_order_no: &str,
        complete: &CompleteServiceOrder,
    ) -> Result<ServiceOrder, Error> {
        const NAME: &str = "serviceorder.complete";
        complete.check().map_err(context(NAME))?;
        self.order_action(NAME, out_order_no, "complete", complete)
            .await
            .and_then(expect_body(NAME))
    }

    /// (6) `POST …/{out_order_no}/pay`: ask WeChat Pay to collect now.
    pub async fn pay_service_order(
        &self,
        out_order_no: &str,
        appid: &str,
        service_id: &str,
    ) -> Result<OrderAck, Error> {
        const NAME: &str = "serviceorder.pay";
        self.order_action(NAME, out_order_no, "pay", &AppService { appid, service_id })
            .await
            .and_then(expect_body(NAME))
    }

    /// (7) `POST …/{out_order_no}/sync`: the user paid by another channel.
    pub async fn sync_service_order(
        &self,
        out_order_no: &str,
        sync: &SyncServiceOrder,
    ) -> Result<ServiceOrder, Error> {
        const NAME: &str = "serviceorder.sync";
        sync.check().map_err(context(NAME))?;
        self.order_action(NAME, out_order_no, "sync", sync)
            .await
            .and_then(expect_body(NAME))
    }

    /// (8) `POST /v3/payscore/serviceorder/direct-complete`: create and complete at once.
    pub async fn direct_complete(&self, order: &DirectComplete) -> Result<ServiceOrder, Error> {
        const NAME: &str = "serviceorder.direct-complete";
        order.check().map_err(context(NAME))?;
        self.json_call(
            NAME,
            "/v3/payscore/serviceorder/direct-complete",
            order,
            Idempotency::Keyed(order.out_order_no.clone()),
        )
        .await
    }

    /// (9) `POST /v3/payscore/permissions`: pre-authorization; returns the token for the
    /// front end's `wxpayScoreEnable`.
    pub async fn apply_permissions(
        &self,
        request: &PermissionsRequest,
    ) -> Result<PermissionsToken, Error> {
        const NAME: &str = "permissions.apply";
        request.check().map_err(context(NAME))?;
        self.json_call(
            NAME,
            "/v3/payscore/permissions",
            request,
            Idempotency::Unsafe,
        )
        .await
    }

    /// (10) `GET /v3/payscore/permissions/authorization-code/{authorization_code}`.
    pub async fn query_authorization_by_code(
        &self,
        authorization_code: &str,
        service_id: &str,
    ) -> Result<Authorization, Error> {
        const NAME: &str = "permissions.query-by-code";
        check_required("authorization_code", authorization_code, 64)
            .and_then(|()| check_segment("authorization_code", authorization_code))
            .map_err(context(NAME))?;
        let path = format!(
            "/v3/payscore/permissions/authorization-code/{}?service_id={}",
            encode(authorization_code),
            encode(service_id)
        );
        self.get(NAME, &path).await
    }

    /// (11) `POST …/authorization-code/{authorization_code}/terminate` → 204.
    pub async fn terminate_authorization_by_code(
        &self,
        authorization_code: &str,
        service_id: &str,
        reason: &str,
    ) -> Result<(), Error> {
        const NAME: &str = "permissions.terminate-by-code";
        check_required("authorization_code", authorization_code, 64)
            .and_then(|()| check_segment("authorization_code", authorization_code))
            .map_err(context(NAME))?;
        check_required("reason", reason, 50).map_err(context(NAME))?;
        #[derive(Serialize)]
        struct Body<'a> {
            service_id: &'a str,
            reason: &'a str,
        }
        let path = format!(
            "/v3/payscore/permissions/authorization-code/{}/terminate",
            encode(authorization_code)
        );
        self.no_content(
            NAME,
            &path,
            &Body { service_id, reason },
            Idempotency::Unsafe,
        )
        .await
    }

    /// (12) `GET /v3/payscore/permissions/openid/{openid}`.
    pub async fn query_authorization_by_openid(
        &self,
        openid: &str,
        service_id: &str,
        appid: &str,
    ) -> Result<Authorization, Error> {
        const NAME: &str = "permissions.query-by-openid";
        check_required("openid", openid, 128)
            .and_then(|()| check_segment("openid", openid))
            .map_err(context(NAME))?;
        let path = format!(
            "/v3/payscore/permissions/openid/{}?service_id={}&appid={}",
            encode(openid),
            encode(service_id),
            encode(appid)
        );
        self.get(NAME, &path).await
    }

    /// (13) `POST …/openid/{openid}/terminate` → 204. Fails while the user has orders in
    /// progress.
    pub async fn terminate_authorization_by_openid(
        &self,
        openid: &str,
        service_id: &str,
        appid: &str,
        reason: &str,
    ) -> Result<(), Error> {
        const NAME: &str = "permissions.terminate-by-openid";
        check_required("openid", openid, 128)
            .and_then(|()| check_segment("openid", openid))
            .map_err(context(NAME))?;
        check_required("reason", reason, 50).map_err(context(NAME))?;
        #[derive(Serialize)]
        struct Body<'a> {
            service_id: &'a str,
            appid: &'a str,
            reason: &'a str,
        }
        let path = format!(
            "/v3/payscore/permissions/openid/{}/terminate",
            encode(openid)
        );
        self.no_content(
            NAME,
            &path,
            &Body {
                service_id,
                appid,
                reason,
            },
            Idempotency::Unsafe,
        )
        .await
    }

    /// (14) `POST /v3/payscore/permissions/assess-user-risk-level`. A read: safe to retry.
    pub async fn assess_user_risk_level(
        &self,
        request: &AssessUserRiskLevel,
    ) -> Result<Authorization, Error> {
        const NAME: &str = "permissions.assess-user-risk-level";
        check_required("service_id", &request.service_id, 32).map_err(context(NAME))?;
        check_required("appid", &request.appid, 32).map_err(context(NAME))?;
        if request.authorization_code.is_none() && request.openid.is_none() {
            return Err(context(NAME)(Error::invalid_request(
                "openid",
                "give openid or authorization_code",
            )));
        }
        self.json_call(
            NAME,
            "/v3/payscore/permissions/assess-user-risk-level",
            request,
            Idempotency::Safe,
        )
        .await
    }

    /// (15) `POST …/{out_order_no}/send-pendingmessage` → 204. Once per order.
    pub async fn send_pending_message(
        &self,
        out_order_no: &str,
        message: &PaymentMessage,
    ) -> Result<(), Error> {
        const NAME: &str = "serviceorder.send-pendingmessage";
        message.check().map_err(context(NAME))?;
        self.order_action::<_, serde_json::Value>(
            NAME,
            out_order_no,
            "send-pendingmessage",
            message,
        )
        .await
        .map(|_| ())
    }

    /// (16) `POST …/{out_order_no}/send-prepaidmessage` → 204. Once per order.
    pub async fn send_prepaid_message(
        &self,
        out_order_no: &str,
        message: &PaymentMessage,
    ) -> Result<(), Error> {
        const NAME: &str = "serviceorder.send-prepaidmessage";
        message.check().map_err(context(NAME))?;
        self.order_action::<_, serde_json::Value>(
            NAME,
            out_order_no,
            "send-prepaidmessage",
            message,
        )
        .await
        .map(|_| ())
    }

    /// (17) `GET /v3/payscore/merchant-bill`: where to download the statement of
    /// `bill_date` (`yyyy-MM-dd`), encrypted with `AEAD_AES_256_GCM`, optionally GZIP.
    pub async fn merchant_bill(
        &self,
        bill_date: &str,
        service_id: &str,
        gzip: bool,
    ) -> Result<MerchantBill, Error> {
        const NAME: &str = "merchant-bill";
        if tixpay_core::datetime::parse_ymd(bill_date).is_none() {
            return Err(context(NAME)(Error::invalid_request(
                "bill_date",
                "must be yyyy-MM-dd",
            )));
        }
        check_required("service_id", service_id, 32).map_err(context(NAME))?;
        let mut path = format!(
            "/v3/payscore/merchant-bill?bill_date={}&service_id={}&encryption_algorithm=AEAD_AES_256_GCM",
            encode(bill_date),
            encode(service_id)
        );
        if gzip {
            path.push_str("&tar_type=GZIP");
        }
        self.get(NAME, &path).await
    }
}

/// A non-2xx reply: `{code, message, detail}` and the `Request-ID`, or a bare HTTP error.
fn api_error(response: &http::Response<Bytes>) -> Error {
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
            let mut api = ApiError::new(body.code.clone(), body.message)
                .with_status(status)
                .with_body(response.body().clone())
                .retryable(
                    body.code == "SYSTEM_ERROR"
                        || status.is_server_error()
                        || status.as_u16() == 429,
                );
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
