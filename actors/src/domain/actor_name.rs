//! Who made a change, as the inventory movements and the ledger record it.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::ids::shared;

/// Who made a change, as the inventory movements and the ledger record it (`customer:<id>`,
/// `admin:<name>`, `payment:<id>`, `system`). Free text, not parsed: it is written by the engine,
/// never typed by a customer. Shared, not copied: a sale names it in its reservation, its debit and
/// its commit, and their rows.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct ActorName(Arc<str>);

impl ActorName {
    /// `<kind>:<id>`, in one allocation: formatted on the stack, as the engine's ids are (every
    /// sale names its customer so).
    pub fn of(kind: &str, id: &str) -> ActorName {
        ActorName(shared(format_args!("{kind}:{id}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for ActorName {
    fn from(name: &str) -> ActorName {
        ActorName(Arc::from(name))
    }
}

impl From<String> for ActorName {
    fn from(name: String) -> ActorName {
        ActorName(Arc::from(name))
    }
}

impl From<ActorName> for String {
    fn from(name: ActorName) -> String {
        name.0.as_ref().to_owned()
    }
}

impl std::ops::Deref for ActorName {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for ActorName {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<String> for ActorName {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<&str> for ActorName {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl fmt::Display for ActorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ActorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::STACK_TEXT_LEN_MAX;

    #[test]
    fn an_actor_name_joins_its_kind_and_id_whatever_their_length() {
        assert_eq!(ActorName::of("customer", "6281234567890"), "customer:6281234567890");
        assert_eq!(ActorName::of("admin", "budi-ñandú").as_str(), "admin:budi-ñandú");
        let long = "x".repeat(STACK_TEXT_LEN_MAX);
        assert_eq!(ActorName::of("payment", &long).to_string(), format!("payment:{long}"));
        let exact = "y".repeat(STACK_TEXT_LEN_MAX - "payment:".len());
        assert_eq!(ActorName::of("payment", &exact).len(), STACK_TEXT_LEN_MAX);
        assert_eq!(serde_json::to_string(&ActorName::from("system")).unwrap(), "\"system\"");
    }
}
