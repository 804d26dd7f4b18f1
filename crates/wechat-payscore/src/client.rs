//! [`Client`]: endpoints 1–17, every reply verified before it is decoded.

use std::fmt;
use std::sync::{Arc, Weak};

use bytes::Bytes;
use http::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tixpay_core::{Authenticate, Error, HttpClient, Idempotency, Operation};

use crate::auth::{Exchange, RequestSigner};
use crate::certificates::PlatformKeys;
use crate::config::Config;
use crate::types::{
    AppService, AssessUserRiskLevel, Authorization, CancelServiceOrder, CompleteServiceOrder,
    CreateServiceOrder, DirectComplete, MerchantBill, ModifyServiceOrder, OrderAck, PaymentMessage,
    PermissionsRequest, PermissionsToken, ServiceOrder, SyncServiceOrder,
};
use tixpay_core::validate;

mod bill;

use crate::wire::{Decoded, PROVIDER, check_segment, context, encode, expect_body};

mod partner;
pub use partner::PartnerClient;

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
/// let cancel = CancelServiceOrder::new("wxd678efh567hg6787", "500001", "用户投诉");
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
    keys: PlatformKeys,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field("keys", &self.inner.keys)
            .finish()
    }
}

impl Client {
    /// A client with the default HTTP machinery.
    pub fn new(config: Config) -> Result<Self, Error> {
        Ok(Self::with_http_client(config, HttpClient::new()?))
    }

    /// A client sending through `http`.
    pub fn with_http_client(config: Config, http: HttpClient) -> Self {
        let keys = PlatformKeys::new(config.key_ring());
        Self {
            inner: Arc::new(Inner { config, http, keys }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The serials of the platform certificates held.
    pub fn certificate_serials(&self) -> Vec<String> {
        self.inner.keys.ring.certificate_serials()
    }

    pub(crate) fn keys(&self) -> &PlatformKeys {
        &self.inner.keys
    }

    /// The merchant's request signer, announcing the serial it verifies with.
    pub(crate) fn signer(&self) -> RequestSigner<'_> {
        let config = &self.inner.config;
        RequestSigner {
            mchid: &config.mchid,
            serial_no: &config.cert_serial,
            key: &config.private_key,
            clock: &config.clock,
            nonce: &config.nonce,
            accept_serial: self.inner.keys.ring.preferred_serial(),
        }
    }

    /// One endpoint as an [`Operation`]: the main host, and the backup host as the alternate
    /// the client fails over to when nothing could be sent to the main one.
    pub(crate) fn operation(
        &self,
        name: &'static str,
        method: Method,
        path_and_query: &str,
        body: Option<Bytes>,
        idempotency: Idempotency,
    ) -> Result<Operation, Error> {
        let config = &self.inner.config;
        let mut op = Operation::new(
            PROVIDER,
            name,
            method,
            format!("{}{path_and_query}", config.base_url),
        )
        .header("accept", "application/json")?
        .idempotency(idempotency);
        if let Some(backup) = &config.backup_url {
            op = op.alternate_url(format!("{backup}{path_and_query}"));
        }
        if let Some(bytes) = body {
            op = op.header("content-type", "application/json")?.body(bytes);
        }
        Ok(op)
    }

    /// Runs one operation with its hook: the one place this crate sends anything.
    pub(crate) async fn send<A: Authenticate>(
        &self,
        op: &Operation,
        hook: &A,
    ) -> Result<A::Output, Error> {
        self.inner.http.execute(op, hook).await
    }

    pub(crate) fn apiv3(&self) -> &tixpay_core::crypto::AesGcmKey {
        &self.inner.config.apiv3
    }

    /// Sends one call, verified and bound by [`Exchange`], and decodes its body (none for an
    /// empty reply, a 204).
    async fn call<T: DeserializeOwned>(
        &self,
        name: &'static str,
        method: Method,
        path_and_query: &str,
        body: Option<Bytes>,
        idempotency: Idempotency,
        echoes: impl FnOnce(Operation) -> Operation,
    ) -> Result<Decoded<T>, Error> {
        let ctx = context(name);
        let op = echoes(
            self.operation(name, method, path_and_query, body, idempotency)
                .map_err(&ctx)?,
        );
        let verified = self.send(&op, &Exchange { client: self }).await?;
        let status = verified.status;
        if verified.body.is_empty() {
            return Ok(Decoded { status, body: None });
        }
        tixpay_core::json::decode(Some(status), &verified.body)
            .map(|body| Decoded {
                status,
                body: Some(body),
            })
            .map_err(ctx)
    }

    /// A JSON `POST`: the body serialized once, to the bytes that are signed and sent.
    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        name: &'static str,
        path: &str,
        body: &B,
        idempotency: Idempotency,
        echoes: impl FnOnce(Operation) -> Operation,
    ) -> Result<Decoded<T>, Error> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| context(name)(Error::invalid_request("body", e.to_string())))?;
        self.call(
            name,
            Method::POST,
            path,
            Some(Bytes::from(bytes)),
            idempotency,
            echoes,
        )
        .await
    }

    async fn json_call<B: Serialize, T: DeserializeOwned>(
        &self,
        name: &'static str,
        path: &str,
        body: &B,
        idempotency: Idempotency,
        echoes: impl FnOnce(Operation) -> Operation,
    ) -> Result<T, Error> {
        self.post(name, path, body, idempotency, echoes)
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
        self.post::<B, serde_json::Value>(name, path, body, idempotency, |op| op)
            .await
            .map(|_| ())
    }

    async fn get<T: DeserializeOwned>(
        &self,
        name: &'static str,
        path_and_query: &str,
        echoes: impl FnOnce(Operation) -> Operation,
    ) -> Result<T, Error> {
        self.call(
            name,
            Method::GET,
            path_and_query,
            None,
            Idempotency::Safe,
            echoes,
        )
        .await
        .and_then(expect_body(name))
    }

    /// Downloads, decrypts and verifies the platform certificates (`GET /v3/certificates`)
    /// and replaces the ones held. Returns their serials. A download already running is
    /// waited for first.
    pub async fn refresh_certificates(&self) -> Result<Vec<String>, Error> {
        self.inner
            .keys
            .refresh(self)
            .await
            .map_err(context("GET /v3/certificates"))
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
        const NAME: &str = "POST /v3/payscore/serviceorder";
        order.validate().map_err(context(NAME))?;
        let mchid = self.config().mchid.clone();
        self.json_call(
            NAME,
            "/v3/payscore/serviceorder",
            order,
            Idempotency::Keyed(order.out_order_no.clone()),
            |op| {
                op.echo("out_order_no", order.out_order_no.as_str())
                    .echo("service_id", order.service_id.as_str())
                    .echo("appid", order.appid.as_str())
                    .echo("mchid", mchid)
            },
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
        const NAME: &str = "GET /v3/payscore/serviceorder";
        let (key, value) = match order {
            OrderRef::OutOrderNo(v) => ("out_order_no", v),
            OrderRef::QueryId(v) => ("query_id", v),
        };
        validate::required(key, value, 64).map_err(context(NAME))?;
        validate::required("service_id", service_id, 32).map_err(context(NAME))?;
        validate::required("appid", appid, 32).map_err(context(NAME))?;
        let path = format!(
            "/v3/payscore/serviceorder?service_id={}&appid={}&{key}={}",
            encode(service_id),
            encode(appid),
            encode(value)
        );
        let mchid = self.config().mchid.clone();
        self.get(NAME, &path, |op| {
            let op = op
                .echo("service_id", service_id)
                .echo("appid", appid)
                .echo("mchid", mchid);
            match order {
                OrderRef::OutOrderNo(no) => op.echo("out_order_no", no.as_str()),
                // The reply does not carry query_id, and which order it names is unknown.
                OrderRef::QueryId(_) => op,
            }
        })
        .await
    }

    fn order_path(out_order_no: &str, action: &str) -> String {
        format!(
            "/v3/payscore/serviceorder/{}/{action}",
            encode(out_order_no)
        )
    }

    /// `POST /v3/payscore/serviceorder/{out_order_no}/{action}`, keyed by `out_order_no`.
    /// A 204 decodes to no body. A reply with a body must echo `out_order_no`, and the
    /// `appid` and `service_id` sent, and the merchant's `mchid` (each required where the
    /// endpoint documents it as always returned, compared when present otherwise).
    async fn order_action<B: Serialize, T: DeserializeOwned>(
        &self,
        name: &'static str,
        out_order_no: &str,
        action: &str,
        body: &B,
        ids: OrderEchoes<'_>,
    ) -> Result<Decoded<T>, Error> {
        Self::check_out_order_no(name, out_order_no)?;
        let path = Self::order_path(out_order_no, action);
        let mchid = self.config().mchid.clone();
        self.post(
            name,
            &path,
            body,
            Idempotency::Keyed(out_order_no.to_owned()),
            |op| ids.apply(op, out_order_no, &mchid),
        )
        .await
    }

    fn check_out_order_no(name: &'static str, out_order_no: &str) -> Result<(), Error> {
        validate::required("out_order_no", out_order_no, 32)
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
        const NAME: &str = "POST /v3/payscore/serviceorder/{out_order_no}/cancel";
        cancel.validate().map_err(context(NAME))?;
        self.order_action(
            NAME,
            out_order_no,
            "cancel",
            cancel,
            OrderEchoes::all(&cancel.appid, &cancel.service_id),
        )
        .await
        .and_then(expect_body(NAME))
    }

    /// (4) `POST …/{out_order_no}/modify`: lower the amount of a completed, unpaid order.
    pub async fn modify_service_order(
        &self,
        out_order_no: &str,
        modify: &ModifyServiceOrder,
    ) -> Result<ServiceOrder, Error> {
        const NAME: &str = "POST /v3/payscore/serviceorder/{out_order_no}/modify";
        modify.validate().map_err(context(NAME))?;
        self.order_action(
            NAME,
            out_order_no,
            "modify",
            modify,
            OrderEchoes::order_only(&modify.appid, &modify.service_id),
        )
        .await
        .and_then(expect_body(NAME))
    }

    /// (5) `POST …/{out_order_no}/complete`: end the service and charge
    /// `total_amount = Σ payments − Σ discounts` (checked before sending).
    ///
    /// ```no_run
    /// # async fn run(client: tixpay_wechat_payscore::Client) -> Result<(), tixpay_core::Error> {
    /// use tixpay_wechat_payscore::{CompleteServiceOrder, Fen, PostDiscount, PostPayment};
    /// let complete = CompleteServiceOrder::new("wxd678efh567hg6787", "500001", Fen::new(2_500))
    ///     .post_payment(PostPayment::new("租车费", Fen::new(3_000)))
    ///     .post_discount(PostDiscount::new("会员优惠", Fen::new(500)));
    /// let order = client.complete_service_order("RENT-1001", &complete).await?;
    /// println!("{:?}", order.collection);
    /// # Ok(()) }
    /// ```
    pub async fn complete_service_order(
        &self,
        out_order_no: &str,
        complete: &CompleteServiceOrder,
    ) -> Result<ServiceOrder, Error> {
        const NAME: &str = "POST /v3/payscore/serviceorder/{out_order_no}/complete";
        complete.validate().map_err(context(NAME))?;
        self.order_action(
            NAME,
            out_order_no,
            "complete",
            complete,
            OrderEchoes::all(&complete.appid, &complete.service_id),
        )
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
        const NAME: &str = "POST /v3/payscore/serviceorder/{out_order_no}/pay";
        validate::required("appid", appid, 32).map_err(context(NAME))?;
        validate::required("service_id", service_id, 32).map_err(context(NAME))?;
        // appid, out_order_no and service_id are always returned; mchid is not marked so.
        let ids = OrderEchoes::Order {
            appid,
            service_id,
            ids_required: true,
            mchid_required: false,
        };
        self.order_action(
            NAME,
            out_order_no,
            "pay",
            &AppService { appid, service_id },
            ids,
        )
        .await
        .and_then(expect_body(NAME))
    }

    /// (7) `POST …/{out_order_no}/sync`: the user paid by another channel.
    pub async fn sync_service_order(
        &self,
        out_order_no: &str,
        sync: &SyncServiceOrder,
    ) -> Result<ServiceOrder, Error> {
        const NAME: &str = "POST /v3/payscore/serviceorder/{out_order_no}/sync";
        sync.validate().map_err(context(NAME))?;
        self.order_action(
            NAME,
            out_order_no,
            "sync",
            sync,
            OrderEchoes::all(&sync.appid, &sync.service_id),
        )
        .await
        .and_then(expect_body(NAME))
    }

    /// (8) `POST /v3/payscore/serviceorder/direct-complete`: create and complete at once.
    pub async fn direct_complete(&self, order: &DirectComplete) -> Result<ServiceOrder, Error> {
        const NAME: &str = "POST /v3/payscore/serviceorder/direct-complete";
        order.validate().map_err(context(NAME))?;
        let mchid = self.config().mchid.clone();
        self.json_call(
            NAME,
            "/v3/payscore/serviceorder/direct-complete",
            order,
            Idempotency::Keyed(order.out_order_no.clone()),
            |op| {
                op.echo("out_order_no", order.out_order_no.as_str())
                    .echo("mchid", mchid)
                    .echo_if_present("service_id", order.service_id.as_str())
                    .echo_if_present("appid", order.appid.as_str())
            },
        )
        .await
    }

    /// (9) `POST /v3/payscore/permissions`: pre-authorization; returns the token for the
    /// front end's `wxpayScoreEnable`.
    pub async fn apply_permissions(
        &self,
        request: &PermissionsRequest,
    ) -> Result<PermissionsToken, Error> {
        const NAME: &str = "POST /v3/payscore/permissions";
        request.validate().map_err(context(NAME))?;
        // The reply is a token alone: it echoes nothing to bind it by.
        self.json_call(
            NAME,
            "/v3/payscore/permissions",
            request,
            Idempotency::Unsafe,
            |op| op,
        )
        .await
    }

    /// (10) `GET /v3/payscore/permissions/authorization-code/{authorization_code}`.
    pub async fn query_authorization_by_code(
        &self,
        authorization_code: &str,
        service_id: &str,
    ) -> Result<Authorization, Error> {
        const NAME: &str = "GET /v3/payscore/permissions/authorization-code/{authorization_code}";
        validate::required("authorization_code", authorization_code, 64)
            .and_then(|()| check_segment("authorization_code", authorization_code))
            .and_then(|()| validate::required("service_id", service_id, 32))
            .map_err(context(NAME))?;
        let path = format!(
            "/v3/payscore/permissions/authorization-code/{}?service_id={}",
            encode(authorization_code),
            encode(service_id)
        );
        let mchid = self.config().mchid.clone();
        self.get(NAME, &path, |op| {
            op.echo("authorization_code", authorization_code)
                .echo("service_id", service_id)
                .echo("mchid", mchid)
        })
        .await
    }

    /// (11) `POST …/authorization-code/{authorization_code}/terminate` → 204.
    pub async fn terminate_authorization_by_code(
        &self,
        authorization_code: &str,
        service_id: &str,
        reason: &str,
    ) -> Result<(), Error> {
        const NAME: &str =
            "POST /v3/payscore/permissions/authorization-code/{authorization_code}/terminate";
        validate::required("authorization_code", authorization_code, 64)
            .and_then(|()| check_segment("authorization_code", authorization_code))
            .and_then(|()| validate::required("service_id", service_id, 32))
            .map_err(context(NAME))?;
        validate::required("reason", reason, 50).map_err(context(NAME))?;
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
        const NAME: &str = "GET /v3/payscore/permissions/openid/{openid}";
        validate::required("openid", openid, 128)
            .and_then(|()| check_segment("openid", openid))
            .and_then(|()| validate::required("service_id", service_id, 32))
            .and_then(|()| validate::required("appid", appid, 32))
            .map_err(context(NAME))?;
        let path = format!(
            "/v3/payscore/permissions/openid/{}?service_id={}&appid={}",
            encode(openid),
            encode(service_id),
            encode(appid)
        );
        let mchid = self.config().mchid.clone();
        self.get(NAME, &path, |op| {
            op.echo("service_id", service_id)
                .echo("appid", appid)
                .echo("mchid", mchid)
                .echo_if_present("openid", openid)
        })
        .await
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
        const NAME: &str = "POST /v3/payscore/permissions/openid/{openid}/terminate";
        validate::required("openid", openid, 128)
            .and_then(|()| check_segment("openid", openid))
            .and_then(|()| validate::required("service_id", service_id, 32))
            .and_then(|()| validate::required("appid", appid, 32))
            .map_err(context(NAME))?;
        validate::required("reason", reason, 50).map_err(context(NAME))?;
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
        const NAME: &str = "POST /v3/payscore/permissions/assess-user-risk-level";
        validate::required("service_id", &request.service_id, 32).map_err(context(NAME))?;
        validate::required("appid", &request.appid, 32).map_err(context(NAME))?;
        if request.authorization_code.is_none() && request.openid.is_none() {
            return Err(context(NAME)(Error::invalid_request(
                "openid",
                "give openid or authorization_code",
            )));
        }
        let mchid = self.config().mchid.clone();
        self.json_call(
            NAME,
            "/v3/payscore/permissions/assess-user-risk-level",
            request,
            Idempotency::Safe,
            |op| {
                let mut op = op
                    .echo("service_id", request.service_id.as_str())
                    .echo("appid", request.appid.as_str())
                    .echo("mchid", mchid);
                if let Some(code) = &request.authorization_code {
                    op = op.echo_if_present("authorization_code", code.as_str());
                }
                if let Some(openid) = &request.openid {
                    op = op.echo_if_present("openid", openid.as_str());
                }
                op
            },
        )
        .await
    }

    /// (15) `POST …/{out_order_no}/send-pendingmessage` → 204. Once per order.
    pub async fn send_pending_message(
        &self,
        out_order_no: &str,
        message: &PaymentMessage,
    ) -> Result<(), Error> {
        const NAME: &str = "POST /v3/payscore/serviceorder/{out_order_no}/send-pendingmessage";
        message.validate().map_err(context(NAME))?;
        self.order_action::<_, serde_json::Value>(
            NAME,
            out_order_no,
            "send-pendingmessage",
            message,
            OrderEchoes::Nothing,
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
        const NAME: &str = "POST /v3/payscore/serviceorder/{out_order_no}/send-prepaidmessage";
        message.validate().map_err(context(NAME))?;
        self.order_action::<_, serde_json::Value>(
            NAME,
            out_order_no,
            "send-prepaidmessage",
            message,
            OrderEchoes::Nothing,
        )
        .await
        .map(|_| ())
    }

    /// (17) `GET /v3/payscore/merchant-bill`: where to download the statement of
    /// `bill_date` (`yyyy-MM-dd`), encrypted with `AEAD_AES_256_GCM`, optionally GZIP.
    /// Download and verify its files with [`Client::download_merchant_bill`], or do both
    /// with [`Client::fetch_merchant_bill`].
    ///
    /// The date format is in conflict (spec part 2 §2.1: the newest official page says
    /// `YYYYMMDDHH`, every other source `yyyy-MM-dd`); `yyyy-MM-dd` is what is accepted.
    pub async fn merchant_bill(
        &self,
        bill_date: &str,
        service_id: &str,
        gzip: bool,
    ) -> Result<MerchantBill, Error> {
        const NAME: &str = "GET /v3/payscore/merchant-bill";
        if tixpay_core::datetime::parse_ymd(bill_date).is_none() {
            return Err(context(NAME)(Error::invalid_request(
                "bill_date",
                "must be yyyy-MM-dd",
            )));
        }
        validate::required("service_id", service_id, 32).map_err(context(NAME))?;
        let mut path = format!(
            "/v3/payscore/merchant-bill?bill_date={}&service_id={}&encryption_algorithm=AEAD_AES_256_GCM",
            encode(bill_date),
            encode(service_id)
        );
        if gzip {
            path.push_str("&tar_type=GZIP");
        }
        // The reply lists files: it echoes nothing to bind it by.
        let mut bill: MerchantBill = self.get(NAME, &path, |op| op).await?;
        bill.gzip = gzip;
        Ok(bill)
    }
}

/// Which ids an order action's reply echoes (see [`Client::order_action`]).
enum OrderEchoes<'a> {
    /// A 204: nothing is echoed (the send-*message actions).
    Nothing,
    /// A reply with the order: `out_order_no` always.
    Order {
        appid: &'a str,
        service_id: &'a str,
        /// `appid` and `service_id` are documented as always returned.
        ids_required: bool,
        /// `mchid` is documented as always returned.
        mchid_required: bool,
    },
}

impl<'a> OrderEchoes<'a> {
    /// Every id documented as always returned (cancel, complete, sync).
    fn all(appid: &'a str, service_id: &'a str) -> Self {
        Self::Order {
            appid,
            service_id,
            ids_required: true,
            mchid_required: true,
        }
    }

    /// Only `out_order_no` documented as always returned; the rest compared when present
    /// (modify).
    fn order_only(appid: &'a str, service_id: &'a str) -> Self {
        Self::Order {
            appid,
            service_id,
            ids_required: false,
            mchid_required: false,
        }
    }

    fn apply(&self, op: Operation, out_order_no: &str, mchid: &str) -> Operation {
        let Self::Order {
            appid,
            service_id,
            ids_required,
            mchid_required,
        } = *self
        else {
            return op;
        };
        let op = op.echo("out_order_no", out_order_no);
        let op = if ids_required {
            op.echo("appid", appid).echo("service_id", service_id)
        } else {
            op.echo_if_present("appid", appid)
                .echo_if_present("service_id", service_id)
        };
        if mchid_required {
            op.echo("mchid", mchid)
        } else {
            op.echo_if_present("mchid", mchid)
        }
    }
}
