//! [`PartnerClient`]: partner (服务商) mode, `/v3/payscore/partner/…` (spec part 2 §3).
//!
//! The service provider is the merchant of the [`Config`]: its `mchid` goes in every
//! `Authorization` header and its API key signs. The provider's `appid` is held by the
//! partner client and added where a schema has it; the sub-merchant (`sub_mchid`, and
//! `sub_appid` / `sub_openid` where they apply) is named per call.
//!
//! Every reply is verified by the same [`Exchange`](crate::auth::Exchange) as direct mode,
//! through the same [`Client`] (HTTP machinery, platform keys, certificate refresh).

use serde::Serialize;
use tixpay_core::{Error, HttpClient, Idempotency, Operation, SignatureSubject, validate};

use crate::client::{Client, OrderRef};
use crate::config::Config;
use crate::types::{
    ApplyForScene, Authorization, PartnerAssessUserRiskLevel, PartnerCancelServiceOrder,
    PartnerCompleteServiceOrder, PartnerCreateServiceOrder, PartnerDirectComplete,
    PartnerModifyServiceOrder, PartnerPaymentMessage, PartnerPermissionsRequest, PartnerServiceRef,
    PartnerSyncServiceOrder, PartnerTerminateAuthorization, PartnerUser, PermissionsToken,
    SceneToken, ServiceAccountApplication, ServiceAccountApplicationState, ServiceOrder,
    ServiceQuotas,
};
use crate::wire::{Decoded, check_segment, context, encode};

/// A PayScore client in partner (服务商) mode: the service provider acting for its
/// sub-merchants. Cheap to clone; it shares the [`Client`] it was made from (HTTP
/// machinery, platform keys, certificate refresh).
///
/// ```no_run
/// use tixpay_wechat_payscore::{Client, Config, PartnerCancelServiceOrder};
/// # async fn run(config: Config) -> Result<(), tixpay_core::Error> {
/// // The Config is the provider's: its mchid, API key and certificate serial.
/// let partner = Client::new(config)?.partner("wx8888888888888888");
/// let cancel = PartnerCancelServiceOrder::new("1900000109", "500001", "用户投诉");
/// partner.cancel_service_order("1234323JKHDFE1243252", &cancel).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PartnerClient {
    client: Client,
    sp_appid: String,
}

/// A body of a schema that has `appid`: the provider's, added before the request's fields.
#[derive(Serialize)]
struct WithAppid<'a, T: Serialize> {
    appid: &'a str,
    #[serde(flatten)]
    body: &'a T,
}

impl Client {
    /// Partner (服务商) mode for this client's merchant, the service provider, with its
    /// `appid` `sp_appid`. Shares this client's HTTP machinery and platform keys.
    ///
    /// ```no_run
    /// # fn run(client: tixpay_wechat_payscore::Client) {
    /// let partner = client.partner("wx8888888888888888");
    /// assert_eq!(partner.sp_appid(), "wx8888888888888888");
    /// # }
    /// ```
    pub fn partner(&self, sp_appid: impl Into<String>) -> PartnerClient {
        PartnerClient {
            client: self.clone(),
            sp_appid: sp_appid.into(),
        }
    }
}

impl PartnerClient {
    /// A partner client with the default HTTP machinery; `config` is the service
    /// provider's (its `mchid`, API key and serial), `sp_appid` its `appid`.
    ///
    /// ```no_run
    /// # fn run(config: tixpay_wechat_payscore::Config) -> Result<(), tixpay_core::Error> {
    /// let partner = tixpay_wechat_payscore::PartnerClient::new(config, "wx8888888888888888")?;
    /// # Ok(()) }
    /// ```
    pub fn new(config: Config, sp_appid: impl Into<String>) -> Result<Self, Error> {
        Ok(Client::new(config)?.partner(sp_appid))
    }

    /// A partner client sending through `http`.
    pub fn with_http_client(config: Config, http: HttpClient, sp_appid: impl Into<String>) -> Self {
        Client::with_http_client(config, http).partner(sp_appid)
    }

    /// The direct-mode client underneath (certificates, notifications, direct calls).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The service provider's `mchid` (`sp_mchid`).
    pub fn sp_mchid(&self) -> &str {
        &self.client.config().mchid
    }

    /// The service provider's `appid` (`sp_appid`).
    pub fn sp_appid(&self) -> &str {
        &self.sp_appid
    }

    fn with_appid<'a, T: Serialize>(&'a self, body: &'a T) -> WithAppid<'a, T> {
        WithAppid {
            appid: &self.sp_appid,
            body,
        }
    }

    /// A write whose documented reply is `204 No Content`. The reply is verified like any
    /// other (an empty body included); if it has a body anyway, the ids it carries must be
    /// the ones sent, and an error object there is not a success (the status code is
    /// outside the signature).
    async fn no_content<B: Serialize>(
        &self,
        name: &'static str,
        path: &str,
        body: &B,
        idempotency: Idempotency,
        echoes: impl FnOnce(Operation) -> Operation,
    ) -> Result<(), Error> {
        let reply: Decoded<serde_json::Value> = self
            .client
            .post(name, path, body, idempotency, echoes)
            .await?;
        match reply.body {
            Some(body) if body.get("code").is_some() => Err(context(name)(Error::signature(
                SignatureSubject::Response,
                "a 2xx reply whose body is an error object: the status code is outside the signature",
            ))),
            _ => Ok(()),
        }
    }

    /// `POST /v3/payscore/partner/serviceorder/{out_order_no}/{action}` → 204, keyed by
    /// `out_order_no` as in direct mode. A body, if any, is bound to the ids sent.
    async fn order_action<B: Serialize>(
        &self,
        name: &'static str,
        out_order_no: &str,
        action: &str,
        body: &B,
        service_id: &str,
        sub_mchid: &str,
    ) -> Result<(), Error> {
        Client::check_out_order_no(name, out_order_no)?;
        let path = format!(
            "/v3/payscore/partner/serviceorder/{}/{action}",
            encode(out_order_no)
        );
        let mchid = self.sp_mchid().to_owned();
        self.no_content(
            name,
            &path,
            body,
            Idempotency::Keyed(out_order_no.to_owned()),
            |op| {
                op.echo_if_present("out_order_no", out_order_no)
                    .echo_if_present("service_id", service_id)
                    .echo_if_present("sub_mchid", sub_mchid)
                    .echo_if_present("mchid", mchid)
            },
        )
        .await
    }

    /// `POST /v3/payscore/partner/serviceorder`: create a sub-merchant's service order.
    /// Keyed by `out_order_no` (same parameters, same order), as in direct mode. The reply
    /// must echo `out_order_no`, `service_id`, the provider's `appid` and `mchid`, and
    /// `sub_mchid`.
    ///
    /// ```no_run
    /// # async fn run(partner: tixpay_wechat_payscore::PartnerClient) -> Result<(), tixpay_core::Error> {
    /// use tixpay_wechat_payscore::*;
    /// let order = PartnerCreateServiceOrder::new(
    ///     "RENT-1001", "1900000109", "500001", "景区电瓶车租借",
    ///     TimeRange::starting(TimePoint::OnAccept),
    ///     RiskFund::new(RiskFundName::Deposit, Fen::new(20_000)),
    ///     "https://reseller.example/notify/wechat-payscore",
    /// )
    /// .post_payment(PostPayment::new("租车费", Fen::new(3_000)));
    /// let created = partner.create_service_order(&order).await?;
    /// println!("confirm with package {:?}", created.package);
    /// # Ok(()) }
    /// ```
    pub async fn create_service_order(
        &self,
        order: &PartnerCreateServiceOrder,
    ) -> Result<ServiceOrder, Error> {
        const NAME: &str = "POST /v3/payscore/partner/serviceorder";
        order.validate().map_err(context(NAME))?;
        let mchid = self.sp_mchid().to_owned();
        self.client
            .json_call(
                NAME,
                "/v3/payscore/partner/serviceorder",
                &self.with_appid(order),
                Idempotency::Keyed(order.out_order_no.clone()),
                |op| {
                    op.echo("out_order_no", order.out_order_no.as_str())
                        .echo("service_id", order.service_id.as_str())
                        .echo("appid", self.sp_appid.as_str())
                        .echo("mchid", mchid)
                        .echo("sub_mchid", order.sub_mchid.as_str())
                },
            )
            .await
    }

    /// `GET /v3/payscore/partner/serviceorder?service_id&sub_mchid&out_order_no|query_id`
    /// (no `appid`). The reply must echo `service_id`, the provider's `mchid` and (by
    /// `out_order_no`) `out_order_no`; `sub_mchid` is compared when present (the schema
    /// does not mark it always returned).
    ///
    /// ```no_run
    /// # async fn run(partner: tixpay_wechat_payscore::PartnerClient) -> Result<(), tixpay_core::Error> {
    /// use tixpay_wechat_payscore::OrderRef;
    /// let order = partner
    ///     .query_service_order(&OrderRef::OutOrderNo("RENT-1001".into()), "1900000109", "500001")
    ///     .await?;
    /// println!("{:?} for {:?}", order.state, order.sub_mchid);
    /// # Ok(()) }
    /// ```
    pub async fn query_service_order(
        &self,
        order: &OrderRef,
        sub_mchid: &str,
        service_id: &str,
    ) -> Result<ServiceOrder, Error> {
        const NAME: &str = "GET /v3/payscore/partner/serviceorder";
        let (key, value, max) = match order {
            OrderRef::OutOrderNo(v) => ("out_order_no", v, 32),
            OrderRef::QueryId(v) => ("query_id", v, 512),
        };
        validate::required(key, value, max)
            .and_then(|()| validate::required("sub_mchid", sub_mchid, 32))
            .and_then(|()| validate::required("service_id", service_id, 32))
            .map_err(context(NAME))?;
        let path = format!(
            "/v3/payscore/partner/serviceorder?service_id={}&sub_mchid={}&{key}={}",
            encode(service_id),
            encode(sub_mchid),
            encode(value)
        );
        let mchid = self.sp_mchid().to_owned();
        self.client
            .get(NAME, &path, |op| {
                let op = op
                    .echo("service_id", service_id)
                    .echo("mchid", mchid)
                    .echo_if_present("sub_mchid", sub_mchid);
                match order {
                    OrderRef::OutOrderNo(no) => op.echo("out_order_no", no.as_str()),
                    OrderRef::QueryId(_) => op,
                }
            })
            .await
    }

    /// `POST …/partner/serviceorder/{out_order_no}/cancel` → 204. Keyed by `out_order_no`
    /// as in direct mode: persist the reason, a resend repeats every parameter.
    pub async fn cancel_service_order(
        &self,
        out_order_no: &str,
        cancel: &PartnerCancelServiceOrder,
    ) -> Result<(), Error> {
        const NAME: &str = "POST /v3/payscore/partner/serviceorder/{out_order_no}/cancel";
        cancel.validate().map_err(context(NAME))?;
        self.order_action(
            NAME,
            out_order_no,
            "cancel",
            cancel,
            &cancel.service_id,
            &cancel.sub_mchid,
        )
        .await
    }

    /// `POST …/partner/serviceorder/{out_order_no}/modify` → 204: lower the amount of a
    /// completed, unpaid order.
    pub async fn modify_service_order(
        &self,
        out_order_no: &str,
        modify: &PartnerModifyServiceOrder,
    ) -> Result<(), Error> {
        const NAME: &str = "POST /v3/payscore/partner/serviceorder/{out_order_no}/modify";
        modify.validate().map_err(context(NAME))?;
        self.order_action(
            NAME,
            out_order_no,
            "modify",
            modify,
            &modify.service_id,
            &modify.sub_mchid,
        )
        .await
    }

    /// `POST …/partner/serviceorder/{out_order_no}/complete` → 204: end the service and
    /// charge `total_amount = Σ payments − Σ discounts` (checked before sending). Query the
    /// order for the collection.
    ///
    /// ```no_run
    /// # async fn run(partner: tixpay_wechat_payscore::PartnerClient) -> Result<(), tixpay_core::Error> {
    /// use tixpay_wechat_payscore::{Fen, PartnerCompleteServiceOrder, PostPayment};
    /// let complete = PartnerCompleteServiceOrder::new("1900000109", "500001", Fen::new(3_000))
    ///     .post_payment(PostPayment::new("租车费", Fen::new(3_000)));
    /// partner.complete_service_order("RENT-1001", &complete).await?;
    /// # Ok(()) }
    /// ```
    pub async fn complete_service_order(
        &self,
        out_order_no: &str,
        complete: &PartnerCompleteServiceOrder,
    ) -> Result<(), Error> {
        const NAME: &str = "POST /v3/payscore/partner/serviceorder/{out_order_no}/complete";
        complete.validate().map_err(context(NAME))?;
        self.order_action(
            NAME,
            out_order_no,
            "complete",
            complete,
            &complete.service_id,
            &complete.sub_mchid,
        )
        .await
    }

    /// `POST …/partner/serviceorder/{out_order_no}/pay` → 204: ask WeChat Pay to collect
    /// now. The body is `service_id` and `sub_mchid` (no `appid`).
    pub async fn pay_service_order(
        &self,
        out_order_no: &str,
        sub_mchid: &str,
        service_id: &str,
    ) -> Result<(), Error> {
        const NAME: &str = "POST /v3/payscore/partner/serviceorder/{out_order_no}/pay";
        validate::required("service_id", service_id, 32)
            .and_then(|()| validate::required("sub_mchid", sub_mchid, 32))
            .map_err(context(NAME))?;
        self.order_action(
            NAME,
            out_order_no,
            "pay",
            &PartnerServiceRef {
                service_id,
                sub_mchid,
            },
            service_id,
            sub_mchid,
        )
        .await
    }

    /// `POST …/partner/serviceorder/{out_order_no}/sync` → 204: the user paid by another
    /// channel.
    pub async fn sync_service_order(
        &self,
        out_order_no: &str,
        sync: &PartnerSyncServiceOrder,
    ) -> Result<(), Error> {
        const NAME: &str = "POST /v3/payscore/partner/serviceorder/{out_order_no}/sync";
        sync.validate().map_err(context(NAME))?;
        self.order_action(
            NAME,
            out_order_no,
            "sync",
            sync,
            &sync.service_id,
            &sync.sub_mchid,
        )
        .await
    }

    /// `POST /v3/payscore/partner/serviceorder/direct-complete` → 204: create and complete
    /// at once (免确认模式). Keyed by `out_order_no` as in direct mode.
    pub async fn direct_complete(&self, order: &PartnerDirectComplete) -> Result<(), Error> {
        const NAME: &str = "POST /v3/payscore/partner/serviceorder/direct-complete";
        order.validate().map_err(context(NAME))?;
        let mchid = self.sp_mchid().to_owned();
        self.no_content(
            NAME,
            "/v3/payscore/partner/serviceorder/direct-complete",
            &self.with_appid(order),
            Idempotency::Keyed(order.out_order_no.clone()),
            |op| {
                op.echo_if_present("out_order_no", order.out_order_no.as_str())
                    .echo_if_present("service_id", order.service_id.as_str())
                    .echo_if_present("sub_mchid", order.sub_mchid.as_str())
                    .echo_if_present("appid", self.sp_appid.as_str())
                    .echo_if_present("mchid", mchid)
            },
        )
        .await
    }

    /// `POST …/partner/serviceorder/{out_order_no}/send-pendingmessage` → 204. Once per
    /// order.
    pub async fn send_pending_message(
        &self,
        out_order_no: &str,
        message: &PartnerPaymentMessage,
    ) -> Result<(), Error> {
        const NAME: &str =
            "POST /v3/payscore/partner/serviceorder/{out_order_no}/send-pendingmessage";
        message.validate().map_err(context(NAME))?;
        self.order_action(
            NAME,
            out_order_no,
            "send-pendingmessage",
            message,
            &message.service_id,
            &message.sub_mchid,
        )
        .await
    }

    /// `POST …/partner/serviceorder/{out_order_no}/send-prepaidmessage` → 204. Once per
    /// order.
    pub async fn send_prepaid_message(
        &self,
        out_order_no: &str,
        message: &PartnerPaymentMessage,
    ) -> Result<(), Error> {
        const NAME: &str =
            "POST /v3/payscore/partner/serviceorder/{out_order_no}/send-prepaidmessage";
        message.validate().map_err(context(NAME))?;
        self.order_action(
            NAME,
            out_order_no,
            "send-prepaidmessage",
            message,
            &message.service_id,
            &message.sub_mchid,
        )
        .await
    }

    /// `POST /v3/payscore/partner/permissions`: pre-authorization; returns the token for the
    /// front end's `wxpayScoreEnable` ([`crate::invoke::enable_service`]). Sent once, as in
    /// direct mode.
    ///
    /// ```no_run
    /// # async fn run(partner: tixpay_wechat_payscore::PartnerClient) -> Result<(), tixpay_core::Error> {
    /// use tixpay_wechat_payscore::{PartnerPermissionsRequest, invoke};
    /// let token = partner
    ///     .apply_permissions(&PartnerPermissionsRequest::new("1900000109", "500001", "AUTH-1"))
    ///     .await?;
    /// let enable = invoke::enable_service(&token.apply_permissions_token)?;
    /// println!("queryString: {}", enable.query_string());
    /// # Ok(()) }
    /// ```
    pub async fn apply_permissions(
        &self,
        request: &PartnerPermissionsRequest,
    ) -> Result<PermissionsToken, Error> {
        const NAME: &str = "POST /v3/payscore/partner/permissions";
        request.validate().map_err(context(NAME))?;
        // The reply is a token alone: it echoes nothing to bind it by.
        self.client
            .json_call(
                NAME,
                "/v3/payscore/partner/permissions",
                &self.with_appid(request),
                Idempotency::Unsafe,
                |op| op,
            )
            .await
    }

    /// `POST /v3/payscore/partner/permissions/apply-for-scene` (partner only): a
    /// pre-authorization in a scene. Its idempotency is not documented: sent once. The reply
    /// must echo `scene`.
    pub async fn apply_for_scene(&self, request: &ApplyForScene) -> Result<SceneToken, Error> {
        const NAME: &str = "POST /v3/payscore/partner/permissions/apply-for-scene";
        request.validate().map_err(context(NAME))?;
        self.client
            .json_call(
                NAME,
                "/v3/payscore/partner/permissions/apply-for-scene",
                &self.with_appid(request),
                Idempotency::Unsafe,
                |op| op.echo("scene", request.scene.as_str()),
            )
            .await
    }

    /// `GET /v3/payscore/partner/permissions/authorization-code/{code}?service_id&sub_mchid`.
    /// The reply must echo `authorization_code`, `service_id`, the provider's `mchid` and
    /// `sub_mchid`.
    pub async fn query_authorization_by_code(
        &self,
        authorization_code: &str,
        sub_mchid: &str,
        service_id: &str,
    ) -> Result<Authorization, Error> {
        const NAME: &str =
            "GET /v3/payscore/partner/permissions/authorization-code/{authorization_code}";
        check_code(authorization_code)
            .and_then(|()| validate::required("sub_mchid", sub_mchid, 32))
            .and_then(|()| validate::required("service_id", service_id, 32))
            .map_err(context(NAME))?;
        let path = format!(
            "/v3/payscore/partner/permissions/authorization-code/{}?service_id={}&sub_mchid={}",
            encode(authorization_code),
            encode(service_id),
            encode(sub_mchid)
        );
        let mchid = self.sp_mchid().to_owned();
        self.client
            .get(NAME, &path, |op| {
                op.echo("authorization_code", authorization_code)
                    .echo("service_id", service_id)
                    .echo("mchid", mchid)
                    .echo("sub_mchid", sub_mchid)
            })
            .await
    }

    /// `POST …/partner/permissions/authorization-code/{code}/terminate` → 204. Sent once,
    /// as in direct mode.
    pub async fn terminate_authorization_by_code(
        &self,
        authorization_code: &str,
        sub_mchid: &str,
        service_id: &str,
        reason: &str,
    ) -> Result<(), Error> {
        const NAME: &str = "POST /v3/payscore/partner/permissions/authorization-code/{authorization_code}/terminate";
        check_code(authorization_code)
            .and_then(|()| validate::required("sub_mchid", sub_mchid, 32))
            .and_then(|()| validate::required("service_id", service_id, 32))
            .and_then(|()| validate::required("reason", reason, 50))
            .map_err(context(NAME))?;
        let path = format!(
            "/v3/payscore/partner/permissions/authorization-code/{}/terminate",
            encode(authorization_code)
        );
        let body = TerminateByCode {
            service_id,
            sub_mchid,
            reason,
        };
        let mchid = self.sp_mchid().to_owned();
        self.no_content(NAME, &path, &body, Idempotency::Unsafe, |op| {
            op.echo_if_present("authorization_code", authorization_code)
                .echo_if_present("service_id", service_id)
                .echo_if_present("sub_mchid", sub_mchid)
                .echo_if_present("mchid", mchid)
        })
        .await
    }

    /// `GET /v3/payscore/partner/permissions/search?service_id&appid&sub_mchid&sub_appid&openid|sub_openid`:
    /// a user's authorization (partner mode's query by openid). The reply must echo
    /// `service_id`, the provider's `appid` and `mchid`, and `sub_mchid`; the user's id is
    /// compared when present.
    ///
    /// ```no_run
    /// # async fn run(partner: tixpay_wechat_payscore::PartnerClient) -> Result<(), tixpay_core::Error> {
    /// use tixpay_wechat_payscore::PartnerUser;
    /// let user = PartnerUser::SubOpenId("oSubUser".into());
    /// let auth = partner
    ///     .query_authorization_by_user(&user, "1900000109", "500001", Some("wxd678efh567hg6999"))
    ///     .await?;
    /// println!("{:?}", auth.authorization_state);
    /// # Ok(()) }
    /// ```
    pub async fn query_authorization_by_user(
        &self,
        user: &PartnerUser,
        sub_mchid: &str,
        service_id: &str,
        sub_appid: Option<&str>,
    ) -> Result<Authorization, Error> {
        const NAME: &str = "GET /v3/payscore/partner/permissions/search";
        user.validate()
            .and_then(|()| validate::required("sub_mchid", sub_mchid, 32))
            .and_then(|()| validate::required("service_id", service_id, 32))
            .and_then(|()| validate::optional("sub_appid", sub_appid, 32))
            .map_err(context(NAME))?;
        let (field, value) = user.field();
        let mut path = format!(
            "/v3/payscore/partner/permissions/search?service_id={}&appid={}&sub_mchid={}",
            encode(service_id),
            encode(&self.sp_appid),
            encode(sub_mchid)
        );
        if let Some(sub_appid) = sub_appid {
            path.push_str(&format!("&sub_appid={}", encode(sub_appid)));
        }
        path.push_str(&format!("&{field}={}", encode(value)));
        let mchid = self.sp_mchid().to_owned();
        self.client
            .get(NAME, &path, |op| {
                op.echo("service_id", service_id)
                    .echo("appid", self.sp_appid.as_str())
                    .echo("mchid", mchid)
                    .echo("sub_mchid", sub_mchid)
                    .echo_if_present(field, value)
            })
            .await
    }

    /// `POST /v3/payscore/partner/permissions/terminate` → 204: end a user's authorization
    /// (partner mode's terminate by openid). Sent once, as in direct mode.
    pub async fn terminate_authorization_by_user(
        &self,
        request: &PartnerTerminateAuthorization,
    ) -> Result<(), Error> {
        const NAME: &str = "POST /v3/payscore/partner/permissions/terminate";
        request.validate().map_err(context(NAME))?;
        let (field, value) = request.user.field();
        let mchid = self.sp_mchid().to_owned();
        self.no_content(
            NAME,
            "/v3/payscore/partner/permissions/terminate",
            &self.with_appid(request),
            Idempotency::Unsafe,
            |op| {
                op.echo_if_present(field, value)
                    .echo_if_present("service_id", request.service_id.as_str())
                    .echo_if_present("sub_mchid", request.sub_mchid.as_str())
                    .echo_if_present("appid", self.sp_appid.as_str())
                    .echo_if_present("mchid", mchid)
            },
        )
        .await
    }

    /// `POST /v3/payscore/partner/permissions/assess-user-risk-level?sub_mchid=…`:
    /// `sub_mchid` in the query string. A read: safe to retry, as in direct mode. The reply
    /// must echo `service_id` and the provider's `appid` and `mchid`; `sub_mchid` and the
    /// user's ids are compared when present.
    pub async fn assess_user_risk_level(
        &self,
        request: &PartnerAssessUserRiskLevel,
    ) -> Result<Authorization, Error> {
        const NAME: &str = "POST /v3/payscore/partner/permissions/assess-user-risk-level";
        request.validate().map_err(context(NAME))?;
        let path = format!(
            "/v3/payscore/partner/permissions/assess-user-risk-level?sub_mchid={}",
            encode(&request.sub_mchid)
        );
        let mchid = self.sp_mchid().to_owned();
        self.client
            .json_call(
                NAME,
                &path,
                &self.with_appid(request),
                Idempotency::Safe,
                |op| {
                    let mut op = op
                        .echo("service_id", request.service_id.as_str())
                        .echo("appid", self.sp_appid.as_str())
                        .echo("mchid", mchid)
                        .echo_if_present("sub_mchid", request.sub_mchid.as_str());
                    if let Some(code) = &request.authorization_code {
                        op = op.echo_if_present("authorization_code", code.as_str());
                    }
                    if let Some(openid) = &request.openid {
                        op = op.echo_if_present("openid", openid.as_str());
                    }
                    if let Some(sub_openid) = &request.sub_openid {
                        op = op.echo_if_present("sub_openid", sub_openid.as_str());
                    }
                    op
                },
            )
            .await
    }

    /// `GET /v3/payscore/partner/servicequotas/service-id/{service_id}?sub_mchid&appid&sub_appid&risk_level_version`
    /// (partner only): the suggested 先享 amount per user tier. The reply must echo
    /// `service_id`, the provider's `mchid` and `appid`, and `sub_mchid`.
    pub async fn service_quotas(
        &self,
        service_id: &str,
        sub_mchid: &str,
        risk_level_version: i64,
        sub_appid: Option<&str>,
    ) -> Result<ServiceQuotas, Error> {
        const NAME: &str = "GET /v3/payscore/partner/servicequotas/service-id/{service_id}";
        validate::required("service_id", service_id, 32)
            .and_then(|()| check_segment("service_id", service_id))
            .and_then(|()| validate::required("sub_mchid", sub_mchid, 32))
            .and_then(|()| validate::optional("sub_appid", sub_appid, 32))
            .map_err(context(NAME))?;
        let mut path = format!(
            "/v3/payscore/partner/servicequotas/service-id/{}?sub_mchid={}&appid={}",
            encode(service_id),
            encode(sub_mchid),
            encode(&self.sp_appid)
        );
        if let Some(sub_appid) = sub_appid {
            path.push_str(&format!("&sub_appid={}", encode(sub_appid)));
        }
        path.push_str(&format!("&risk_level_version={risk_level_version}"));
        let mchid = self.sp_mchid().to_owned();
        self.client
            .get(NAME, &path, |op| {
                op.echo("service_id", service_id)
                    .echo("mchid", mchid)
                    .echo("sub_mchid", sub_mchid)
                    .echo("appid", self.sp_appid.as_str())
            })
            .await
    }

    /// `POST /v3/payscore/partner/service-account-applications` (partner only): a 收付通
    /// sub-merchant applies to bind to a service. The documents do not say that
    /// `out_apply_no` is de-duplicated: sent once. The reply must echo `out_apply_no`,
    /// `service_id`, the provider's `appid` and `mchid`, and `sub_mchid`.
    pub async fn apply_service_account(
        &self,
        application: &ServiceAccountApplication,
    ) -> Result<ServiceAccountApplicationState, Error> {
        const NAME: &str = "POST /v3/payscore/partner/service-account-applications";
        application.validate().map_err(context(NAME))?;
        let mchid = self.sp_mchid().to_owned();
        self.client
            .json_call(
                NAME,
                "/v3/payscore/partner/service-account-applications",
                &self.with_appid(application),
                Idempotency::Unsafe,
                |op| {
                    op.echo("out_apply_no", application.out_apply_no.as_str())
                        .echo("service_id", application.service_id.as_str())
                        .echo("appid", self.sp_appid.as_str())
                        .echo("mchid", mchid)
                        .echo("sub_mchid", application.sub_mchid.as_str())
                },
            )
            .await
    }

    /// `GET /v3/payscore/partner/service-account-applications/{out_apply_no}` (partner
    /// only). The reply must echo `out_apply_no` and the provider's `mchid`.
    pub async fn query_service_account_application(
        &self,
        out_apply_no: &str,
    ) -> Result<ServiceAccountApplicationState, Error> {
        const NAME: &str = "GET /v3/payscore/partner/service-account-applications/{out_apply_no}";
        validate::required("out_apply_no", out_apply_no, 64)
            .and_then(|()| check_segment("out_apply_no", out_apply_no))
            .map_err(context(NAME))?;
        let path = format!(
            "/v3/payscore/partner/service-account-applications/{}",
            encode(out_apply_no)
        );
        let mchid = self.sp_mchid().to_owned();
        self.client
            .get(NAME, &path, |op| {
                op.echo("out_apply_no", out_apply_no).echo("mchid", mchid)
            })
            .await
    }
}

fn check_code(authorization_code: &str) -> Result<(), Error> {
    validate::required("authorization_code", authorization_code, 64)
        .and_then(|()| check_segment("authorization_code", authorization_code))
}

#[derive(Serialize)]
struct TerminateByCode<'a> {
    service_id: &'a str,
    sub_mchid: &'a str,
    reason: &'a str,
}
