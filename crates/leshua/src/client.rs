//! [`Client`]: one async method per LeShua service.

use std::fmt;
use std::sync::Arc;

use tixpay_core::validate;
use tixpay_core::{Error, HttpClient, Idempotency, Operation};

use crate::auth::{ReplyCheck, request_sign};
use crate::config::Config;
use crate::types::{
    BarcodePay, Fields, OrderRef, OrderReply, Refund, RefundRef, RefundReply, UnifiedOrder,
};
use crate::wire::form_body;

const PROVIDER: &str = "leshua";

/// `merchant_id` (商户号): "由乐刷分配", at most 10 characters.
const MERCHANT_ID_MAX: usize = 10;

/// A LeShua gateway client. Cheap to clone; share one per merchant.
///
/// ```no_run
/// use tixpay_core::{Fen, Secret};
/// use tixpay_leshua::{Client, Config, PayMode, PayWay, UnifiedOrder};
///
/// # async fn run() -> Result<(), tixpay_core::Error> {
/// let client = Client::new(Config::new("9605008025", Secret::new("trade-key"), Secret::new("notify-key")))?;
/// let reply = client
///     .unified_order(&UnifiedOrder::new(PayWay::Wechat, "T20240101001", Fen::new(30_000), PayMode::Native))
///     .await?;
/// println!("show this QR code: {:?}", reply.td_code);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    http: HttpClient,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish()
    }
}

/// The reply of `query_userid`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct UserIdReply {
    /// `user_id`: the UnionPay 云闪付 user id.
    pub user_id: Option<String>,
    /// Every field of the verified reply.
    pub fields: Fields,
}

/// The reply of `query_openid` (its page is not public; the fields are kept as sent).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct OpenIdReply {
    /// `openid` (or `sub_openid`), when sent.
    pub openid: Option<String>,
    /// Every field of the verified reply.
    pub fields: Fields,
}

impl Client {
    /// A client with the default HTTP machinery.
    pub fn new(config: Config) -> Result<Self, Error> {
        Ok(Self::with_http_client(config, HttpClient::new()?))
    }

    /// A client that sends through `http`.
    pub fn with_http_client(config: Config, http: HttpClient) -> Self {
        Self {
            inner: Arc::new(Inner { config, http }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Signs and sends one service call; returns the verified reply's fields after the
    /// protocol and business layers said yes. `echoes` names the ids the reply must carry
    /// beyond `merchant_id` (see the README's table of what each reply is bound by). A
    /// configured `merchant_id` that is blank or longer than 10 characters is refused here,
    /// before anything is sent.
    async fn call(
        &self,
        service: &'static str,
        params: Vec<(String, String)>,
        idempotency: Idempotency,
        echoes: impl FnOnce(Operation) -> Operation,
    ) -> Result<Fields, Error> {
        let config = &self.inner.config;
        let context = |e: Error| e.with_provider(PROVIDER).with_operation(service);
        // `Config::new` takes any text; the manual's limit is checked here, before anything
        // is signed or sent.
        validate::required("merchant_id", &config.merchant_id, MERCHANT_ID_MAX).map_err(context)?;
        // The nonce is drawn once per call: a retry resends the same signed bytes.
        let nonce = config.nonce.nonce(32).map_err(context)?;
        let mut fields: Vec<(&str, &str)> =
            vec![("service", service), ("merchant_id", &config.merchant_id)];
        fields.extend(params.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        fields.push(("nonce_str", &nonce));
        // A name sent twice would be signed once: the signature would not cover the bytes.
        let mut seen = std::collections::HashSet::new();
        if let Some((dup, _)) = fields.iter().find(|(n, _)| !seen.insert(*n)) {
            return Err(context(Error::invalid_request(*dup, "is given twice")));
        }
        let sign = request_sign(&fields, &config.trade_key);
        fields.push(("sign", &sign));
        let mut op = Operation::post(PROVIDER, service, config.endpoint())
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )?
            .body(form_body(&fields))
            .idempotency(idempotency)
            .echo("merchant_id", config.merchant_id.as_str());
        if config.require_nonce_echo {
            op = op.echo("nonce_str", nonce.as_str());
        }
        self.inner
            .http
            .execute(&echoes(op), &ReplyCheck { config })
            .await
    }

    /// `get_tdcode` (统一下单): a QR / JSAPI / cashier / mini-program payment.
    ///
    /// Keyed by `third_order_id`: after a timeout it is resent unchanged, and LeShua
    /// answers a repeat with -20026 (已经存在), which tells you to query the order.
    pub async fn unified_order(&self, order: &UnifiedOrder) -> Result<OrderReply, Error> {
        const SERVICE: &str = "get_tdcode";
        order.validate().map_err(|e| refuse(SERVICE, e))?;
        let idempotency = Idempotency::Keyed(order.third_order_id.clone());
        let id = order.third_order_id.clone();
        self.call(SERVICE, order.fields(), idempotency, |op| {
            op.echo("third_order_id", id)
        })
        .await
        .map(OrderReply::from_fields)
    }

    /// `upload_authcode` (条码支付): charge the customer's payment code. The reply's status
    /// is often 0 (支付中): poll [`Client::query_order`] until it is final.
    ///
    /// ```no_run
    /// # async fn run(client: tixpay_leshua::Client) -> Result<(), tixpay_core::Error> {
    /// use tixpay_core::Fen;
    /// use tixpay_leshua::BarcodePay;
    /// let reply = client.barcode_pay(&BarcodePay::new("134512341234123412", "T2", Fen::new(100))).await?;
    /// println!("{:?}", reply.status);
    /// # Ok(()) }
    /// ```
    pub async fn barcode_pay(&self, pay: &BarcodePay) -> Result<OrderReply, Error> {
        const SERVICE: &str = "upload_authcode";
        pay.validate().map_err(|e| refuse(SERVICE, e))?;
        let idempotency = Idempotency::Keyed(pay.third_order_id.clone());
        let id = pay.third_order_id.clone();
        self.call(SERVICE, pay.fields(), idempotency, |op| {
            op.echo("third_order_id", id)
        })
        .await
        .map(OrderReply::from_fields)
    }

    /// `query_status` (交易结果查询). Safe to retry.
    ///
    /// ```no_run
    /// # async fn run(client: tixpay_leshua::Client) -> Result<(), tixpay_core::Error> {
    /// use tixpay_leshua::{OrderRef, OrderStatus};
    /// let reply = client.query_order(&OrderRef::ThirdOrderId("T1".into())).await?;
    /// if reply.status == Some(OrderStatus::Paid) { /* ship the tickets */ }
    /// # Ok(()) }
    /// ```
    pub async fn query_order(&self, order: &OrderRef) -> Result<OrderReply, Error> {
        const SERVICE: &str = "query_status";
        order.validate().map_err(|e| refuse(SERVICE, e))?;
        let (name, id) = order.field();
        // query_status documents both ids in its reply.
        self.call(
            SERVICE,
            vec![(name.to_owned(), id.to_owned())],
            Idempotency::Safe,
            |op| op.echo(name, id),
        )
        .await
        .map(OrderReply::from_fields)
    }

    /// `close_order` (订单关闭). Barcode orders can be closed only 5 minutes after they
    /// were made; paid, failed or closed orders cannot be closed. Closing is keyed by the
    /// order: a repeat cannot move money.
    ///
    /// ```no_run
    /// # async fn run(client: tixpay_leshua::Client) -> Result<(), tixpay_core::Error> {
    /// use tixpay_leshua::OrderRef;
    /// let closed = client.close_order(&OrderRef::ThirdOrderId("T1".into())).await?;
    /// println!("{:?}", closed.status);
    /// # Ok(()) }
    /// ```
    pub async fn close_order(&self, order: &OrderRef) -> Result<OrderReply, Error> {
        const SERVICE: &str = "close_order";
        order.validate().map_err(|e| refuse(SERVICE, e))?;
        let (name, id) = order.field();
        self.call(
            SERVICE,
            vec![(name.to_owned(), id.to_owned())],
            Idempotency::Keyed(id.to_owned()),
            |op| echo_order(op, order),
        )
        .await
        .map(OrderReply::from_fields)
    }

    /// `unified_refund` (退款): refund all or part of a paid order. Keyed by
    /// `merchant_refund_id`: after a timeout the same request is resent. Any refusal of such
    /// a resend (-5103 商户退款 id 已存在, or -20023 because the first attempt took the
    /// balance) is outcome-unknown, as is a refusal that is not fully signed: query with
    /// [`Client::query_refund`] before acting. The reply must echo `merchant_refund_id`.
    ///
    /// ```no_run
    /// # async fn run(client: tixpay_leshua::Client) -> Result<(), tixpay_core::Error> {
    /// use tixpay_core::Fen;
    /// use tixpay_leshua::{OrderRef, Refund, RefundRef};
    /// let refund = Refund::new(OrderRef::ThirdOrderId("T1".into()), "R1", Fen::new(20_000));
    /// match client.refund(&refund).await {
    ///     Ok(reply) => println!("refund {:?}", reply.status),
    ///     Err(e) if e.is_outcome_unknown() => {
    ///         let known = client
    ///             .query_refund(&refund.order, &RefundRef::MerchantRefundId("R1".into()))
    ///             .await?;
    ///         println!("the refund may exist: {:?}", known.status);
    ///     }
    ///     Err(e) => return Err(e), // LeShua refused this refund
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn refund(&self, refund: &Refund) -> Result<RefundReply, Error> {
        const SERVICE: &str = "unified_refund";
        refund.validate().map_err(|e| refuse(SERVICE, e))?;
        let idempotency = Idempotency::Keyed(refund.merchant_refund_id.clone());
        let refund_id = refund.merchant_refund_id.clone();
        self.call(SERVICE, refund.fields(), idempotency, |op| {
            echo_order(op, &refund.order).echo("merchant_refund_id", refund_id)
        })
        .await
        .map(RefundReply::from_fields)
    }

    /// `unified_query_refund` (退款查询). Safe to retry.
    ///
    /// ```no_run
    /// # async fn run(client: tixpay_leshua::Client) -> Result<(), tixpay_core::Error> {
    /// use tixpay_leshua::{OrderRef, RefundRef};
    /// let r = client
    ///     .query_refund(&OrderRef::ThirdOrderId("T1".into()), &RefundRef::MerchantRefundId("R1".into()))
    ///     .await?;
    /// println!("{:?}", r.status);
    /// # Ok(()) }
    /// ```
    pub async fn query_refund(
        &self,
        order: &OrderRef,
        refund: &RefundRef,
    ) -> Result<RefundReply, Error> {
        const SERVICE: &str = "unified_query_refund";
        order.validate().map_err(|e| refuse(SERVICE, e))?;
        refund.validate().map_err(|e| refuse(SERVICE, e))?;
        let (o_name, o_id) = order.field();
        let (r_name, r_id) = refund.field();
        self.call(
            SERVICE,
            vec![
                (o_name.to_owned(), o_id.to_owned()),
                (r_name.to_owned(), r_id.to_owned()),
            ],
            Idempotency::Safe,
            |op| {
                let op = echo_order(op, order);
                // Public clients read leshua_refund_id from this reply; merchant_refund_id
                // is not confirmed.
                match refund {
                    RefundRef::LeshuaRefundId(id) => op.echo("leshua_refund_id", id.as_str()),
                    RefundRef::MerchantRefundId(id) => {
                        op.echo_if_present("merchant_refund_id", id.as_str())
                    }
                }
            },
        )
        .await
        .map(RefundReply::from_fields)
    }

    /// `query_userid`: the UnionPay 云闪付 user id for a user authorization code.
    /// `app_up_identifier` is sent by public clients but absent from the manual page.
    pub async fn query_user_id(
        &self,
        user_auth_code: &str,
        app_up_identifier: Option<&str>,
    ) -> Result<UserIdReply, Error> {
        const SERVICE: &str = "query_userid";
        if user_auth_code.trim().is_empty() {
            return Err(refuse(
                SERVICE,
                Error::invalid_request("user_auth_code", "is required"),
            ));
        }
        let mut params = vec![("user_auth_code".to_owned(), user_auth_code.to_owned())];
        if let Some(id) = app_up_identifier {
            params.push(("app_up_identifier".to_owned(), id.to_owned()));
        }
        let fields = self
            .call(SERVICE, params, Idempotency::Safe, |op| op)
            .await?;
        Ok(UserIdReply {
            user_id: fields.string("user_id"),
            fields,
        })
    }

    /// `query_openid` (授权码查询用户openid): the WeChat openid behind a payment code. The
    /// manual's page is not public; the request follows public clients (`auth_code`,
    /// optional `appid`).
    pub async fn query_openid(
        &self,
        auth_code: &str,
        appid: Option<&str>,
    ) -> Result<OpenIdReply, Error> {
        const SERVICE: &str = "query_openid";
        if auth_code.trim().is_empty() {
            return Err(refuse(
                SERVICE,
                Error::invalid_request("auth_code", "is required"),
            ));
        }
        let mut params = vec![("auth_code".to_owned(), auth_code.to_owned())];
        if let Some(appid) = appid {
            params.push(("appid".to_owned(), appid.to_owned()));
        }
        let fields = self
            .call(SERVICE, params, Idempotency::Safe, |op| op)
            .await?;
        Ok(OpenIdReply {
            openid: fields
                .string("openid")
                .or_else(|| fields.string("sub_openid")),
            fields,
        })
    }
}

/// Every reply echoes `third_order_id` (the manual's common envelope); `leshua_order_id` is
/// documented only in `query_status`'s reply, so elsewhere it is compared when present.
fn echo_order(op: Operation, order: &OrderRef) -> Operation {
    match order {
        OrderRef::ThirdOrderId(id) => op.echo("third_order_id", id.as_str()),
        OrderRef::LeshuaOrderId(id) => op.echo_if_present("leshua_order_id", id.as_str()),
    }
}

fn refuse(service: &'static str, e: Error) -> Error {
    e.with_provider(PROVIDER).with_operation(service)
}
