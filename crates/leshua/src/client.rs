//! [`Client`]: one async method per LeShua service.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use tixpay_core::{ApiError, Error, HttpClient, Idempotency, NoAuth, Operation, SignatureSubject};

use crate::auth::{request_sign, verify_reply};
use crate::config::Config;
use crate::types::{
    BarcodePay, Fields, OrderRef, OrderReply, Refund, RefundRef, RefundReply, UnifiedOrder,
};
use crate::wire::{XmlError, form_body, parse_xml};

const PROVIDER: &str = "leshua";

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserIdReply {
    /// `user_id`: the UnionPay 云闪付 user id.
    pub user_id: Option<String>,
    /// Every field of the verified reply.
    pub fields: Fields,
}

/// The reply of `query_openid` (its page is not public; the fields are kept as sent).
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// protocol and business layers said yes.
    async fn call(
        &self,
        service: &'static str,
        params: Vec<(String, String)>,
        idempotency: Idempotency,
    ) -> Result<Fields, Error> {
        let config = &self.inner.config;
        let context = |e: Error| e.with_provider(PROVIDER).with_operation(service);
        // The nonce is drawn once per call: a retry resends the same signed bytes.
        let nonce = config.nonce.nonce(32);
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
        let op = Operation::post(PROVIDER, service, config.endpoint())
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )?
            .body(form_body(&fields))
            .idempotency(idempotency);
        let response = self.inner.http.execute(&op, &NoAuth).await?;
        let attempts = tixpay_core::Attempts::of(&response);
        let fields = decode_reply(config, response.status(), response.body())
            .map_err(|e| after_retry(e, attempts))
            .map_err(context)?;
        // A verified reply must be about what was asked: a replayed reply for another
        // order carries a valid signature too.
        for name in [
            "third_order_id",
            "leshua_order_id",
            "merchant_refund_id",
            "leshua_refund_id",
        ] {
            let asked = params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str());
            if let Some((asked, answered)) =
                asked.zip(fields.non_empty(name)).filter(|(a, b)| a != b)
            {
                return Err(context(Error::signature(
                    SignatureSubject::Response,
                    format!("the reply is for {name} {answered}, not {asked}"),
                )));
            }
        }
        Ok(fields)
    }

    /// `get_tdcode` (统一下单): a QR / JSAPI / cashier / mini-program payment.
    ///
    /// Keyed by `third_order_id`: after a timeout it is resent unchanged, and LeShua
    /// answers a repeat with -20026 (已经存在), which tells you to query the order.
    pub async fn unified_order(&self, order: &UnifiedOrder) -> Result<OrderReply, Error> {
        const SERVICE: &str = "get_tdcode";
        order.validate().map_err(|e| refuse(SERVICE, e))?;
        let idempotency = Idempotency::Keyed(order.third_order_id.clone());
        self.call(SERVICE, order.fields(), idempotency)
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
        self.call(SERVICE, pay.fields(), idempotency)
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
        self.call(
            SERVICE,
            vec![(name.to_owned(), id.to_owned())],
            Idempotency::Safe,
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
        )
        .await
        .map(OrderReply::from_fields)
    }

    /// `unified_refund` (退款): refund all or part of a paid order. Keyed by
    /// `merchant_refund_id`: after a timeout the same request is resent; a repeat that
    /// LeShua already recorded is answered -5103 (商户退款 id 已存在), surfaced as a provider
    /// error so you can [`Client::query_refund`].
    ///
    /// ```no_run
    /// # async fn run(client: tixpay_leshua::Client) -> Result<(), tixpay_core::Error> {
    /// use tixpay_core::Fen;
    /// use tixpay_leshua::{ErrorCode, OrderRef, Refund, RefundRef};
    /// let refund = Refund::new(OrderRef::ThirdOrderId("T1".into()), "R1", Fen::new(20_000));
    /// match client.refund(&refund).await {
    ///     Ok(reply) => println!("refund {:?}", reply.status),
    ///     Err(e) if ErrorCode::from_error(&e) == Some(ErrorCode::DuplicateRefundId) => {
    ///         let known = client
    ///             .query_refund(&refund.order, &RefundRef::MerchantRefundId("R1".into()))
    ///             .await?;
    ///         println!("already requested: {:?}", known.status);
    ///     }
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn refund(&self, refund: &Refund) -> Result<RefundReply, Error> {
        const SERVICE: &str = "unified_refund";
        refund.check().map_err(|e| refuse(SERVICE, e))?;
        let idempotency = Idempotency::Keyed(refund.merchant_refund_id.clone());
        self.call(SERVICE, refund.fields(), idempotency)
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
        let fields = self.call(SERVICE, params, Idempotency::Safe).await?;
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
        let fields = self.call(SERVICE, params, Idempotency::Safe).await?;
        Ok(OpenIdReply {
            openid: fields
                .string("openid")
                .or_else(|| fields.string("sub_openid")),
            fields,
        })
    }
}

/// Codes that answer a repeated key: after an earlier attempt that may have been processed
/// they mean "already done", not "refused". `-4004` (订单正在处理中) never settles anything.
const DUPLICATE_CODES: &[&str] = &["-20026", "-1006", "-5103"];

fn after_retry(e: Error, attempts: tixpay_core::Attempts) -> Error {
    let Some(api) = e.as_api() else { return e };
    let unsettled = api.code == "-4004"
        || (attempts.earlier_may_have_been_sent && DUPLICATE_CODES.contains(&api.code.as_str()));
    if unsettled {
        Error::api(api.clone().outcome_unknown(true))
    } else {
        e
    }
}

fn refuse(service: &'static str, e: Error) -> Error {
    e.with_provider(PROVIDER).with_operation(service)
}

/// Verifies and judges a reply: signature first, then `resp_code`, then `result_code`.
pub(crate) fn decode_reply(
    config: &Config,
    status: http::StatusCode,
    body: &Bytes,
) -> Result<Fields, Error> {
    if !status.is_success() {
        return Err(Error::http(status, body, None));
    }
    let fields = match parse_xml(body) {
        Ok(fields) => Fields(fields),
        Err(XmlError::NotXml(text)) => {
            return Err(Error::decode(
                Some(status),
                body,
                None,
                format!(
                    "the gateway answered with text, not XML: “{text}” (it says 接口为可用状态 to an empty or malformed request)"
                ),
            ));
        }
        Err(XmlError::Malformed(why)) => return Err(Error::decode(Some(status), body, None, why)),
    };
    let resp_code = fields.get("resp_code").unwrap_or_default();
    let signed = fields.non_empty("sign").is_some();
    if signed {
        verify_reply(&fields.borrowed(), &config.trade_key, config.verify_rule)
            .map_err(|why| Error::signature(SignatureSubject::Response, why))?;
    } else if resp_code == "0" || resp_code.is_empty() {
        return Err(Error::signature(
            SignatureSubject::Response,
            "the reply has no sign",
        ));
    }
    if resp_code != "0" {
        // A protocol error may come unsigned; it is reported but no field of it is trusted.
        let api = ApiError::new(
            if resp_code.is_empty() {
                "resp_code missing"
            } else {
                resp_code
            },
            fields.get("resp_msg").unwrap_or_default(),
        )
        .with_detail(serde_json::json!({"layer": "protocol", "signed": signed}))
        .with_body(body.clone())
        .outcome_unknown(!signed);
        return Err(Error::api(api));
    }
    let result_code = fields.get("result_code").unwrap_or_default();
    if result_code != "0" {
        let code = fields
            .non_empty("error_code")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("result_code {result_code}"));
        let api = ApiError::new(code, fields.get("error_msg").unwrap_or_default())
            .with_detail(serde_json::json!({"layer": "business", "result_code": result_code}))
            .with_body(body.clone());
        return Err(Error::api(api));
    }
    Ok(fields)
}
