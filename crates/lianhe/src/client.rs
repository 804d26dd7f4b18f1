//! [`Client`]: one async method per Lianhe method.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use tixpay_core::{Error, HttpClient, Idempotency, Operation};

use crate::auth::{Exchange, RequestAuth, Signer};
use crate::config::Config;
use crate::error::{CODE_QUERY_SUCCESS, CODE_SUCCESS};
use crate::types::{
    CancelAccepted, CancelOrder, CancelOutcome, CancelRefused, CreateOrder, GetTeam, NewOrder,
    OrderInfo, OrderReceipt, OrderStatus, PayOrder, Product, ProductPage, QueryOrder, RefundStatus,
    ResendVoucher, Voucher,
};
use crate::wire;

const PROVIDER: &str = "lianhe";

/// A Lianhe partner API client. Cheap to clone; share one per partner account.
///
/// ```no_run
/// use tixpay_core::Secret;
/// use tixpay_lianhe::{Client, Config, GetTeam};
///
/// # async fn run() -> Result<(), tixpay_core::Error> {
/// let client = Client::new(Config::new(3528, "myapi", Secret::new("client-secret")))?;
/// let page = client.get_team(&GetTeam::page(0, 20)).await?;
/// for product in &page.products {
///     println!("{} {} {:?}", product.deal_id, product.name, product.sell_price);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    http: HttpClient,
    auth: RequestAuth,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish()
    }
}

impl Client {
    /// A client with the default HTTP machinery (reqwest, retries by idempotency).
    pub fn new(config: Config) -> Result<Self, Error> {
        Ok(Self::with_http_client(config, HttpClient::new()?))
    }

    /// A client that sends through `http` (your transport, timeouts and retry policy).
    pub fn with_http_client(config: Config, http: HttpClient) -> Self {
        let auth = RequestAuth {
            signer: Signer::new(config.api_name.clone(), &config.client_secret),
            partner_id: config.partner_id.to_string(),
            version: config.version.clone(),
            clock: Arc::clone(&config.clock),
        };
        Self {
            inner: Arc::new(Inner { config, http, auth }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Signs and sends one method; returns the reply once it is bound to the request (the
    /// configured `partnerId` and the ids `echoes` names) and its `code` is one of `success`.
    async fn call<T: Serialize>(
        &self,
        method: &'static str,
        body: &T,
        idempotency: Idempotency,
        success: &[i64],
        echoes: impl FnOnce(Operation) -> Operation,
    ) -> Result<wire::Reply, Error> {
        let config = &self.inner.config;
        let bytes = wire::encode(config.partner_id, body, config.legacy_envelope_fields)
            .map_err(|e| e.with_provider(PROVIDER).with_operation(method))?;
        let op = Operation::post(PROVIDER, method, config.endpoint(method))
            .header("content-type", "application/json; charset=utf-8")?
            .body(bytes)
            .idempotency(idempotency)
            .echo("partnerId", config.partner_id.to_string());
        let exchange = Exchange {
            auth: &self.inner.auth,
            success,
        };
        self.inner.http.execute(&echoes(op), &exchange).await
    }

    /// Decodes an accepted reply's `body`.
    fn decode<T: serde::de::DeserializeOwned>(
        method: &'static str,
        reply: &wire::Reply,
    ) -> Result<T, Error> {
        reply.body().map_err(|e| Self::refuse(method, e))
    }

    fn write_idempotency(&self, key: &str) -> Idempotency {
        if self.inner.config.retry_keyed_writes {
            Idempotency::Keyed(key.to_owned())
        } else {
            Idempotency::Unsafe
        }
    }

    fn refuse(method: &'static str, err: Error) -> Error {
        err.with_provider(PROVIDER).with_operation(method)
    }

    /// `getTeam` (拉取产品): a page of products, or products by id. Safe to retry.
    ///
    /// ```no_run
    /// # async fn run(client: tixpay_lianhe::Client) -> Result<(), tixpay_core::Error> {
    /// use tixpay_lianhe::GetTeam;
    /// let found = client.get_team(&GetTeam::by_ids(["852"]).simple(true)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_team(&self, request: &GetTeam) -> Result<ProductPage, Error> {
        const METHOD: &str = "getTeam";
        request.validate().map_err(|e| Self::refuse(METHOD, e))?;
        let reply = self
            .call(METHOD, request, Idempotency::Safe, &[CODE_SUCCESS], |op| op)
            .await?;
        let total_size = reply.head.total_size;
        let products: Option<Vec<Product>> = Self::decode(METHOD, &reply)?;
        Ok(ProductPage {
            total_size,
            partner_id: reply.head.partner(),
            products: products.unwrap_or_default(),
        })
    }

    /// `newOrder` (【推荐】新订单): create and pay an order in one call; the partner's
    /// balance at Lianhe is charged.
    ///
    /// Sent once: a timeout leaves the outcome unknown (see
    /// [`Config::retry_keyed_writes`](crate::Config::retry_keyed_writes)).
    ///
    /// ```no_run
    /// # async fn run(client: tixpay_lianhe::Client) -> Result<(), tixpay_core::Error> {
    /// use tixpay_lianhe::{Fen, NewOrder, Visitor};
    /// let receipt = client
    ///     .new_order(&NewOrder::new("T1", "852", Fen::new(10_000), 3, Visitor::new("张三", "13800000000")))
    ///     .await?;
    /// println!("Lianhe order {:?}, voucher {:?}", receipt.lh_order_id, receipt.voucher);
    /// # Ok(()) }
    /// ```
    pub async fn new_order(&self, order: &NewOrder) -> Result<OrderReceipt, Error> {
        const METHOD: &str = "newOrder";
        order.validate().map_err(|e| Self::refuse(METHOD, e))?;
        let idempotency = self.write_idempotency(&order.order_id);
        let reply = self
            .call(METHOD, order, idempotency, &[CODE_SUCCESS], |op| {
                op.echo_if_present("body.orderId", order.order_id.as_str())
            })
            .await?;
        let receipt: OrderReceipt = Self::decode(METHOD, &reply)?;
        Ok(OrderReceipt {
            partner_id: reply.head.partner(),
            ..receipt
        })
    }

    /// `creatOrder` (生成订单; the provider spells it without the `e`): create an order to
    /// pay later with [`Client::pay_order`].
    ///
    /// ```no_run
    /// # async fn run(client: tixpay_lianhe::Client) -> Result<(), tixpay_core::Error> {
    /// use tixpay_lianhe::{CreateOrder, Fen, PayOrder, Visitor};
    /// let order = CreateOrder::new("T2", "852", Fen::new(10_000), 1, Visitor::new("李四", "13900000000"));
    /// let created = client.create_order(&order).await?;
    /// let lh_order_id = created.lh_order_id.unwrap_or_default();
    /// let paid = client.pay_order(&PayOrder::new(&order, lh_order_id).pay_id("BANK-7781")).await?;
    /// println!("voucher {:?}", paid.voucher);
    /// # Ok(()) }
    /// ```
    pub async fn create_order(&self, order: &CreateOrder) -> Result<OrderReceipt, Error> {
        const METHOD: &str = "creatOrder";
        order.validate().map_err(|e| Self::refuse(METHOD, e))?;
        let idempotency = self.write_idempotency(&order.order_id);
        let reply = self
            .call(METHOD, order, idempotency, &[CODE_SUCCESS], |op| {
                op.echo_if_present("body.orderId", order.order_id.as_str())
            })
            .await?;
        let receipt: OrderReceipt = Self::decode(METHOD, &reply)?;
        Ok(OrderReceipt {
            partner_id: reply.head.partner(),
            ..receipt
        })
    }

    /// `payOrder` (支付订单): pay an order created with [`Client::create_order`].
    pub async fn pay_order(&self, order: &PayOrder) -> Result<OrderReceipt, Error> {
        const METHOD: &str = "payOrder";
        order.validate().map_err(|e| Self::refuse(METHOD, e))?;
        let idempotency = self.write_idempotency(&order.order_id);
        // "LHOrderId: 支付成功时必须返回, 失败时可不返回".
        let reply = self
            .call(METHOD, order, idempotency, &[CODE_SUCCESS], |op| {
                op.echo_in_answers("body.LHOrderId", order.lh_order_id.as_str())
                    .echo_if_present("body.orderId", order.order_id.as_str())
            })
            .await?;
        let receipt: OrderReceipt = Self::decode(METHOD, &reply)?;
        Ok(OrderReceipt {
            partner_id: reply.head.partner(),
            ..receipt
        })
    }

    /// `queryOrder` (查询订单). Success is `code` 10000 or 200 (the method's own examples use
    /// 200/300). Safe to retry.
    ///
    /// ```no_run
    /// # async fn run(client: tixpay_lianhe::Client) -> Result<(), tixpay_core::Error> {
    /// use tixpay_lianhe::QueryOrder;
    /// let info = client.query_order(&QueryOrder::new("T1", "15354")).await?;
    /// println!("used {:?}, refunded {:?}", info.used_quantity, info.refunded_quantity);
    /// # Ok(()) }
    /// ```
    pub async fn query_order(&self, query: &QueryOrder) -> Result<OrderInfo, Error> {
        const METHOD: &str = "queryOrder";
        query.validate().map_err(|e| Self::refuse(METHOD, e))?;
        let reply = self
            .call(
                METHOD,
                query,
                Idempotency::Safe,
                &[CODE_SUCCESS, CODE_QUERY_SUCCESS],
                |op| {
                    op.echo_in_answers("body.LHOrderId", query.lh_order_id.as_str())
                        .echo_if_present("body.orderId", query.order_id.as_str())
                },
            )
            .await?;
        let info: OrderInfo = Self::decode(METHOD, &reply)?;
        Ok(OrderInfo {
            partner_id: reply.head.partner(),
            ..info
        })
    }

    /// `cancelOrder` (取消订单): ask for a refund, which Lianhe audits by hand.
    ///
    /// A refusal by Lianhe's validity check is not an `Err` but
    /// [`CancelOutcome::Refused`], carrying the refundable quantity and Lianhe's statuses so
    /// the request can be corrected. Sent once unless
    /// [`Config::retry_keyed_writes`](crate::Config::retry_keyed_writes) is on.
    ///
    /// ```no_run
    /// # async fn run(client: tixpay_lianhe::Client) -> Result<(), tixpay_core::Error> {
    /// use tixpay_lianhe::{CancelOrder, CancelOutcome};
    /// match client.cancel_order(&CancelOrder::new("T1", "15354", 3)).await? {
    ///     CancelOutcome::Accepted(_) => println!("waiting for Lianhe's audit"),
    ///     CancelOutcome::Refused(r) => println!("refused; refundable now: {:?}", r.refundable_quantity),
    ///     _ => {}
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn cancel_order(&self, cancel: &CancelOrder) -> Result<CancelOutcome, Error> {
        const METHOD: &str = "cancelOrder";
        cancel.validate().map_err(|e| Self::refuse(METHOD, e))?;
        let idempotency = self.write_idempotency(cancel.refund_key());
        let result = self
            .call(METHOD, cancel, idempotency, &[CODE_SUCCESS], |op| {
                op.echo_in_answers("body.LHOrderId", cancel.lh_order_id.as_str())
                    .echo_if_present("body.orderId", cancel.order_id.as_str())
            })
            .await;
        match result {
            Ok(reply) => Self::decode(METHOD, &reply).map(|accepted: CancelAccepted| {
                CancelOutcome::Accepted(CancelAccepted {
                    partner_id: reply.head.partner(),
                    ..accepted
                })
            }),
            // A refusal that settles the outcome, with Lianhe's view of the order, is a
            // typed answer; one that does not (after a resend) stays an error.
            Err(e) if !e.is_outcome_unknown() => match refusal(&e) {
                Some(refused) => Ok(CancelOutcome::Refused(refused)),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// `send` (重发短信凭证): send the voucher SMS again. Resending repeats the same
    /// voucher, so it is treated as safe to retry.
    ///
    /// ```no_run
    /// # async fn run(client: tixpay_lianhe::Client) -> Result<(), tixpay_core::Error> {
    /// use tixpay_lianhe::ResendVoucher;
    /// let voucher = client.resend_voucher(&ResendVoucher::new("T1", "15354")).await?;
    /// println!("{:?} {:?}", voucher.voucher_type, voucher.voucher);
    /// # Ok(()) }
    /// ```
    pub async fn resend_voucher(&self, request: &ResendVoucher) -> Result<Voucher, Error> {
        const METHOD: &str = "send";
        request.validate().map_err(|e| Self::refuse(METHOD, e))?;
        let reply = self
            .call(METHOD, request, Idempotency::Safe, &[CODE_SUCCESS], |op| {
                op.echo_if_present("body.orderId", request.order_id.as_str())
            })
            .await?;
        let voucher: Voucher = Self::decode(METHOD, &reply)?;
        Ok(Voucher {
            partner_id: reply.head.partner(),
            ..voucher
        })
    }
}

/// A refusal carries Lianhe's view of the order in `body`; a reply without one (a signature
/// error, say) is an ordinary provider error.
fn refusal(err: &Error) -> Option<CancelRefused> {
    let api = err.as_api()?;
    let reply = wire::parse(&http::Response::new(api.body.clone())).ok()?;
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(
            rename = "LHOrderId",
            default,
            deserialize_with = "crate::types::lenient::opt_string"
        )]
        lh_order_id: Option<String>,
        #[serde(rename = "orderStatus", default)]
        order_status: Option<OrderStatus>,
        #[serde(
            rename = "reQuantity",
            default,
            deserialize_with = "crate::types::lenient::opt_i64"
        )]
        refundable_quantity: Option<i64>,
        #[serde(rename = "reStatus", default)]
        refund_status: Option<RefundStatus>,
    }
    let code = reply.head.code.number()?;
    let body: Body = reply.body().ok()?;
    let reply = &reply;
    if body.order_status.is_none()
        && body.refundable_quantity.is_none()
        && body.refund_status.is_none()
    {
        return None;
    }
    Some(CancelRefused {
        code,
        describe: reply.head.describe.clone().unwrap_or_default(),
        partner_id: reply.head.partner(),
        lh_order_id: body.lh_order_id,
        order_status: body.order_status,
        refundable_quantity: body.refundable_quantity,
        refund_status: body.refund_status,
        body: reply.raw.clone(),
    })
}
