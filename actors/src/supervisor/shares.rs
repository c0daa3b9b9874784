//! Stock moved between a product and one of its shares (`ProductCode::share`: a product of its
//! own that sells part of the product's stock in another lane), as two commands under one
//! reference: a move out of one, stored, then a move in to the other, stored. Every row is then
//! written by one lane at a time, the second write acknowledged after the first, which the
//! store's one projection needs of rows two lanes write.

use rand::Rng;

use super::Lanes;
use crate::domain::{ActorName, ProductCode, Quantity, Reference};
use crate::journal::Record;
use crate::product::{MoveIn, MoveOut, ProductRejection};
use crate::runtime::CallError;

/// How a move's reference starts: `move:<to>:<random>`. It names where the units go, so recovery
/// can finish a move found out of one product and not yet in the other.
const MOVE_REFERENCE_PREFIX: &str = "move:";

/// How many times a move in is sent before its error is answered; past it, the caller finishes
/// the move later (`finish_move`), or the next start does.
const MOVE_IN_TRIES_MAX: u32 = 20;

/// The wait between two tries of a move in: a busy journal drains within a few commits.
const MOVE_IN_RETRY_WAIT: std::time::Duration = std::time::Duration::from_millis(25);

impl<R: Record> Lanes<R> {
    /// Moves up to `quantity` units from `from` to `to` (a product and its share, either way)
    /// under `reference` (`move_reference(to)`), and answers what moved once both sides have
    /// stored it: fewer when fewer are available, none when none are. A move cut short (an
    /// error, a restart) is finished by `finish_move` under the same reference.
    pub async fn move_stock(
        &self,
        from: &ProductCode,
        to: &ProductCode,
        reference: Reference,
        quantity: Quantity,
    ) -> Result<Result<Quantity, ProductRejection>, CallError> {
        self.move_under(from, to, reference, quantity).await
    }

    /// Finishes a move found out of `from` and not in its destination (the reference names it):
    /// both commands again, each answering its first outcome where it was applied.
    pub async fn finish_move(
        &self,
        from: &ProductCode,
        reference: Reference,
        quantity: Quantity,
    ) -> Result<Result<Quantity, ProductRejection>, CallError> {
        let Some(to) = move_destination(&reference) else {
            return Ok(Err(ProductRejection::MoveBetweenUnrelatedProducts));
        };
        self.move_under(from, &to, reference, quantity).await
    }

    async fn move_under(
        &self,
        from: &ProductCode,
        to: &ProductCode,
        reference: Reference,
        quantity: Quantity,
    ) -> Result<Result<Quantity, ProductRejection>, CallError> {
        let actor = ActorName::from("shares");
        let out = MoveOut { reference: reference.clone(), quantity, to: to.clone(), actor: actor.clone() };
        let moved = match self.product(from, out).await? {
            Ok(out) => out.moved,
            Err(rejection) => return Ok(Err(rejection)),
        };
        let units = moved.quantity();
        if units == 0 {
            return Ok(Ok(0));
        }
        // The units are out of `from` now: the move in is tried again (it is idempotent) until it
        // lands or is refused, so a busy journal or a failed commit does not leave them in no
        // seller until the next start.
        let command = MoveIn { reference, moved, from: from.clone(), actor };
        let mut tries = 1;
        loop {
            match self.product(to, command.clone()).await {
                Err(error) if tries < MOVE_IN_TRIES_MAX && !matches!(error, CallError::NotFound) => {
                    tries += 1;
                    tokio::time::sleep(MOVE_IN_RETRY_WAIT).await;
                }
                answer => return Ok(answer?.map(|_| units)),
            }
        }
    }
}

/// A new move's reference: `move:<to>:<random>`, so it names where its units go.
pub fn move_reference(to: &ProductCode) -> Reference {
    let random: u64 = rand::rng().random();
    Reference::parse(&format!("{MOVE_REFERENCE_PREFIX}{to}:{random:016x}"))
        .expect("a product code and hex make a reference")
}

/// Where the move under `reference` takes its units.
pub fn move_destination(reference: &Reference) -> Option<ProductCode> {
    let rest = reference.as_str().strip_prefix(MOVE_REFERENCE_PREFIX)?;
    let (to, _) = rest.rsplit_once(':')?;
    ProductCode::parse_stored(to).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moves_reference_names_its_destination() {
        let share = ProductCode::parse("kopi").unwrap().share(2);
        let reference = Reference::parse(&format!("move:{share}:00000000000000ff")).unwrap();
        assert_eq!(move_destination(&reference), Some(share));
        assert_eq!(move_destination(&Reference::parse("restock:kopi").unwrap()), None);
        assert_eq!(move_destination(&Reference::parse("move:bad.code:1").unwrap()), None);
    }
}
