//! Public request and response types.

pub(crate) mod common;
pub(crate) mod order;
pub(crate) mod product;

pub use common::{OrderStatus, RefundStatus, Visitor, Visitors, VoucherType};
pub use order::{
    CancelAccepted, CancelOrder, CancelOutcome, CancelRefused, CreateOrder, NewOrder, OrderInfo,
    OrderReceipt, PayOrder, QueryOrder, ResendVoucher, SmsSender, Voucher,
};
pub use product::{GetTeam, Product, ProductPage, ProductSource, TeamType};
