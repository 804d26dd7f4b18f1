//! [`Client`]: the ticket system's endpoints over Hawk.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use bytes::Bytes;
use http::Method;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use tixpay_core::{Error, HttpClient, Idempotency, Operation};

use crate::auth::{Answer, Exchange};
use crate::config::Config;
use crate::types::{
    BodyFormat, OperationResult, Order, OrderLookup, OrderOperatorResult, PayContent,
    PayWithVerifyCode, ProviderConfig, RefundParm, Ticket, TicketQuery,
};
use crate::wire::{self, DcValue};
use tixpay_core::validate;

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
    /// Whether the server has signed a reply (`Server-Authorization`) to this client.
    server_signs: AtomicBool,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field("offset_millis", &self.clock_offset_millis())
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
        Self {
            inner: Arc::new(Inner {
                config,
                http,
                offset_millis: AtomicI64::new(0),
                server_signs: AtomicBool::new(false),
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

    /// Sends one call through the Hawk hook ([`crate::auth`]): signed afresh per attempt,
    /// re-signed once after a verified stale-timestamp refusal, and accepted only when the
    /// reply verifies and is not a refusal.
    async fn call(
        &self,
        name: &'static str,
        method: Method,
        path_and_query: &str,
        body: Option<(String, Bytes)>,
        idempotency: Idempotency,
        echoes: impl FnOnce(Operation) -> Operation,
    ) -> Result<Answer, Error> {
        let inner = &*self.inner;
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
        let exchange = Exchange {
            config: &inner.config,
            offset_millis: &inner.offset_millis,
            server_signs: &inner.server_signs,
        };
        inner.http.execute(&echoes(op), &exchange).await
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
        let answer = self
            .call(name, Method::POST, path, Some(body), idempotency, |op| op)
            .await?;
        operation_result(&answer).map_err(|e| refuse(name, e))
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
        refund.validate().map_err(|e| refuse(NAME, e))?;
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
        refund.validate().map_err(|e| refuse(NAME, e))?;
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
        refund.validate().map_err(|e| refuse(NAME, e))?;
        validate::required("username", username, 20).map_err(|e| refuse(NAME, e))?;
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
        validate::at_most("orderid", order_id, ORDER_ID_MAX).map_err(|e| refuse(NAME, e))?;
        let path = format!(
            "/api/Order/Query/Main/{}?personalid={}",
            utf8_percent_encode(order_id, COMPONENT),
            personal_id.unwrap_or(0)
        );
        let answer = self
            .call(NAME, Method::GET, &path, None, Idempotency::Safe, |op| {
                op.echo_if_present("orderid", order_id)
            })
            .await?;
        Order::from_value(answer.value.clone())
            .ok_or_else(|| refuse(NAME, answer.decode_error("the reply is not an order")))
    }

    /// `POST api/ProviderConfig`: set where and how callbacks are delivered. Setting the
    /// same values again changes nothing, so it is retried like a read.
    pub async fn set_provider_config(&self, settings: &ProviderConfig) -> Result<(), Error> {
        const NAME: &str = "api/ProviderConfig";
        settings.validate().map_err(|e| refuse(NAME, e))?;
        let body = self.body("ProviderConfigParm", &settings.members());
        // IHttpActionResult: an OperationResult when the server says more than 200 OK; a
        // refusal among them was judged by the hook.
        self.call(
            NAME,
            Method::POST,
            "/api/ProviderConfig",
            Some(body),
            Idempotency::Safe,
            |op| op,
        )
        .await
        .map(|_| ())
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
        pay.validate().map_err(|e| refuse(name, e))?;
        let body = self.body("PayContent", &pay.members());
        let answer = self
            .call(
                name,
                Method::POST,
                path,
                Some(body),
                Idempotency::Unsafe,
                |op| op,
            )
            .await?;
        match &answer.value {
            Value::String(s) => Ok(s.clone()),
            _ => Err(refuse(name, answer.decode_error("expected a string"))),
        }
    }

    /// `POST api/PayOrder/UseRebateAndVerifyCode` (使用返款账户余额和手机验证码支付): pay an
    /// order from the agent's rebate balance with the SMS code from
    /// [`Client::send_agent_verify_code`]. Moves money: sent once, never retried after it
    /// may have been sent; when the outcome is unknown, read the order with
    /// [`Client::query_order`] before paying again. A `resultcode` other than 0 is a
    /// refusal (`Error::api_code` gives it).
    ///
    /// ```no_run
    /// # async fn run(client: tixpay_ticket_hawk::Client) -> Result<(), tixpay_core::Error> {
    /// use tixpay_ticket_hawk::PayWithVerifyCode;
    /// let paid = client
    ///     .pay_with_verify_code(&PayWithVerifyCode::new("20240101000123", "428913", "13800138000"))
    ///     .await?;
    /// println!("order {:?} now {:?}", paid.order_id, paid.order_status);
    /// # Ok(()) }
    /// ```
    pub async fn pay_with_verify_code(
        &self,
        pay: &PayWithVerifyCode,
    ) -> Result<OrderOperatorResult, Error> {
        const NAME: &str = "api/PayOrder/UseRebateAndVerifyCode";
        pay.validate().map_err(|e| refuse(NAME, e))?;
        let body = self.body("PayOrderUseVerifyCodeParm", &pay.members());
        let answer = self
            .call(
                NAME,
                Method::POST,
                "/api/PayOrder/UseRebateAndVerifyCode",
                Some(body),
                Idempotency::Unsafe,
                |op| op.echo_if_present("orderid", &pay.order_id),
            )
            .await?;
        serde_json::from_value(answer.value.clone()).map_err(|e| {
            refuse(
                NAME,
                answer.decode_error(&format!("not an OrderOperatorResult: {e}")),
            )
        })
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
                        wire::escape(k),
                        wire::escape(v)
                    ));
                }
                xml.push_str("</ArrayOfKeyValueOfstringstring>");
                (
                    "application/xml; charset=utf-8".to_owned(),
                    Bytes::from(xml),
                )
            }
        };
        let answer = self
            .call(
                NAME,
                Method::POST,
                "/api/Agent/AgentIsVerifyCode",
                Some(body),
                Idempotency::Unsafe,
                |op| op,
            )
            .await?;
        operation_result(&answer).map_err(|e| refuse(NAME, e))
    }

    fn ticket_query(query: &TicketQuery) -> String {
        let (order_id, sender_id) = match &query.lookup {
            OrderLookup::OrderId(id) => (id.as_str(), ""),
            OrderLookup::SenderId(id) => ("", id.as_str()),
        };
        format!(
            "username={}&orderid={}&senderid={}&personalid={}&guidernum={}",
            utf8_percent_encode(&query.username, COMPONENT),
            utf8_percent_encode(order_id, COMPONENT),
            utf8_percent_encode(sender_id, COMPONENT),
            query.personal_id.unwrap_or(0),
            utf8_percent_encode(query.guider_num.as_deref().unwrap_or(""), COMPONENT),
        )
    }

    fn check_lookup(name: &'static str, query: &TicketQuery) -> Result<(), Error> {
        let username = query.username.as_str();
        if username.trim().is_empty() {
            return Err(refuse(
                name,
                Error::invalid_request("username", "is required"),
            ));
        }
        let (id, field, max) = match &query.lookup {
            OrderLookup::OrderId(id) => (id, "orderid", ORDER_ID_MAX),
            OrderLookup::SenderId(id) => (id, "senderid", SENDER_ID_MAX),
        };
        if id.trim().is_empty() {
            return Err(refuse(
                name,
                Error::invalid_request("orderid", "orderid or senderid is required"),
            ));
        }
        validate::at_most("username", username, 20)
            .and_then(|()| validate::at_most(field, id, max))
            .and_then(|()| match query.guider_num.as_deref() {
                Some(g) => validate::at_most("guidernum", g, GUIDER_NUM_MAX),
                None => Ok(()),
            })
            .map_err(|e| refuse(name, e))
    }

    /// `GET api/WebInterface/Order/Query/Tickets`: the tickets of the order `query` finds.
    /// Safe to retry.
    ///
    /// ```no_run
    /// # async fn demo(client: tixpay_ticket_hawk::Client) -> tixpay_ticket_hawk::Result<()> {
    /// use tixpay_ticket_hawk::{OrderLookup, TicketQuery};
    /// let query = TicketQuery::new("agent01", OrderLookup::SenderId("MY-ORDER-7".into()));
    /// for ticket in client.query_tickets(&query).await? {
    ///     println!("{:?} {:?}", ticket.ticket_code, ticket.status);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn query_tickets(&self, query: &TicketQuery) -> Result<Vec<Ticket>, Error> {
        const NAME: &str = "api/WebInterface/Order/Query/Tickets";
        Self::check_lookup(NAME, query)?;
        let path = format!(
            "/api/WebInterface/Order/Query/Tickets?{}",
            Self::ticket_query(query)
        );
        let answer = self
            .call(NAME, Method::GET, &path, None, Idempotency::Safe, |op| op)
            .await?;
        match &answer.value {
            Value::Array(items) => items
                .iter()
                .map(|v| {
                    Ticket::from_value(v.clone()).ok_or_else(|| {
                        refuse(NAME, answer.decode_error("a ticket is not an object"))
                    })
                })
                .collect(),
            Value::Null => Ok(Vec::new()),
            _ => Err(refuse(
                NAME,
                answer.decode_error("expected a list of tickets"),
            )),
        }
    }

    /// `GET api/WebInterface/Order/Query/Ticket`: the ticket `ticket_id` of the order
    /// `query` finds. Safe to retry.
    pub async fn query_ticket(
        &self,
        ticket_id: &str,
        query: &TicketQuery,
    ) -> Result<Ticket, Error> {
        const NAME: &str = "api/WebInterface/Order/Query/Ticket";
        Self::check_lookup(NAME, query)?;
        if ticket_id.trim().is_empty() {
            return Err(refuse(
                NAME,
                Error::invalid_request("ticketid", "is required"),
            ));
        }
        let path = format!(
            "/api/WebInterface/Order/Query/Ticket?ticketid={}&{}",
            utf8_percent_encode(ticket_id, COMPONENT),
            Self::ticket_query(query)
        );
        let answer = self
            .call(NAME, Method::GET, &path, None, Idempotency::Safe, |op| op)
            .await?;
        Ticket::from_value(answer.value.clone())
            .ok_or_else(|| refuse(NAME, answer.decode_error("the reply is not a ticket")))
    }
}

/// `orderid` is at most 20 characters in every parameter type that documents it.
const ORDER_ID_MAX: usize = 20;
/// `senderid` has no documented length; 64 is this crate's guard against runaway URLs.
const SENDER_ID_MAX: usize = 64;
/// `guidernum` has no documented length either; the same guard.
const GUIDER_NUM_MAX: usize = 64;

fn refuse(name: &'static str, e: Error) -> Error {
    e.with_provider(PROVIDER).with_operation(name)
}

/// The `OperationResult` of an accepted reply (the hook has already refused `errcode` ≠ 0).
fn operation_result(answer: &Answer) -> Result<OperationResult, Error> {
    serde_json::from_value(answer.value.clone())
        .map_err(|e| answer.decode_error(&format!("not an OperationResult: {e}")))
}
