//! `getTeam` (拉取产品): the request and the product it returns.

use serde::{Deserialize, Serialize};

use tixpay_core::Fen;
use tixpay_core::money::yuan_json;

use super::common::lenient;

/// 产品类型 `teamType`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TeamType {
    /// `normal` (the default).
    #[default]
    Normal,
    /// `subscribe`: a booked product; orders must give `travelDate`.
    Subscribe,
    /// A value the documents do not list, kept as sent.
    Unknown(String),
}

impl TeamType {
    /// The value on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Normal => "normal",
            Self::Subscribe => "subscribe",
            Self::Unknown(s) => s,
        }
    }
}

impl From<&str> for TeamType {
    fn from(s: &str) -> Self {
        match s {
            "normal" | "" => Self::Normal,
            "subscribe" => Self::Subscribe,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

impl Serialize for TeamType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TeamType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        Ok(s.as_deref().map(Self::from).unwrap_or_default())
    }
}

/// A product (团购/门票) as `getTeam` returns it.
///
/// Fields after `canRefund` are cut off in every public copy of the documents; the ones the
/// change log names are typed where their shape is clear and kept as raw JSON where it is
/// not. Anything else the server sends is kept in [`Product::extra`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct Product {
    /// `partnerId`.
    #[serde(
        rename = "partnerId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub partner_id: Option<i64>,
    /// `LHSupplierId` 供应商ID.
    #[serde(
        rename = "LHSupplierId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub supplier_id: Option<String>,
    /// `LHDealId` 产品ID: what orders refer to.
    #[serde(rename = "LHDealId", deserialize_with = "lenient::string")]
    pub deal_id: String,
    /// `teamType` 产品类型 (V2.1).
    #[serde(rename = "teamType", default)]
    pub team_type: TeamType,
    /// `name`.
    #[serde(default)]
    pub name: String,
    /// `pics`: picture URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pics: Vec<String>,
    /// `startTime`, as sent. Whether it is the 验票开始时间 of the V2.1 change log is not
    /// confirmed.
    #[serde(
        rename = "startTime",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub start_time: Option<String>,
    /// `endTime`, as sent (possibly 验票结束时间, unconfirmed).
    #[serde(
        rename = "endTime",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub end_time: Option<String>,
    /// `beginTime` 产品有效期开始时间, `yyyy-MM-dd HH:mm:ss` (V2.1).
    #[serde(
        rename = "beginTime",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub begin_time: Option<String>,
    /// `expireTime` 产品有效期结束时间, `yyyy-MM-dd HH:mm:ss` (V2.1).
    #[serde(
        rename = "expireTime",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub expire_time: Option<String>,
    /// `marketPrice` 市场价 (元).
    #[serde(
        rename = "marketPrice",
        with = "yuan_json::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub market_price: Option<Fen>,
    /// `sellPrice` 售价 (元): what orders must send as `sellPrice`.
    #[serde(
        rename = "sellPrice",
        with = "yuan_json::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sell_price: Option<Fen>,
    /// `buyPrice` 结算价 (元).
    #[serde(
        rename = "buyPrice",
        with = "yuan_json::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub buy_price: Option<Fen>,
    /// `stock` 库存.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub stock: Option<i64>,
    /// `allowday`, as sent; undocumented (perhaps days of advance booking).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub allowday: Option<i64>,
    /// `aftertime`, as sent; undocumented (perhaps a same-day cut-off).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub aftertime: Option<i64>,
    /// `canRefund`, as sent; undocumented (perhaps 1 = refundable).
    #[serde(
        rename = "canRefund",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub can_refund: Option<i64>,
    /// `fullRefund` 是否仅支持整单退款 (V2.2): 1 means whole-order refunds only.
    #[serde(
        rename = "fullRefund",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub full_refund: Option<i64>,
    /// `servicePhone` 服务电话设置 (V2.1), structure undocumented: raw JSON.
    #[serde(
        rename = "servicePhone",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub service_phone: Option<serde_json::Value>,
    /// `refundRule` 退款规则 (V2.1), structure undocumented: raw JSON.
    #[serde(
        rename = "refundRule",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub refund_rule: Option<serde_json::Value>,
    /// `purchaseNote` 图文说明, structure undocumented: raw JSON (absent with `simples`).
    #[serde(
        rename = "purchaseNote",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub purchase_note: Option<serde_json::Value>,
    /// Every other field the server sent, unchanged.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Product {
    /// Whether orders must give `travelDate` (`teamType` = `subscribe`).
    pub fn requires_travel_date(&self) -> bool {
        self.team_type == TeamType::Subscribe
    }

    /// Whether only whole-order refunds are allowed (`fullRefund` = 1).
    pub fn is_full_refund_only(&self) -> bool {
        self.full_refund == Some(1)
    }
}

/// Where products come from (`system`, V2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProductSource {
    /// `false`: the system's own products (the server's default).
    Own,
    /// A named system's products.
    System(String),
}

impl Serialize for ProductSource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Own => s.serialize_bool(false),
            Self::System(name) => s.serialize_str(name),
        }
    }
}

/// The `getTeam` request: a page of products, or products by id.
///
/// ```
/// use tixpay_lianhe::GetTeam;
///
/// let page = GetTeam::page(0, 20).simple(true);
/// assert_eq!(
///     serde_json::to_string(&page).unwrap(),
///     r#"{"method":"page","currentPage":0,"pageSize":20,"simples":1}"#
/// );
/// let some = GetTeam::by_ids(["852", "853"]);
/// assert_eq!(serde_json::to_string(&some).unwrap(), r#"{"method":"multi","LHDealIds":["852","853"]}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetTeam {
    method: &'static str,
    #[serde(rename = "currentPage", skip_serializing_if = "Option::is_none")]
    current_page: Option<u32>,
    #[serde(rename = "pageSize", skip_serializing_if = "Option::is_none")]
    page_size: Option<u32>,
    #[serde(rename = "LHDealIds", skip_serializing_if = "Option::is_none")]
    deal_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    simples: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<ProductSource>,
}

impl GetTeam {
    /// `method=page`: page `current_page` (the documents' demo starts at 0) of `page_size`.
    pub fn page(current_page: u32, page_size: u32) -> Self {
        Self {
            method: "page",
            current_page: Some(current_page),
            page_size: Some(page_size),
            deal_ids: None,
            simples: None,
            system: None,
        }
    }

    /// `method=multi`: the products with these `LHDealId`s.
    pub fn by_ids<I, S>(ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            method: "multi",
            current_page: None,
            page_size: None,
            deal_ids: Some(ids.into_iter().map(Into::into).collect()),
            simples: None,
            system: None,
        }
    }

    /// `simples`: leave out `purchaseNote` (V2.1).
    #[must_use]
    pub fn simple(mut self, on: bool) -> Self {
        self.simples = Some(u8::from(on));
        self
    }

    /// `system`: which system's products (V2.2).
    #[must_use]
    pub fn source(mut self, source: ProductSource) -> Self {
        self.system = Some(source);
        self
    }

    pub(crate) fn validate(&self) -> Result<(), tixpay_core::Error> {
        if self.page_size == Some(0) {
            return Err(tixpay_core::Error::invalid_request(
                "pageSize",
                "must be at least 1",
            ));
        }
        match &self.deal_ids {
            Some(ids) if ids.is_empty() => Err(tixpay_core::Error::invalid_request(
                "LHDealIds",
                "give at least one product id",
            )),
            Some(ids) if ids.iter().any(|id| id.trim().is_empty()) => Err(
                tixpay_core::Error::invalid_request("LHDealIds", "product ids must not be empty"),
            ),
            _ => Ok(()),
        }
    }
}

/// A `getTeam` reply: the products and, for pages, `totalSize`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProductPage {
    /// `totalSize`, when the server sends it.
    pub total_size: Option<i64>,
    /// The products.
    pub products: Vec<Product>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_keeps_unknown_fields_and_tolerates_strings() {
        let json = r#"{"partnerId":"3528","LHSupplierId":12,"LHDealId":852,"teamType":"subscribe","name":"门票",
            "marketPrice":1.5,"sellPrice":"1","buyPrice":0.5,"stock":"990","allowday":0,"aftertime":0,
            "canRefund":1,"fullRefund":1,"refundRule":{"minutes":30},"brandNew":"kept"}"#;
        let p: Product = serde_json::from_str(json).unwrap();
        assert_eq!(p.deal_id, "852");
        assert_eq!(p.partner_id, Some(3528));
        assert_eq!(p.supplier_id.as_deref(), Some("12"));
        assert!(p.requires_travel_date());
        assert!(p.is_full_refund_only());
        assert_eq!(p.sell_price, Some(Fen::new(100)));
        assert_eq!(p.stock, Some(990));
        assert_eq!(p.extra["brandNew"], "kept");
        assert_eq!(p.refund_rule.unwrap()["minutes"], 30);
    }

    #[test]
    fn unknown_team_type_is_kept() {
        let p: Product = serde_json::from_str(r#"{"LHDealId":"1","teamType":"season"}"#).unwrap();
        assert_eq!(p.team_type, TeamType::Unknown("season".into()));
        let p: Product = serde_json::from_str(r#"{"LHDealId":"1","teamType":null}"#).unwrap();
        assert_eq!(p.team_type, TeamType::Normal);
    }

    #[test]
    fn get_team_validation() {
        assert!(GetTeam::page(0, 0).validate().is_err());
        assert!(GetTeam::by_ids(Vec::<String>::new()).validate().is_err());
        assert!(GetTeam::by_ids([" "]).validate().is_err());
        assert!(
            GetTeam::page(1, 20)
                .source(ProductSource::Own)
                .validate()
                .is_ok()
        );
        assert_eq!(
            serde_json::to_string(&GetTeam::page(1, 2).source(ProductSource::Own)).unwrap(),
            r#"{"method":"page","currentPage":1,"pageSize":2,"system":false}"#
        );
    }
}
