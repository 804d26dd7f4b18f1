//! Refunding a theatre seat at the 游宝星 ticket system, with the server's clock off by ten
//! minutes so that the client's Hawk resynchronisation shows.
//!
//! Runs against the in-process sandbox by default:
//!
//! ```sh
//! cargo run --example ticket_hawk --features ticket-hawk,sandbox
//! ```
//!
//! With `TICKET_BASE_URL` (and the rest of `Config::from_env`'s variables, and
//! `TICKET_ORDER_ID`) set it queries that order's tickets on a real deployment; refunds
//! are irreversible, so it does not refund there.
#![allow(clippy::print_stdout)]

use std::error::Error as StdError;

use tixpay::ticket_hawk::sandbox::{SandboxOptions, TicketSandbox};
use tixpay::ticket_hawk::{Client, Config, OrderLookup, RefundParm, TicketQuery};

#[tokio::main]
async fn main() -> Result<(), Box<dyn StdError>> {
    if std::env::var_os("TICKET_BASE_URL").is_some() {
        let config = Config::from_env()?;
        let id = config.credentials().id().to_owned();
        let client = Client::new(config)?;
        let order = std::env::var("TICKET_ORDER_ID").unwrap_or_default();
        let tickets = client
            .query_tickets(&TicketQuery::new(&id, OrderLookup::OrderId(order.clone())))
            .await?;
        println!("order {order}: {} ticket(s)", tickets.len());
        for t in tickets {
            println!("  {:?} {:?} {:?}", t.ticket_code, t.product_name, t.status);
        }
        return Ok(());
    }
    println!(
        "Ticket system sandbox, its clock 10 minutes ahead (set TICKET_BASE_URL, TICKET_HAWK_ID, TICKET_KEY, TICKET_PASSWORD for a real deployment)\n"
    );
    let sandbox = TicketSandbox::start_with(
        SandboxOptions::default()
            .clock_offset_seconds(600)
            .server_authorization(true),
    )
    .await?;
    let tickets = sandbox.add_order("THEATRE-2001", 2, true, true);
    let (Some(seat), Some(other)) = (tickets.first().cloned(), tickets.get(1).cloned()) else {
        return Err("the sandbox made no tickets".into());
    };
    let client = Client::new(sandbox.config())?;

    let list = client
        .query_tickets(&TicketQuery::new(
            "agent01",
            OrderLookup::OrderId("THEATRE-2001".into()),
        ))
        .await?;
    println!(
        "1. Query/Tickets     {} seats; Hawk clock offset learnt: {:+} s",
        list.len(),
        client.clock_offset_millis() / 1000
    );
    let result = client
        .refund_tickets(
            &RefundParm::tickets("THEATRE-2001", [seat.clone()]).memory("customer cancelled"),
        )
        .await?;
    println!(
        "2. RefundTicket      {}: errcode {} {:?}",
        seat, result.errcode, result.errmsg
    );
    let again = client
        .refund_tickets(&RefundParm::tickets("THEATRE-2001", [seat.clone()]))
        .await;
    match again {
        Err(e) => println!("3. RefundTicket      again: refused ({e})"),
        Ok(r) => println!("3. RefundTicket      again: {r:?}"),
    }
    println!(
        "4. ticket status     {} → {:?}, {} → {:?}",
        seat,
        sandbox.ticket_status(&seat),
        other,
        sandbox.ticket_status(&other)
    );
    Ok(())
}
