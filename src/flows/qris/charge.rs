//! A QRIS charge's state machine: the one place that decides what Midtrans' answers and our own
//! steps do to a charge. Pure; the QRIS flow stores each move with a compare-and-set on the status
//! it moved from, so two deciders never both win.
//!
//! `charging` (stored before Midtrans is asked) -> `pending` (the QR is live) -> `paid`, or
//! `expired` / `cancelled` / `failed`. A confirmed payment of the charge's exact amount is applied
//! even after the charge closed (a late scan: the money goes to the wallet); a payment of any
//! other amount sends the charge to `review` and credits nothing. `paid` and `review` are final.

use warung_actors::domain::Money;

use crate::store::{ChargeRow, ChargeStatus};

/// How Midtrans closed a charge without payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClosedBy {
    Expire,
    Cancel,
    Deny,
    Failure,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChargeCommand {
    /// Midtrans made the charge: the QR is live.
    Issued,
    /// Midtrans refused the charge, or never made it.
    IssueFailed,
    /// Midtrans confirms a payment of `amount`.
    Paid {
        amount: Money,
    },
    Closed(ClosedBy),
    /// Its order was cancelled (by the customer or an admin) and the charge withdrawn at Midtrans.
    Withdrawn,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChargeOutcome {
    Moved {
        from: ChargeStatus,
        to: ChargeStatus,
    },
    Unchanged,
    /// The payment is the charge's: apply it (deliver the order, or credit the wallet), then store
    /// the move to `paid`.
    ApplyPayment {
        from: ChargeStatus,
    },
    /// Paid an amount the charge did not ask for: moved to review, nothing credited.
    ToReview {
        from: ChargeStatus,
        note: String,
    },
}

/// Why a command does not apply to a charge, named after the rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChargeRejection {
    #[error("the charge is paid; Midtrans now says {by:?} (a reversal?): for a person to look at")]
    PaidChargeCannotClose { by: ClosedBy },
    #[error("the charge is {status:?}; only a charging one can be issued")]
    OnlyAChargingChargeIsIssued { status: ChargeStatus },
    #[error("the charge is in review; a person decides what happens to it")]
    ReviewIsForAPerson,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Charge {
    row: ChargeRow,
}

impl Charge {
    pub fn new(row: ChargeRow) -> Charge {
        Charge { row }
    }

    pub fn row(&self) -> &ChargeRow {
        &self.row
    }

    pub fn status(&self) -> ChargeStatus {
        self.row.status
    }

    pub fn apply(&mut self, command: ChargeCommand) -> Result<ChargeOutcome, ChargeRejection> {
        use ChargeStatus::*;
        let before = self.row.status;
        let outcome = match command {
            ChargeCommand::Issued => match before {
                Charging => self.moved(Pending),
                Pending => ChargeOutcome::Unchanged,
                status => return Err(ChargeRejection::OnlyAChargingChargeIsIssued { status }),
            },
            ChargeCommand::IssueFailed | ChargeCommand::Withdrawn | ChargeCommand::Closed(_) if !before.is_open() => {
                match (before, command) {
                    (Paid, ChargeCommand::Closed(by)) => return Err(ChargeRejection::PaidChargeCannotClose { by }),
                    _ => ChargeOutcome::Unchanged,
                }
            }
            ChargeCommand::IssueFailed => self.moved(Failed),
            ChargeCommand::Withdrawn => self.moved(Cancelled),
            ChargeCommand::Closed(by) => self.moved(match by {
                ClosedBy::Expire => Expired,
                ClosedBy::Cancel => Cancelled,
                ClosedBy::Deny | ClosedBy::Failure => Failed,
            }),
            ChargeCommand::Paid { amount } => match before {
                Paid => ChargeOutcome::Unchanged,
                Review => return Err(ChargeRejection::ReviewIsForAPerson),
                _ if amount != self.row.gross => {
                    self.row.status = Review;
                    let note = format!("paid {amount}, the charge asked for {}", self.row.gross);
                    ChargeOutcome::ToReview { from: before, note }
                }
                _ => {
                    self.row.status = Paid;
                    ChargeOutcome::ApplyPayment { from: before }
                }
            },
        };
        self.check_invariants(before);
        Ok(outcome)
    }

    fn moved(&mut self, to: ChargeStatus) -> ChargeOutcome {
        let from = self.row.status;
        self.row.status = to;
        ChargeOutcome::Moved { from, to }
    }

    fn check_invariants(&self, before: ChargeStatus) {
        let status = self.row.status;
        assert!(before != ChargeStatus::Paid || status == ChargeStatus::Paid, "a paid charge stays paid");
        assert!(before != ChargeStatus::Review || status == ChargeStatus::Review, "a charge in review stays there");
        assert!(before.is_open() || !status.is_open(), "a closed charge never reopens");
        assert_eq!(
            self.row.base.checked_add(Money::rupiah(self.row.unique_code as u64)),
            Some(self.row.gross),
            "a charge's amount is its base and its unique code"
        );
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use warung_actors::domain::{CustomerId, Reference};

    use super::*;
    use crate::store::ChargePurpose;

    fn charge(status: ChargeStatus) -> Charge {
        Charge::new(ChargeRow {
            method: crate::store::ChargeMethod::Qris,
            id: Reference::parse("TRX-0000000001-1").unwrap(),
            customer: CustomerId::parse("6281").unwrap(),
            purpose: ChargePurpose::TopUp,
            order: None,
            base: Money::rupiah(50_000),
            unique_code: 123,
            gross: Money::rupiah(50_123),
            status,
            qr_url: None,
            expires_at: 10,
        })
    }

    #[test]
    fn the_exact_amount_is_applied_even_late_and_any_other_goes_to_review() {
        for status in [ChargeStatus::Pending, ChargeStatus::Expired, ChargeStatus::Cancelled, ChargeStatus::Failed] {
            let mut paid = charge(status);
            let outcome = paid.apply(ChargeCommand::Paid { amount: Money::rupiah(50_123) });
            assert_eq!(outcome, Ok(ChargeOutcome::ApplyPayment { from: status }));
            assert_eq!(paid.status(), ChargeStatus::Paid);
        }
        let mut wrong = charge(ChargeStatus::Pending);
        let outcome = wrong.apply(ChargeCommand::Paid { amount: Money::rupiah(5_000_000) }).unwrap();
        assert!(matches!(outcome, ChargeOutcome::ToReview { from: ChargeStatus::Pending, .. }), "{outcome:?}");
        assert_eq!(
            wrong.apply(ChargeCommand::Paid { amount: Money::rupiah(50_123) }),
            Err(ChargeRejection::ReviewIsForAPerson)
        );
    }

    #[test]
    fn a_paid_charge_stays_paid() {
        let mut paid = charge(ChargeStatus::Paid);
        assert_eq!(paid.apply(ChargeCommand::Paid { amount: Money::rupiah(50_123) }), Ok(ChargeOutcome::Unchanged));
        assert_eq!(
            paid.apply(ChargeCommand::Closed(ClosedBy::Expire)),
            Err(ChargeRejection::PaidChargeCannotClose { by: ClosedBy::Expire })
        );
        assert_eq!(paid.apply(ChargeCommand::Withdrawn), Ok(ChargeOutcome::Unchanged));
    }

    fn command() -> impl Strategy<Value = ChargeCommand> {
        prop_oneof![
            Just(ChargeCommand::Issued),
            Just(ChargeCommand::IssueFailed),
            prop_oneof![Just(50_123u64), Just(50_000), Just(1)]
                .prop_map(|a| ChargeCommand::Paid { amount: Money::rupiah(a) }),
            prop_oneof![Just(ClosedBy::Expire), Just(ClosedBy::Cancel), Just(ClosedBy::Deny), Just(ClosedBy::Failure)]
                .prop_map(ChargeCommand::Closed),
            Just(ChargeCommand::Withdrawn),
        ]
    }

    proptest! {
        /// Any sequence keeps the invariants (asserted in `apply`), applies a payment at most once,
        /// and a rejected command changes nothing.
        #[test]
        fn random_commands_apply_a_payment_at_most_once(commands in proptest::collection::vec(command(), 1..30)) {
            let mut charge = charge(ChargeStatus::Charging);
            let mut applied = 0;
            for command in commands {
                let before = charge.clone();
                match charge.apply(command) {
                    Ok(ChargeOutcome::ApplyPayment { .. }) => applied += 1,
                    Ok(ChargeOutcome::Unchanged) | Err(_) => prop_assert_eq!(&charge, &before),
                    Ok(_) => {}
                }
            }
            prop_assert!(applied <= 1);
            prop_assert_eq!(applied == 1, charge.status() == ChargeStatus::Paid);
        }
    }
}
