//! [`Client`]: the ticket system's endpoints over Hawk.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Method, StatusCode};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use tixpay_core::{
    ApiError, Authenticate, Clock, Error, HttpClient, Idempotency, Operation, SignatureSubject,
};

use crate::config::{Config, ServerAuth};
use crate::hawk::{Artifacts, ServerAuthorization, WwwAuthenticate};
use crate::types::{
    BodyFormat, OperationResult, Order, OrderLookup, PayContent, ProviderConfig, RefundParm, Ticket,
};
use crate::wire::{self, DcValue};

const PROVIDER: &str = "ticket-hawk";

/// Characters left as they are in a query value or path segment: unreserved characters.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A client of one ticket-system deployment. Cheap to clone; the clock offset learnt from
/// the server is shared by the clones.
///
/// ```no_run
/// use tixpay_core::Secret;
/// use tixpay_ticket_hawk::hawk::{Algorithm, Credentials};
/// use tixpay_ticket_hawk::{Client, Config, RefundParm};
///
/// # async fn run() -> Result<(), tixpay_core::Error> {
/// let credentials = Credentials::from_operator("agent01", &Secret::new("KEY"), &Secret::new("password"), Algorithm::Sha256);
/// let client = Client::new(Config::new("https://weiapi.example.cn", credentials))?;
/// let result = client.refund_tickets(&RefundParm::tickets("20240101000123", ["T1"])).await?;
/// println!("{:?}", result.errmsg);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    http: HttpClient,
    offset_millis: AtomicI64,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field("offset_millis", &self.clock_offset_millis())
            .finish()
    }
}

/// Signs each attempt afresh (a Hawk server rejects a replayed nonce) and remembers what it
/// signed, to check `Server-Authorization` against.
struct HawkAuth<'a> {
    inner: &'a Inner,
    signed: Mutex<Option<Artifacts>>,
}

impl Authenticate for HawkAuth<'_> {
    fn authenticate(&self, request: &mut http::Request<Bytes>, _attempt: u32) -> Result<(), Error> {
        let config = &self.inner.config;
        let now = config
            .clock
            .now_millis()
            .saturating_add(self.inner.offset_millis.load(Ordering::SeqCst));
        let nonce = config.nonce.nonce(12);
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
        match self.signed.lock() {
            Ok(mut s) => *s = Some(artifacts),
            Err(e) => *e.into_inner() = Some(artifacts),
        }
        Ok(())
    }
}

impl Client {
    /// A client with the default HTTP machinery.
    pub fn new(config: Config) -> Result<Self, Error> {
        Ok(Self::with_http_client(config, HttpClient::new()?))
    }

    /// A client sending through `http`.
    pub fn with_http_client(config: Config, http: HttpClient) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                http,
                offset_millis: AtomicI64::new(0),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// How far the server's clock is from ours, as learnt from a stale-timestamp reply
    /// (milliseconds; the system clock is never touched).
    pub fn clock_offset_millis(&self) -> i64 {
        self.inner.offset_millis.load(Ordering::SeqCst)
    }

    fn body(&self, root: &str, members: &[(&'static str, DcValue)]) -> (String, Bytes) {
        match self.inner.config.format {
            BodyFormat::Json => (
                "application/json; charset=utf-8".to_owned(),
                Bytes::from(wire::json(members).to_string()),
            ),
            BodyFormat::Xml => (
                "application/xml; charset=utf-8".to_owned(),
                Bytes::from(wire::data_contract_xml(
                    root,
                    &self.inner.config.xml_namespace,
                    members,
                )),
            ),
        }
    }

    /// Sends one call; on a stale-timestamp 401 adopts the server's time (after checking
    /// `tsm`) and sends once more. Returns the reply as a JSON-like value.
    async fn call(
        &self,
        name: &'static str,
        method: Method,
        path_and_query: &str,
        body: Option<(String, Bytes)>,
        idempotency: Idempotency,
    ) -> Result<Value, Error> {
        let inner = &*self.inner;
        let context = |e: Error| e.with_provider(PROVIDER).with_operation(name);
        let accept = match inner.config.format {
            BodyFormat::Json => "application/json",
            BodyFormat::Xml => "application/xml",
        };
        let mut op = Operation::new(
            PROVIDER,
            name,
            method,
            format!("{}{path_and_query}", inner.config.base_url),
        )
        .header("accept", accept)?
        .idempotency(idempotency);
        if let Some((content_type, bytes)) = body {
            op = op.header("content-type", &content_type)?.body(bytes);
        }
        let mut resynced = false;
        loop {
            let auth = HawkAuth {
                inner,
                signed: Mutex::new(None),
            };
            let response = inner.http.execute(&op, &auth).await?;
            if response.status() == StatusCode::UNAUTHORIZED {
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
                let www = match hawk {
                    Some(text) => Some(WwwAuthenticate::parse(text).map_err(|e| {
                        context(Error::decode(
                            Some(response.status()),
                            response.body(),
                            Some("WWW-Authenticate".into()),
                            e.to_string(),
                        ))
                    })?),
                    None => None,
                };
                let www = www.unwrap_or_default();
                if www.is_stale_timestamp() {
                    if resynced {
                        return Err(context(unauthorized(&response, &www)));
                    }
                    self.resync(&www).map_err(context)?;
                    resynced = true;
                    continue;
                }
                return Err(context(unauthorized(&response, &www)));
            }
            let signed = auth
                .signed
                .lock()
                .map(|s| s.clone())
                .unwrap_or_else(|e| e.into_inner().clone());
            self.check_server_auth(&response, signed.as_ref())
                .map_err(context)?;
            return decode(&response).map_err(context);
        }
    }

    fn resync(&self, www: &WwwAuthenticate) -> Result<(), Error> {
        let config = &self.inner.config;
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
        self.inner.offset_millis.store(offset, Ordering::SeqCst);
        Ok(())
    }

    fn check_server_auth(
        &self,
        response: &http::Response<Bytes>,
        signed: Option<&Artifacts>,
    ) -> Result<(), Error> {
        let config = &self.inner.config;
        let header = response.headers().get("server-authorization");
        let fail = |why: String| Error::signature(SignatureSubject::Response, why);
        match (config.server_auth, header) {
            (ServerAuth::Off, _) | (ServerAuth::IfPresent, None) => Ok(()),
            (ServerAuth::Required, None) => Err(fail("no Server-Authorization header".into())),
            (_, Some(value)) => {
                let text = value
                    .to_str()
                    .map_err(|_| fail("Server-Authorization is not ASCII".into()))?;
                let parsed = ServerAuthorization::parse(text).map_err(|e| fail(e.to_string()))?;
                let signed = signed.ok_or_else(|| fail("no request artifacts".into()))?;
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
                    .map_err(|e| fail(e.to_string()))
            }
        }
    }

    async fn operation_result(
        &self,
        name: &'static str,
        path: &str,
        root: &str,
        members: &[(&'static str, DcValue)],
        idempotency: Idempotency,
    ) -> Result<OperationResult, Error> {
        let body = self.body(root, members);
        let value = self
            .call(name, Method::POST, path, Some(body), idempotency)
            .await?;
        operation_result(value).map_err(|e| e.with_provider(PROVIDER).with_operation(name))
    }

    /// `POST api/Order/Refund` (申请退款): refund an order that was paid but got no gate
    /// credential. Irreversible; sent once (never retried after it may have been sent).
    ///
    /// ```no_run
    /// # async fn run(client: tixpay_ticket_hawk::Client) -> Result<(), tixpay_core::Error> {
    /// use tixpay_ticket_hawk::RefundParm;
    /// client.refund_order(&RefundParm::whole_order("20240101000123").memory("no gate pass issued")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn refund_order(&self, refund: &RefundParm) -> Result<OperationResult, Error> {
        const NAME: &str = "api/Order/Refund";
        refund.check().map_err(|e| refuse(NAME, e))?;
        self.operation_result(
            NAME,
            "/api/Order/Refund",
            "RefundParm",
            &refund.members(),
            Idempotency::Unsafe,
        )
        .await
    }

    /// `POST api/Order/RefundTicket` (退票申请): refund tickets of an order, the usual way to
    /// refund. Irreversible; sent once.
    pub async fn refund_tickets(&self, refund: &RefundParm) -> Result<OperationResult, Error> {
        const NAME: &str = "api/Order/RefundTicket";
        refund.check().map_err(|e| refuse(NAME, e))?;
        self.operation_result(
            NAME,
            "/api/Order/RefundTicket",
            "RefundParm",
            &refund.members(),
            Idempotency::Unsafe,
        )
        .await
    }

    /// `POST api/WebInterface/Order/Ticket/Refund`: the WebInterface form of a ticket refund,
    /// for agent `username` (≤ 20), optionally with `settotomorrowtime`. Irreversible.
    pub async fn refund_tickets_for_agent(
        &self,
        username: &str,
        set_to_tomorrow_time: Option<&str>,
        refund: &RefundParm,
    ) -> Result<OperationResult, Error> {
        const NAME: &str = "api/WebInterface/Order/Ticket/Refund";
        refund.check().map_err(|e| refuse(NAME, e))?;
        if username.trim().is_empty() || username.chars().count() > 20 {
            return Err(refuse(
                NAME,
                Error::invalid_request("username", "is required, at most 20 characters"),
            ));
        }
        let members = vec![
            ("username", DcValue::Text(username.to_owned())),
            (
                "settotomorrowtime",
                set_to_tomorrow_time.map_or(DcValue::Nil, |t| DcValue::Text(t.to_owned())),
            ),
            ("refundparm", DcValue::Object(refund.members())),
        ];
        self.operation_result(
            NAME,
            "/api/WebInterface/Order/Ticket/Refund",
            "OrderTicketRefundParm",
            &members,
            Idempotency::Unsafe,
        )
        .await
    }

    /// `GET api/Order/Query/Main/{orderid}?personalid=`: an order's main record (only
    /// orders you booked). Safe to retry.
    ///
    /// ```no_run
    /// # async fn run(client: tixpay_ticket_hawk::Client) -> Result<(), tixpay_core::Error> {
    /// let order = client.query_order("20240101000123", None).await?;
    /// println!("{:?} {:?}", order.status, order.total_count);
    /// # Ok(()) }
    /// ```
    pub async fn query_order(
        &self,
        order_id: &str,
        personal_id: Option<i64>,
    ) -> Result<Order, Error> {
        const NAME: &str = "api/Order/Query/Main";
        if order_id.trim().is_empty() || order_id == "." || order_id == ".." {
            return Err(refuse(
                NAME,
                Error::invalid_request("orderid", "is required (and cannot be `.` or `..`)"),
            ));
        }
        let path = format!(
            "/api/Order/Query/Main/{}?personalid={}",
            utf8_percent_encode(order_id, COMPONENT),
            personal_id.unwrap_or(0)
        );
        let value = self
            .call(NAME, Method::GET, &path, None, Idempotency::Safe)
            .await?;
        Order::from_value(value).ok_or_else(|| {
            refuse(
                NAME,
                Error::decode(None, b"", None, "the reply is not an order"),
            )
        })
    }

    /// `POST api/ProviderConfig`: set where and how callbacks are delivered. Setting the
    /// same values again changes nothing, so it is retried like a read.
    pub async fn set_provider_config(&self, settings: &ProviderConfig) -> Result<(), Error> {
        const NAME: &str = "api/ProviderConfig";
        settings.check().map_err(|e| refuse(NAME, e))?;
        let body = self.body("ProviderConfigParm", &settings.members());
        let value = self
            .call(
                NAME,
                Method::POST,
                "/api/ProviderConfig",
                Some(body),
                Idempotency::Safe,
            )
            .await?;
        // IHttpActionResult: an OperationResult when the server says more than 200 OK.
        if value.get("errcode").is_some() {
            operation_result(value).map_err(|e| refuse(NAME, e))?;
        }
        Ok(())
    }

    /// `POST api/Order/BeginToPay`: start a third-party payment from a PC page; returns the
    /// server's string (a payment page or parameters). Sent once.
    pub async fn begin_to_pay(&self, pay: &PayContent) -> Result<String, Error> {
        self.begin(pay, "api/Order/BeginToPay", "/api/Order/BeginToPay")
            .await
    }

    /// `POST api/Order/BeginToPay/Phone`: the same for mobile pages and WeChat official
    /// accounts.
    pub async fn begin_to_pay_phone(&self, pay: &PayContent) -> Result<String, Error> {
        self.begin(
            pay,
            "api/Order/BeginToPay/Phone",
            "/api/Order/BeginToPay/Phone",
        )
        .await
    }

    async fn begin(
        &self,
        pay: &PayContent,
        name: &'static str,
        path: &str,
    ) -> Result<String, Error> {
        pay.check().map_err(|e| refuse(name, e))?;
        let body = self.body("PayContent", &pay.members());
        let value = self
            .call(name, Method::POST, path, Some(body), Idempotency::Unsafe)
            .await?;
        match value {
            Value::String(s) => Ok(s),
            other => Err(refuse(
                name,
                Error::decode(
                    None,
                    other.to_string().as_bytes(),
                    None,
                    "expected a string",
                ),
            )),
        }
    }

    /// `POST api/Agent/AgentIsVerifyCode`: send a verification code to the agent's phone
    /// kept by the supplier. Its `Dictionary<string,string>` parameters are not documented
    /// further; they are sent as given. Sent once (it sends an SMS).
    pub async fn send_agent_verify_code(
        &self,
        params: &BTreeMap<String, String>,
    ) -> Result<OperationResult, Error> {
        const NAME: &str = "api/Agent/AgentIsVerifyCode";
        let body = match self.inner.config.format {
            BodyFormat::Json => (
                "application/json; charset=utf-8".to_owned(),
                Bytes::from(serde_json::to_string(params).unwrap_or_default()),
            ),
            BodyFormat::Xml => {
                let mut xml = format!(
                    "<ArrayOfKeyValueOfstringstring xmlns:i=\"{}\" xmlns=\"{}\">",
                    wire::XSI_NAMESPACE,
                    wire::ARRAYS_NAMESPACE
                );
                for (k, v) in params {
                    xml.push_str(&format!(
                        "<KeyValueOfstringstring><Key>{}</Key><Value>{}</Value></KeyValueOfstringstring>",
                        xml_escape(k),
                        xml_escape(v)
                    ));
                }
                xml.push_str("</ArrayOfKeyValueOfstringstring>");
                (
                    "application/xml; charset=utf-8".to_owned(),
                    Bytes::from(xml),
                )
            }
        };
        let value = self
            .call(
                NAME,
                Method::POST,
                "/api/Agent/AgentIsVerifyCode",
                Some(body),
                Idempotency::Unsafe,
            )
            .await?;
        operation_result(value).map_err(|e| refuse(NAME, e))
    }

    fn ticket_query(
        username: &str,
        lookup: &OrderLookup,
        personal_id: Option<i64>,
        guider_num: Option<&str>,
    ) -> String {
        let (order_id, sender_id) = match lookup {
            OrderLookup::OrderId(id) => (id.as_str(), ""),
            OrderLookup::SenderId(id) => ("", id.as_str()),
        };
        format!(
            "username={}&orderid={}&senderid={}&personalid={}&guidernum={}",
            utf8_percent_encode(username, COMPONENT),
            utf8_percent_encode(order_id, COMPONENT),
            utf8_percent_encode(sender_id, COMPONENT),
            personal_id.unwrap_or(0),
            utf8_percent_encode(guider_num.unwrap_or(""), COMPONENT),
        )
    }

    fn check_lookup(name: &'static str, username: &str, lookup: &OrderLookup) -> Result<(), Error> {
        if username.trim().is_empty() {
            return Err(refuse(
                name,
                Error::invalid_request("username", "is required"),
            ));
        }
        let id = match lookup {
            OrderLookup::OrderId(id) | OrderLookup::SenderId(id) => id,
        };
        if id.trim().is_empty() {
            return Err(refuse(
                name,
                Error::invalid_request("orderid", "orderid or senderid is required"),
            ));
        }
        Ok(())
    }

    /// `GET api/WebInterface/Order/Query/Tickets`: the tickets of an order, for agent
    /// `username`. Safe to retry.
    pub async fn query_tickets(
        &self,
        username: &str,
        lookup: &OrderLookup,
        personal_id: Option<i64>,
        guider_num: Option<&str>,
    ) -> Result<Vec<Ticket>, Error> {
        const NAME: &str = "api/WebInterface/Order/Query/Tickets";
        Self::check_lookup(NAME, username, lookup)?;
        let path = format!(
            "/api/WebInterface/Order/Query/Tickets?{}",
            Self::ticket_query(username, lookup, personal_id, guider_num)
        );
        match self
            .call(NAME, Method::GET, &path, None, Idempotency::Safe)
            .await?
        {
            Value::Array(items) => items
                .into_iter()
                .map(|v| {
                    Ticket::from_value(v).ok_or_else(|| {
                        refuse(
                            NAME,
                            Error::decode(None, b"", None, "a ticket is not an object"),
                        )
                    })
                })
                .collect(),
            Value::Null => Ok(Vec::new()),
            other => Err(refuse(
                NAME,
                Error::decode(
                    None,
                    other.to_string().as_bytes(),
                    None,
                    "expected a list of tickets",
                ),
            )),
        }
    }

    /// `GET api/WebInterface/Order/Query/Ticket`: one ticket. Safe to retry.
    pub async fn query_ticket(
        &self,
        username: &str,
        ticket_id: &str,
        lookup: &OrderLookup,
        personal_id: Option<i64>,
        guider_num: Option<&str>,
    ) -> Result<Ticket, Error> {
        const NAME: &str = "api/WebInterface/Order/Query/Ticket";
        Self::check_lookup(NAME, username, lookup)?;
        if ticket_id.trim().is_empty() {
            return Err(refuse(
                NAME,
                Error::invalid_request("ticketid", "is required"),
            ));
        }
        let path = format!(
            "/api/WebInterface/Order/Query/Ticket?ticketid={}&{}",
            utf8_percent_encode(ticket_id, COMPONENT),
            Self::ticket_query(username, lookup, personal_id, guider_num)
        );
        let value = self
            .call(NAME, Method::GET, &path, None, Idempotency::Safe)
            .await?;
        Ticket::from_value(value).ok_or_else(|| {
            refuse(
                NAME,
                Error::decode(None, b"", None, "the reply is not a ticket"),
            )
        })
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn refuse(name: &'static str, e: Error) -> Error {
    e.with_provider(PROVIDER).with_operation(name)
}

fn unauthorized(response: &http::Response<Bytes>, www: &WwwAuthenticate) -> Error {
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

/// `errcode` 0 is success; anything else is the provider's refusal.
fn operation_result(value: Value) -> Result<OperationResult, Error> {
    let result: OperationResult = tixpay_core::json::decode_value(value)?;
    if result.errcode == 0 {
        Ok(result)
    } else {
        let body = serde_json::to_vec(&result).unwrap_or_default();
        Err(Error::api(
            ApiError::new(
                result.errcode.to_string(),
                result.errmsg.clone().unwrap_or_default(),
            )
            .with_body(Bytes::from(body)),
        ))
    }
}

/// The reply as a JSON-like value, from JSON or XML by its content type. Non-2xx replies
/// become a provider error when they carry an `OperationResult`, an HTTP error otherwise.
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
    if !status.is_success() {
        if let Some(result) = parsed
            .as_ref()
            .ok()
            .and_then(|v| serde_json::from_value::<OperationResult>(v.clone()).ok())
        {
            return Err(Error::api(
                ApiError::new(
                    result.errcode.to_string(),
                    result.errmsg.unwrap_or_default(),
                )
                .with_status(status)
                .with_body(body.clone()),
            ));
        }
        return Err(Error::http(status, body, None));
    }
    parsed.map_err(|why| Error::decode(Some(status), body, None, why))
}
