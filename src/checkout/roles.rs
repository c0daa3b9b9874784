//! Customer roles, set by an admin: a reseller pays a product's reseller price where it has
//! one. Held in memory (a shop has few resellers) so a purchase never reads the store for it.

use warung_actors::domain::CustomerId;
use warung_actors::product::PriceTier;

use super::{AuditRow, Checkout, CheckoutError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Reseller,
    /// Runs the shop; buys at member prices.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Reseller => "reseller",
            Role::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "member" => Some(Role::Member),
            "reseller" => Some(Role::Reseller),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn tier(self) -> PriceTier {
        match self {
            Role::Reseller => PriceTier::Reseller,
            Role::Member | Role::Admin => PriceTier::Member,
        }
    }
}

impl Checkout {
    /// Reads every stored role, forgetting any no longer stored: at start, and again whenever
    /// another node of a cluster changed them.
    pub async fn load_roles(&self) -> Result<(), CheckoutError> {
        let mut stored = std::collections::HashMap::new();
        for (customer, role) in self.inner.store.roles().await? {
            match Role::parse(&role) {
                Some(role) => {
                    stored.insert(customer, role);
                }
                None => tracing::warn!(customer = %customer.masked(), role, "unknown stored role ignored"),
            }
        }
        self.inner.roles.retain(|customer, _| stored.contains_key(customer));
        for (customer, role) in stored {
            self.remember_role(customer, role);
        }
        Ok(())
    }

    pub fn role_of(&self, customer: &CustomerId) -> Role {
        // Most shops have no roles at all: a purchase then skips the map.
        if !self.inner.any_role.load(std::sync::atomic::Ordering::Relaxed) {
            return Role::Member;
        }
        self.inner.roles.get(customer).map(|r| *r).unwrap_or(Role::Member)
    }

    /// Customers given the `admin` role: they run the shop from the chat and get its alerts.
    pub fn admins(&self) -> Vec<CustomerId> {
        let mut admins: Vec<CustomerId> =
            self.inner.roles.iter().filter(|r| *r.value() == Role::Admin).map(|r| r.key().clone()).collect();
        admins.sort();
        admins
    }

    fn remember_role(&self, customer: CustomerId, role: Role) {
        self.inner.roles.insert(customer, role);
        self.inner.any_role.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Stores the role with its audit row, then applies it to later purchases.
    pub async fn set_role(&self, customer: &CustomerId, role: Role, admin: &str) -> Result<(), CheckoutError> {
        let before = self.role_of(customer);
        let audit = AuditRow {
            admin: admin.to_string(),
            action: "set_role".into(),
            subject: customer.to_string(),
            before: before.as_str().into(),
            after: role.as_str().into(),
            reason: String::new(),
            at: self.inner.clock.now(),
        };
        self.inner.store.set_role(customer, role.as_str(), &audit).await?;
        self.remember_role(customer.clone(), role);
        Ok(())
    }
}
