use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;
use crate::domain::{CustomerId, Money, Reference};
use crate::journal::LedgerKind;

const NOW: i64 = 1_700_000_000_000;

fn r(s: &str) -> Reference {
    Reference::parse(s).unwrap()
}

fn wallet_with(amount: u64) -> WalletState {
    let mut w = WalletState::new(CustomerId::parse("6281234567890").unwrap());
    if amount > 0 {
        w.apply(credit("seed", amount), NOW).unwrap();
    }
    w
}

fn credit(reference: &str, amount: u64) -> WalletCommand {
    WalletCommand::Credit {
        reference: r(reference),
        amount: Money::rupiah(amount),
        kind: LedgerKind::TopUp,
        reason: "top up".into(),
        actor: "test".into(),
    }
}

fn debit(reference: &str, amount: u64) -> WalletCommand {
    WalletCommand::Debit {
        reference: r(reference),
        amount: Money::rupiah(amount),
        reason: "purchase".into(),
        actor: "test".into(),
    }
}

#[test]
fn two_purchases_on_one_balance_cannot_overdraw_it() {
    let mut w = wallet_with(500_000);
    w.apply(debit("a", 150_000), NOW).unwrap();
    w.apply(debit("b", 150_000), NOW).unwrap();
    assert_eq!(w.balance().balance, Money::rupiah(200_000));
    assert_eq!(
        w.apply(debit("c", 250_000), NOW).unwrap_err(),
        WalletRejection::InsufficientBalance { available: Money::rupiah(200_000), requested: Money::rupiah(250_000) }
    );
}

#[test]
fn a_re_sent_debit_is_charged_once() {
    let mut w = wallet_with(100);
    let first = w.apply(debit("a", 60), NOW).unwrap();
    let again = w.apply(debit("a", 60), NOW).unwrap();
    assert_eq!(first.outcome, again.outcome);
    assert!(again.events.is_empty());
    assert_eq!(w.balance().balance, Money::rupiah(40));
    assert_eq!(w.apply(debit("a", 61), NOW).unwrap_err(), WalletRejection::ExistsWithDifferentContent);
}

#[test]
fn a_refund_gives_back_the_debit_once() {
    let mut w = wallet_with(100);
    w.apply(debit("order:1", 60), NOW).unwrap();
    let refund = WalletCommand::Refund {
        reference: r("refund:1"),
        original: r("order:1"),
        reason: "cancelled".into(),
        actor: "admin".into(),
    };
    w.apply(refund.clone(), NOW).unwrap();
    w.apply(refund, NOW).unwrap();
    assert_eq!(w.balance().balance, Money::rupiah(100));
    let second = WalletCommand::Refund {
        reference: r("refund:2"),
        original: r("order:1"),
        reason: "again".into(),
        actor: "admin".into(),
    };
    assert_eq!(w.apply(second, NOW).unwrap_err(), WalletRejection::AlreadyRefunded);
    let unknown = WalletCommand::Refund {
        reference: r("refund:3"),
        original: r("order:9"),
        reason: "x".into(),
        actor: "admin".into(),
    };
    assert_eq!(w.apply(unknown, NOW).unwrap_err(), WalletRejection::OriginalNotFound);
}

#[test]
fn an_adjustment_needs_a_reason_and_cannot_go_below_zero() {
    let mut w = wallet_with(100);
    let no_reason = WalletCommand::Adjust {
        reference: r("a1"),
        delta: Decimal::from(-10),
        reason: " ".into(),
        actor: "admin".into(),
    };
    assert_eq!(w.apply(no_reason, NOW).unwrap_err(), WalletRejection::ReasonRequired);
    let too_much = WalletCommand::Adjust {
        reference: r("a2"),
        delta: Decimal::from(-101),
        reason: "fix".into(),
        actor: "admin".into(),
    };
    assert!(matches!(w.apply(too_much, NOW), Err(WalletRejection::InsufficientBalance { .. })));
    let fine = WalletCommand::Adjust {
        reference: r("a3"),
        delta: Decimal::from(-100),
        reason: "fix".into(),
        actor: "admin".into(),
    };
    w.apply(fine, NOW).unwrap();
    assert_eq!(w.balance().balance, Money::ZERO);
}

#[test]
fn every_change_is_a_ledger_entry_with_its_reference() {
    let mut w = wallet_with(0);
    let t = w.apply(credit("topup:1", 5_000), NOW).unwrap();
    let ledger: Vec<_> = t
        .events
        .iter()
        .filter_map(|e| match e {
            crate::journal::Event::Ledger(l) => Some(l),
            _ => None,
        })
        .collect();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].reference.as_str(), "topup:1");
    assert_eq!(ledger[0].amount, Decimal::from(5_000));
    assert_eq!(ledger[0].balance_after, Money::rupiah(5_000));
}

#[test]
fn a_restored_wallet_remembers_its_debits_and_refunds() {
    let mut w = wallet_with(100);
    let mut ledger = Vec::new();
    for command in [
        debit("order:1", 60),
        WalletCommand::Refund {
            reference: r("refund:1"),
            original: r("order:1"),
            reason: "x".into(),
            actor: "a".into(),
        },
    ] {
        for event in w.apply(command, NOW).unwrap().events {
            if let crate::journal::Event::Ledger(row) = event {
                ledger.push(row);
            }
        }
    }
    let record = WalletRecord { balance: w.balance().balance, ledger };
    let mut restored = WalletState::restore(w.customer.clone(), record).unwrap();
    assert!(restored.apply(debit("order:1", 60), NOW).unwrap().events.is_empty());
    let again = WalletCommand::Refund {
        reference: r("refund:9"),
        original: r("order:1"),
        reason: "x".into(),
        actor: "a".into(),
    };
    assert_eq!(restored.apply(again, NOW).unwrap_err(), WalletRejection::AlreadyRefunded);
}

#[test]
fn each_command_answers_with_its_own_reply_and_a_reference_serves_one_command() {
    let mut w = wallet_with(100);
    let debit =
        Debit { reference: r("order:1"), amount: Money::rupiah(60), reason: "purchase".into(), actor: "t".into() };
    let debited = w.debit(debit.clone(), NOW).unwrap().outcome;
    assert_eq!(debited.balance.balance, Money::rupiah(40));
    assert_eq!(w.debit(debit, NOW).unwrap().outcome, debited, "a repeat answers its first reply");
    let credit = Credit {
        reference: r("order:1"),
        amount: Money::rupiah(60),
        kind: LedgerKind::TopUp,
        reason: "top up".into(),
        actor: "t".into(),
    };
    assert_eq!(w.credit(credit, NOW).unwrap_err(), WalletRejection::ExistsWithDifferentContent);
    let refund = Refund { reference: r("refund:1"), original: r("order:1"), reason: "x".into(), actor: "t".into() };
    assert_eq!(w.refund(refund, NOW).unwrap().outcome.amount, Money::rupiah(60));
}

#[derive(Clone, Debug)]
enum Step {
    Credit(u8, u32),
    Debit(u8, u32),
    Refund(u8, u8),
    Adjust(u8, i32),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..10u8, 0..1000u32).prop_map(|(r, a)| Step::Credit(r, a)),
        (0..10u8, 0..1000u32).prop_map(|(r, a)| Step::Debit(r, a)),
        (0..10u8, 0..10u8).prop_map(|(r, o)| Step::Refund(r, o)),
        (0..10u8, -1000..1000i32).prop_map(|(r, d)| Step::Adjust(r, d)),
    ]
}

proptest! {
    /// Random command sequences never make a balance negative, conserve money (balance = sum of
    /// ledger entries), and a repeated command changes nothing.
    #[test]
    fn random_commands_keep_every_invariant(steps in prop::collection::vec(step(), 1..150)) {
        let mut w = wallet_with(0);
        let mut ledger_sum = Decimal::ZERO;
        for s in steps {
            let command = match s {
                Step::Credit(i, a) => credit(&format!("c{i}"), a as u64),
                Step::Debit(i, a) => debit(&format!("d{i}"), a as u64),
                Step::Refund(i, o) => WalletCommand::Refund { reference: r(&format!("f{i}")), original: r(&format!("d{o}")), reason: "x".into(), actor: "t".into() },
                Step::Adjust(i, d) => WalletCommand::Adjust { reference: r(&format!("a{i}")), delta: Decimal::from(d), reason: "x".into(), actor: "t".into() },
            };
            for attempt in 0..2 {
                if let Ok(t) = w.apply(command.clone(), NOW) {
                    if attempt == 1 {
                        prop_assert!(t.events.is_empty(), "a repeated command wrote events");
                    }
                    for event in &t.events {
                        if let crate::journal::Event::Ledger(row) = event {
                            ledger_sum += row.amount;
                        }
                    }
                }
            }
            let b = w.balance();
            prop_assert_eq!(b.balance.amount(), ledger_sum);
        }
    }
}
