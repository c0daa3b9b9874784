//! The wallet state machine: a balance that never goes below zero (a `Money` cannot) and never
//! above the largest amount accepted, where every change is a ledger entry.

use rust_decimal::Decimal;

use super::messages::{WalletBalance, WalletCommand, WalletOutcome, WalletRejection};
use crate::domain::{BoundedMap, CustomerId, Money, Reference, UnixMs};
use crate::journal::{Event, LedgerKind, LedgerRow, WalletRow};
use crate::runtime::Transition;

/// Ledger references a wallet remembers, so a re-sent credit or debit returns its first outcome
/// and a refund finds its debit. Older ones are the caller's to remember (the orders table does).
pub const WALLET_REFERENCES_REMEMBERED_MAX: usize = 10_000;

#[derive(Clone, Debug, PartialEq)]
enum Fingerprint {
    Credit(Money, LedgerKind),
    Debit(Money),
    Refund(Reference),
    Adjust(Decimal),
}

/// What a wallet remembers of one reference.
#[derive(Clone, Debug, PartialEq)]
pub struct Remembered {
    fingerprint: String,
    pub outcome: WalletOutcome,
    /// For a debit: whether it has been refunded.
    pub refunded: bool,
}

/// Everything the store keeps of a wallet, to rebuild its state.
#[derive(Clone, Debug, Default)]
pub struct WalletRecord {
    pub balance: Money,
    /// The latest ledger entries, oldest first.
    pub ledger: Vec<LedgerRow>,
}

#[derive(Clone, Debug)]
pub struct WalletState {
    pub customer: CustomerId,
    balance: Money,
    remembered: BoundedMap<Reference, Remembered>,
}

impl WalletState {
    pub fn new(customer: CustomerId) -> WalletState {
        WalletState { customer, balance: Money::ZERO, remembered: BoundedMap::new(WALLET_REFERENCES_REMEMBERED_MAX) }
    }

    pub fn restore(customer: CustomerId, record: WalletRecord) -> Result<WalletState, String> {
        let mut state = WalletState::new(customer);
        state.balance = record.balance;
        let mut refunded = Vec::new();
        for entry in &record.ledger {
            let amount = Money::new(entry.amount.abs()).map_err(|e| e.to_string())?;
            let balance = WalletBalance { balance: entry.balance_after, available: entry.balance_after };
            let (fingerprint, outcome) = match entry.kind {
                LedgerKind::Purchase => (Fingerprint::Debit(amount), WalletOutcome::Debited { amount, balance }),
                LedgerKind::Refund => match refunded_original(&entry.reason) {
                    Some(original) => {
                        refunded.push(original.clone());
                        (Fingerprint::Refund(original), WalletOutcome::Refunded { amount, balance })
                    }
                    None => {
                        (Fingerprint::Credit(amount, LedgerKind::Refund), WalletOutcome::Credited { amount, balance })
                    }
                },
                LedgerKind::Adjustment => {
                    (Fingerprint::Adjust(entry.amount), WalletOutcome::Adjusted { delta: entry.amount, balance })
                }
                kind @ LedgerKind::TopUp => {
                    (Fingerprint::Credit(amount, kind), WalletOutcome::Credited { amount, balance })
                }
            };
            state.remember(entry.reference.clone(), fingerprint, outcome);
        }
        for original in refunded {
            if let Some(debit) = state.remembered.get_mut(&original) {
                debit.refunded = true;
            }
        }
        Ok(state)
    }

    pub fn balance(&self) -> WalletBalance {
        WalletBalance { balance: self.balance, available: self.balance }
    }

    pub fn apply(&mut self, command: WalletCommand, now: UnixMs) -> Result<Transition<WalletOutcome>, WalletRejection> {
        let (reference, fingerprint) = fingerprint_of(&command);
        if let Some(seen) = self.remembered.get(&reference) {
            if seen.fingerprint != fingerprint_key(&fingerprint) {
                return Err(WalletRejection::ExistsWithDifferentContent);
            }
            return Ok(Transition { outcome: seen.outcome.clone(), events: Vec::new() });
        }
        let mut events = Vec::new();
        let outcome = match command {
            WalletCommand::Credit { reference, amount, kind, reason, actor } => {
                non_zero(amount)?;
                self.balance = self.balance.checked_add(amount).ok_or(WalletRejection::BalanceLimitExceeded)?;
                events.push(self.ledger(&reference, kind, amount.amount(), &reason, &actor, now));
                let outcome = WalletOutcome::Credited { amount, balance: self.balance() };
                self.remember(reference, Fingerprint::Credit(amount, kind), outcome.clone());
                outcome
            }
            WalletCommand::Debit { reference, amount, reason, actor } => {
                non_zero(amount)?;
                self.take_check(amount)?;
                self.balance = self.balance.checked_sub(amount).expect("checked available");
                events.push(self.ledger(&reference, LedgerKind::Purchase, -amount.amount(), &reason, &actor, now));
                let outcome = WalletOutcome::Debited { amount, balance: self.balance() };
                self.remember(reference, Fingerprint::Debit(amount), outcome.clone());
                outcome
            }
            WalletCommand::Refund { reference, original, reason, actor } => {
                let debit = self.remembered.get(&original).ok_or(WalletRejection::OriginalNotFound)?;
                let amount = match debit.outcome {
                    WalletOutcome::Debited { amount, .. } => amount,
                    _ => return Err(WalletRejection::OriginalNotFound),
                };
                if debit.refunded {
                    return Err(WalletRejection::AlreadyRefunded);
                }
                self.balance = self.balance.checked_add(amount).ok_or(WalletRejection::BalanceLimitExceeded)?;
                // The reason names the original reference, so a restart can pair them.
                let reason = format!("{REFUND_REASON_PREFIX}{original}: {reason}");
                events.push(self.ledger(&reference, LedgerKind::Refund, amount.amount(), &reason, &actor, now));
                self.remembered.get_mut(&original).expect("found above").refunded = true;
                let outcome = WalletOutcome::Refunded { amount, balance: self.balance() };
                self.remember(reference, Fingerprint::Refund(original), outcome.clone());
                outcome
            }
            WalletCommand::Adjust { reference, delta, reason, actor } => {
                if delta.is_zero() {
                    return Err(WalletRejection::AmountMustNotBeZero);
                }
                if reason.trim().is_empty() {
                    return Err(WalletRejection::ReasonRequired);
                }
                let magnitude = Money::new(delta.abs()).map_err(|_| WalletRejection::BalanceLimitExceeded)?;
                self.balance = if delta.is_sign_positive() {
                    self.balance.checked_add(magnitude).ok_or(WalletRejection::BalanceLimitExceeded)?
                } else {
                    self.take_check(magnitude)?;
                    self.balance.checked_sub(magnitude).expect("checked available")
                };
                events.push(self.ledger(&reference, LedgerKind::Adjustment, delta, &reason, &actor, now));
                let outcome = WalletOutcome::Adjusted { delta, balance: self.balance() };
                self.remember(reference, Fingerprint::Adjust(delta), outcome.clone());
                outcome
            }
        };
        events.push(Event::Wallet(WalletRow {
            customer: self.customer.clone(),
            balance: self.balance,
            updated_at: now,
        }));
        Ok(Transition { outcome, events })
    }

    fn take_check(&self, amount: Money) -> Result<(), WalletRejection> {
        let available = self.balance().available;
        if amount > available {
            return Err(WalletRejection::InsufficientBalance { available, requested: amount });
        }
        Ok(())
    }

    fn remember(&mut self, reference: Reference, fingerprint: Fingerprint, outcome: WalletOutcome) {
        let fingerprint = fingerprint_key(&fingerprint);
        self.remembered.insert(reference, Remembered { fingerprint, outcome, refunded: false });
    }

    fn ledger(
        &self,
        reference: &Reference,
        kind: LedgerKind,
        amount: Decimal,
        reason: &str,
        actor: &str,
        now: UnixMs,
    ) -> Event {
        Event::Ledger(LedgerRow {
            customer: self.customer.clone(),
            reference: reference.clone(),
            kind,
            amount,
            balance_after: self.balance,
            reason: reason.to_string(),
            actor: actor.to_string(),
            at: now,
        })
    }
}

/// How a refund's ledger reason starts: `refund of <original reference>: <reason>`.
const REFUND_REASON_PREFIX: &str = "refund of ";

fn refunded_original(reason: &str) -> Option<Reference> {
    let rest = reason.strip_prefix(REFUND_REASON_PREFIX)?;
    Reference::parse(rest.split_once(": ").map(|(r, _)| r).unwrap_or(rest)).ok()
}

fn non_zero(amount: Money) -> Result<(), WalletRejection> {
    if amount.is_zero() {
        Err(WalletRejection::AmountMustNotBeZero)
    } else {
        Ok(())
    }
}

fn fingerprint_of(command: &WalletCommand) -> (Reference, Fingerprint) {
    match command {
        WalletCommand::Credit { reference, amount, kind, .. } => {
            (reference.clone(), Fingerprint::Credit(*amount, *kind))
        }
        WalletCommand::Debit { reference, amount, .. } => (reference.clone(), Fingerprint::Debit(*amount)),
        WalletCommand::Refund { reference, original, .. } => (reference.clone(), Fingerprint::Refund(original.clone())),
        WalletCommand::Adjust { reference, delta, .. } => (reference.clone(), Fingerprint::Adjust(*delta)),
    }
}

/// Fingerprints compare by value; amounts normalised so `1000` and `1000.00` are the same.
fn fingerprint_key(fingerprint: &Fingerprint) -> String {
    match fingerprint {
        Fingerprint::Credit(m, k) => format!("credit:{}:{}", k.as_str(), m.amount().normalize()),
        Fingerprint::Debit(m) => format!("debit:{}", m.amount().normalize()),
        Fingerprint::Refund(r) => format!("refund:{r}"),
        Fingerprint::Adjust(d) => format!("adjust:{}", d.normalize()),
    }
}
