//! The payment invariants: every credit of a payment is backed by exactly one payment record of
//! the same customer and the right kind; a payment did one thing (delivered its order or was
//! credited, never both), once; it is bound to one customer and one purpose; every order paid
//! from outside was delivered by exactly one payment.

use std::collections::HashMap;

use rust_decimal::Decimal;
use warung_actors::journal::LedgerRow;

use super::Check;
use crate::records::{OrderRow, OrderState, PaymentApplied, PaymentRow};
use crate::store::{AuditData, ChargePurpose};

/// Per payment id and credit kind (`topup`, `payment`, `surplus`), the ledger entries crediting it.
type Credits<'a> = HashMap<(&'a str, &'a str), Vec<&'a LedgerRow>>;

pub(super) fn check_payments(data: &AuditData, orders: &HashMap<&str, &OrderRow>) -> Check {
    let mut check = Check::new(
        "payments: each credited or delivered once, every payment credit backed by one payment record of its customer",
    );
    let credits = credits(data, &mut check);
    let mut delivering: HashMap<&str, usize> = HashMap::new();
    for record in &data.payments {
        let order = record.order.as_ref().and_then(|o| orders.get(o.as_str()).copied());
        match (record.purpose, &record.order, order) {
            (ChargePurpose::TopUp, None, _) => {}
            (ChargePurpose::Order, Some(_), Some(order)) if order.customer == record.customer => {}
            (purpose, _, _) => {
                check.fail(format!("payment {}: {} with no order of its customer", record.id, purpose.as_str()))
            }
        }
        match record.applied {
            PaymentApplied::Credited => check_credited(record, &credits, &mut check),
            PaymentApplied::Delivered => {
                *delivering.entry(record.order.as_ref().map_or("", |o| o.as_str())).or_default() += 1;
                check_delivered(record, order, &credits, &mut check);
            }
        }
    }
    for record in &data.payments {
        let id = record.id.as_str();
        let expected = match (record.applied, record.purpose) {
            (PaymentApplied::Delivered, _) => "surplus",
            (PaymentApplied::Credited, ChargePurpose::TopUp) => "topup",
            (PaymentApplied::Credited, ChargePurpose::Order) => "payment",
        };
        for kind in ["topup", "payment", "surplus"] {
            if kind != expected && credits.contains_key(&(id, kind)) {
                check.fail(format!("payment {id}: {}, yet also credited as {kind}:{id}", record.applied.as_str()));
            }
        }
    }
    for order in orders.values() {
        if order.method.is_outside() && matches!(order.state, OrderState::Paid | OrderState::Refunded) {
            let count = delivering.get(order.id.as_str()).copied().unwrap_or(0);
            if count != 1 {
                check.fail(format!("order {}: paid from outside, delivered by {count} payments", order.id));
            }
        }
    }
    check
}

/// The ledger's payment credits, each checked against its payment's record.
fn credits<'a>(data: &'a AuditData, check: &mut Check) -> Credits<'a> {
    let records: HashMap<&str, &PaymentRow> = data.payments.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut credits = Credits::new();
    for entry in &data.ledger {
        let Some((kind, id)) = entry.reference.as_str().split_once(':') else { continue };
        if !matches!(kind, "topup" | "payment" | "surplus") {
            continue;
        }
        credits.entry((id, kind)).or_default().push(entry);
        match records.get(id) {
            None => check.fail(format!("{}: a credit with no payment record", entry.reference)),
            Some(record) if record.customer != entry.customer => {
                check.fail(format!("{}: credited to another customer than the payment's", entry.reference))
            }
            Some(_) => {}
        }
    }
    credits
}

fn entries<'c, 'a>(credits: &'c Credits<'a>, id: &'a str, kind: &'a str) -> &'c [&'a LedgerRow] {
    credits.get(&(id, kind)).map(Vec::as_slice).unwrap_or_default()
}

fn credited<'a>(credits: &Credits<'a>, id: &'a str, kind: &'a str) -> Decimal {
    entries(credits, id, kind).iter().map(|e| e.amount).sum()
}

/// A payment that went to the wallet whole: one credit of its whole amount, of its purpose's kind.
fn check_credited<'a>(record: &'a PaymentRow, credits: &Credits<'a>, check: &mut Check) {
    let id = record.id.as_str();
    let kind = match record.purpose {
        ChargePurpose::TopUp => "topup",
        ChargePurpose::Order => "payment",
    };
    let (count, sum) = (entries(credits, id, kind).len(), credited(credits, id, kind));
    if count != 1 || sum != record.amount.amount() {
        check.fail(format!("payment {id} of {}: credited {sum} in {count} entries", record.amount));
    }
}

/// A payment that delivered its order: the order is paid, and what it paid beyond the total is
/// its surplus, credited at most once.
fn check_delivered<'a>(record: &'a PaymentRow, order: Option<&OrderRow>, credits: &Credits<'a>, check: &mut Check) {
    let id = record.id.as_str();
    if let Some(order) = order {
        if !matches!(order.state, OrderState::Paid | OrderState::Refunded) {
            check.fail(format!("payment {id}: delivered order {}, which is {}", order.id, order.state.as_str()));
        }
        if record.amount.amount() - order.total.amount() != record.surplus.amount() {
            check.fail(format!(
                "payment {id}: surplus {} of {} for a total of {}",
                record.surplus, record.amount, order.total
            ));
        }
    }
    let surplus = credited(credits, id, "surplus");
    if entries(credits, id, "surplus").len() > 1 || surplus != record.surplus.amount() {
        check.fail(format!("payment {id}: surplus {} owed, {surplus} credited", record.surplus));
    }
}
