//! The wallet state machine: a balance that never goes below zero (a `Money` cannot) and never
//! above the largest amount accepted, where every change is a ledger entry. One method per
//! command, each with its own reply; `apply` runs any of them from a `WalletCommand`.

use rust_decimal::Decimal;

use super::commands::{Adjust, Adjusted, Credit, Credited, Debit, Debited, Refund, Refunded};
use super::terms::{WalletBalance, WalletRejection};
use crate::domain::{ActorName, BoundedMap, CustomerId, Money, Reference, UnixMs};
use crate::journal::{Event, LedgerKind, LedgerRow, WalletRow};
use crate::runtime::Transition;

/// Ledger references a wallet remembers, so a re-sent credit or debit returns its first outcome
/// and a refund finds its debit. Older ones are the caller's to remember (the orders table does).
pub const WALLET_REFERENCES_REMEMBERED_MAX: usize = 10_000;

/// What a wallet remembers of one reference: the command's content, to tell a repeat from a
/// reuse of the reference, and its first reply, to answer a repeat with.
#[derive(Clone, Debug, PartialEq)]
enum Remembered {
    Credit { kind: LedgerKind, credited: Credited },
    Debit { debited: Debited, refunded: bool },
    Refund { original: Reference, refunded: Refunded },
    Adjust(Adjusted),
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
            let remembered = match entry.kind {
                LedgerKind::Purchase => Remembered::Debit { debited: Debited { amount, balance }, refunded: false },
                LedgerKind::Refund => match refunded_original(&entry.reason) {
                    Some(original) => {
                        refunded.push(original.clone());
                        Remembered::Refund { original, refunded: Refunded { amount, balance } }
                    }
                    None => Remembered::Credit { kind: LedgerKind::Refund, credited: Credited { amount, balance } },
                },
                LedgerKind::Adjustment => Remembered::Adjust(Adjusted { delta: entry.amount, balance }),
                kind @ LedgerKind::TopUp => Remembered::Credit { kind, credited: Credited { amount, balance } },
            };
            state.remembered.insert(entry.reference.clone(), remembered);
        }
        for original in refunded {
            if let Some(Remembered::Debit { refunded, .. }) = state.remembered.get_mut(&original) {
                *refunded = true;
            }
        }
        Ok(state)
    }

    pub fn balance(&self) -> WalletBalance {
        WalletBalance { balance: self.balance, available: self.balance }
    }

    pub fn credit(&mut self, command: Credit, now: UnixMs) -> Result<Transition<Credited>, WalletRejection> {
        match self.remembered.get(&command.reference) {
            Some(Remembered::Credit { kind, credited })
                if *kind == command.kind && credited.amount == command.amount =>
            {
                return Ok(unchanged(credited.clone()));
            }
            Some(_) => return Err(WalletRejection::ExistsWithDifferentContent),
            None => {}
        }
        non_zero(command.amount)?;
        self.balance = self.balance.checked_add(command.amount).ok_or(WalletRejection::BalanceLimitExceeded)?;
        let Credit { reference, amount, kind, reason, actor } = command;
        let ledger = self.ledger(&reference, kind, amount.amount(), reason, actor, now);
        let credited = Credited { amount, balance: self.balance() };
        self.remembered.insert(reference, Remembered::Credit { kind, credited: credited.clone() });
        Ok(self.changed(credited, ledger, now))
    }

    pub fn debit(&mut self, command: Debit, now: UnixMs) -> Result<Transition<Debited>, WalletRejection> {
        match self.remembered.get(&command.reference) {
            Some(Remembered::Debit { debited, .. }) if debited.amount == command.amount => {
                return Ok(unchanged(debited.clone()));
            }
            Some(_) => return Err(WalletRejection::ExistsWithDifferentContent),
            None => {}
        }
        non_zero(command.amount)?;
        self.take_check(command.amount)?;
        self.balance = self.balance.checked_sub(command.amount).expect("checked available");
        let Debit { reference, amount, reason, actor } = command;
        let ledger = self.ledger(&reference, LedgerKind::Purchase, -amount.amount(), reason, actor, now);
        let debited = Debited { amount, balance: self.balance() };
        self.remembered.insert(reference, Remembered::Debit { debited: debited.clone(), refunded: false });
        Ok(self.changed(debited, ledger, now))
    }

    pub fn refund(&mut self, command: Refund, now: UnixMs) -> Result<Transition<Refunded>, WalletRejection> {
        match self.remembered.get(&command.reference) {
            Some(Remembered::Refund { original, refunded }) if *original == command.original => {
                return Ok(unchanged(refunded.clone()));
            }
            Some(_) => return Err(WalletRejection::ExistsWithDifferentContent),
            None => {}
        }
        let amount = match self.remembered.get(&command.original) {
            Some(Remembered::Debit { refunded: true, .. }) => return Err(WalletRejection::AlreadyRefunded),
            Some(Remembered::Debit { debited, refunded: false }) => debited.amount,
            _ => return Err(WalletRejection::OriginalNotFound),
        };
        self.balance = self.balance.checked_add(amount).ok_or(WalletRejection::BalanceLimitExceeded)?;
        let Refund { reference, original, reason, actor } = command;
        // The reason names the original reference, so a restart can pair them.
        let reason = format!("{REFUND_REASON_PREFIX}{original}: {reason}");
        let ledger = self.ledger(&reference, LedgerKind::Refund, amount.amount(), reason, actor, now);
        if let Some(Remembered::Debit { refunded, .. }) = self.remembered.get_mut(&original) {
            *refunded = true;
        }
        let refunded = Refunded { amount, balance: self.balance() };
        self.remembered.insert(reference, Remembered::Refund { original, refunded: refunded.clone() });
        Ok(self.changed(refunded, ledger, now))
    }

    pub fn adjust(&mut self, command: Adjust, now: UnixMs) -> Result<Transition<Adjusted>, WalletRejection> {
        match self.remembered.get(&command.reference) {
            Some(Remembered::Adjust(adjusted)) if adjusted.delta == command.delta => {
                return Ok(unchanged(adjusted.clone()));
            }
            Some(_) => return Err(WalletRejection::ExistsWithDifferentContent),
            None => {}
        }
        let Adjust { reference, delta, reason, actor } = command;
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
        let ledger = self.ledger(&reference, LedgerKind::Adjustment, delta, reason, actor, now);
        let adjusted = Adjusted { delta, balance: self.balance() };
        self.remembered.insert(reference, Remembered::Adjust(adjusted.clone()));
        Ok(self.changed(adjusted, ledger, now))
    }

    fn take_check(&self, amount: Money) -> Result<(), WalletRejection> {
        let available = self.balance().available;
        if amount > available {
            return Err(WalletRejection::InsufficientBalance { available, requested: amount });
        }
        Ok(())
    }

    /// A change's transition: its ledger entry, then the wallet's row as it is now.
    fn changed<O>(&self, outcome: O, ledger: Event, now: UnixMs) -> Transition<O> {
        let row = Event::Wallet(WalletRow { customer: self.customer.clone(), balance: self.balance, updated_at: now });
        Transition { outcome, events: vec![ledger, row] }
    }

    fn ledger(
        &self,
        reference: &Reference,
        kind: LedgerKind,
        amount: Decimal,
        reason: String,
        actor: ActorName,
        now: UnixMs,
    ) -> Event {
        Event::Ledger(LedgerRow {
            customer: self.customer.clone(),
            reference: reference.clone(),
            kind,
            amount,
            balance_after: self.balance,
            reason,
            actor,
            at: now,
        })
    }
}

/// A repeat's transition: its first reply, nothing to store.
fn unchanged<O>(outcome: O) -> Transition<O> {
    Transition { outcome, events: Vec::new() }
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
