//! One inbound message in, one answer out: the command is parsed, the engine acts, the reply is
//! worded. Payment by QRIS (a purchase or a top up) or bank transfer is handed back as a
//! `PaymentRequest` for the payments side to charge; an admin number's owner command is handed
//! back as it is (`Answer::Owner`), for the owner's desk. A customer who types an owner command
//! gets the ordinary "not recognised": nothing hints that they exist.
//!
//! Every purchase a message starts takes the order id its caller chose for the message, so the
//! same message answered twice (after a restart) finds its order instead of buying again.

use warung_actors::domain::{CustomerId, Money, OrderId, ProductCode, Quantity};

use super::command::{is_command_word, Command, CommandError, Payment};
use super::reply::{self, ProductLine};
use std::sync::Arc;

use crate::checkout::{PaymentMethod, Role};
use crate::flows::owner::OwnerCommand;
use crate::store::ChargeMethod;

use crate::catalog::Catalog;
use crate::checkout::{Checkout, CheckoutError, OrderRow, OrderState, PendingOrder};
use crate::cluster::Actors;
use crate::infra::rate_limit::{PurchaseLimiter, Verdict};
use crate::providers::whatsapp::{Choice, Content, LIST_ROWS_MAX};
use crate::shop::Shop;
use crate::store::ChatReads;

/// Orders `riwayat` shows, newest first.
pub const HISTORY_ORDERS_SHOWN: i64 = 5;

/// Products one listing shows; a WhatsApp text holds at most 4,096 characters.
pub const PRODUCTS_LISTED_MAX: usize = 40;

#[derive(Debug, PartialEq)]
pub enum Answer {
    Text(String),
    /// A text with choices to tap (products to buy), shown as a WhatsApp list; the text alone
    /// says everything, for clients that show no lists.
    Choices {
        text: String,
        choices: Vec<Choice>,
    },
    /// A text with up to three buttons to tap.
    Buttons {
        text: String,
        buttons: Vec<Choice>,
    },
    Payment(PaymentRequest),
    /// An admin number's command, for the owner's desk; or why it could not be read.
    Owner(Result<OwnerCommand, crate::flows::owner::OwnerCommandError>),
}

#[derive(Debug, PartialEq)]
pub enum PaymentRequest {
    Purchase {
        order: OrderId,
        product: ProductCode,
        quantity: Quantity,
    },
    /// The same purchase for a bank transfer the owner confirms.
    Transfer {
        order: OrderId,
        product: ProductCode,
        quantity: Quantity,
    },
    /// The same purchase message again (the last run stopped before its replies were stored):
    /// its order waits for payment already, and its QR (or account) may never have gone out.
    Resume(PendingOrder, ChargeMethod),
    TopUp {
        payment: OrderId,
        amount: Money,
    },
}

/// What a conversation reads and acts through.
#[derive(Clone)]
pub struct Conversation {
    /// Orders, for a repeated message, `riwayat` and `status`.
    pub store: Arc<dyn ChatReads>,
    pub checkout: Checkout,
    /// Products' prices and stock as their actors have them, for listings.
    /// The product and wallet actors, here or on the nodes that own them.
    pub actors: Actors,
    pub catalog: Catalog,
    pub limiter: Arc<PurchaseLimiter>,
    pub shop: Arc<Shop>,
    /// Whether the shop takes bank transfers (its account is configured).
    pub transfer_offered: bool,
}

impl Conversation {
    /// Answers `content` from `customer`; a purchase it starts takes the id `order`.
    pub async fn answer(&self, customer: &CustomerId, content: &Content, order: OrderId) -> Answer {
        let text = match content {
            Content::Text(text) => text.as_str(),
            Content::Choice { id, .. } => id.as_str(),
            Content::TemplateButton { payload, .. } => payload.as_str(),
            Content::Media { .. } | Content::Unsupported { .. } => return Answer::Text(reply::text_only()),
        };
        if self.is_admin(customer) {
            if let Some(owner) = OwnerCommand::parse(text) {
                return Answer::Owner(owner);
            }
        }
        let command = match Command::parse(text) {
            Ok(command) => command,
            Err(CommandError::UnknownCommand { word }) if text.split_whitespace().count() == 1 => {
                return match self.offer(&word).await {
                    Some(offer) => offer,
                    None => Answer::Text(reply::not_a_command(&CommandError::UnknownCommand { word })),
                };
            }
            Err(error) => return Answer::Text(reply::not_a_command(&error)),
        };
        let text = match command {
            Command::Menu | Command::Greeting => {
                let lines = self.product_lines().await;
                let shop = self.shop.values();
                let menu = reply::menu(&shop.shop_name, &shop.welcome_message, &lines, self.transfer_offered);
                return with_choices(menu, &lines);
            }
            Command::Thanks => reply::thanks(&self.shop.values().shop_name),
            Command::Products => {
                let lines = self.product_lines().await;
                return with_choices(reply::product_list(&lines), &lines);
            }
            Command::Buy { product, quantity, payment } => {
                match self.store.order(&order).await {
                    Ok(Some(row)) if row.state == OrderState::AwaitingPayment && payment != Payment::Saldo => {
                        let method = match row.method {
                            PaymentMethod::Transfer => ChargeMethod::Transfer,
                            _ => ChargeMethod::Qris,
                        };
                        let pending = PendingOrder { order, total: row.total, expires_at: row.expires_at };
                        return Answer::Payment(PaymentRequest::Resume(pending, method));
                    }
                    Ok(Some(row)) => return Answer::Text(self.answered_before(&row).await),
                    Ok(None) => {}
                    Err(error) => return Answer::Text(reply::checkout_failed(&CheckoutError::from(error))),
                }
                // An unknown code is a typo, not a purchase: it does not count against the limit.
                if !self.catalog.contains(&product) {
                    return Answer::Text(reply::checkout_failed(&CheckoutError::ProductNotFound));
                }
                if let Verdict::Limited { retry_after_secs } = self.limiter.check(customer).await {
                    return Answer::Text(reply::slow_down(retry_after_secs));
                }
                match payment {
                    Payment::Qris => return Answer::Payment(PaymentRequest::Purchase { order, product, quantity }),
                    Payment::Transfer => return Answer::Payment(PaymentRequest::Transfer { order, product, quantity }),
                    Payment::Saldo => {}
                }
                match self.checkout.buy_with_saldo_as(order, customer, &product, quantity).await {
                    Ok(purchase) => reply::purchased(&purchase),
                    Err(error) => reply::checkout_failed(&error),
                }
            }
            Command::TopUp { amount } => {
                if let Verdict::Limited { retry_after_secs } = self.limiter.check(customer).await {
                    return Answer::Text(reply::slow_down(retry_after_secs));
                }
                return Answer::Payment(PaymentRequest::TopUp { payment: order, amount });
            }
            Command::Balance => match self.checkout.balance(customer).await {
                Ok(balance) => reply::balance(&balance),
                Err(error) => reply::checkout_failed(&error),
            },
            Command::History => match self.store.orders_of(customer, HISTORY_ORDERS_SHOWN).await {
                Ok(orders) => reply::history(&orders),
                Err(error) => reply::checkout_failed(&CheckoutError::from(error)),
            },
            Command::Status { order: None } => match self.checkout.open_order(customer) {
                None => reply::no_open_order(),
                Some(order) => match self.store.order(&order).await {
                    Ok(Some(row)) => self.answered_before(&row).await,
                    Ok(None) => reply::no_open_order(),
                    Err(error) => reply::checkout_failed(&CheckoutError::from(error)),
                },
            },
            Command::Status { order: Some(order) } => match self.store.order(&order).await {
                // Another customer's order is not found, not forbidden: ids are not to be probed. Its
                // owner sees a paid order's items again (a lost reply, a new phone).
                Ok(Some(row)) if row.customer == *customer => self.answered_before(&row).await,
                Ok(_) => reply::order_not_found(),
                Err(error) => reply::checkout_failed(&CheckoutError::from(error)),
            },
            Command::Cancel => match self.checkout.open_order(customer) {
                None => reply::nothing_to_cancel(),
                Some(order) => match self.checkout.cancel(&order).await {
                    Ok(()) => reply::cancelled(&order),
                    Err(error) => reply::checkout_failed(&error),
                },
            },
        };
        Answer::Text(text)
    }

    /// Admin numbers, and customers an admin gave the `admin` role.
    fn is_admin(&self, customer: &CustomerId) -> bool {
        self.shop.is_admin_number(customer) || self.checkout.role_of(customer) == Role::Admin
    }

    /// A product code typed alone: its name, price and stock, with a button per way to pay.
    async fn offer(&self, word: &str) -> Option<Answer> {
        if is_command_word(word) {
            return None;
        }
        let code = ProductCode::parse(word).ok().filter(|code| self.catalog.contains(code))?;
        let snapshot = self.catalog.snapshot(&code).await.ok().filter(|s| s.active)?;
        let line = ProductLine { code, name: snapshot.name, price: snapshot.price, available: snapshot.available };
        if line.available <= 0 {
            return Some(Answer::Text(reply::offer_sold_out(&line)));
        }
        Some(Answer::Buttons { text: reply::offer(&line), buttons: reply::offer_buttons(&line, self.transfer_offered) })
    }

    /// The answer to a purchase message whose order exists: the order as it stands, with its items.
    async fn answered_before(&self, row: &OrderRow) -> String {
        match self.store.delivered_items(&row.id).await {
            Ok(items) => reply::order_with_items(row, &items),
            Err(error) => reply::checkout_failed(&CheckoutError::from(error)),
        }
    }

    /// Active products from their actors (price and stock as they are now), by code.
    async fn product_lines(&self) -> Vec<ProductLine> {
        let codes = self.catalog.codes();
        let mut lines = Vec::new();
        for code in codes {
            if lines.len() == PRODUCTS_LISTED_MAX {
                break;
            }
            match self.catalog.snapshot(&code).await {
                Ok(snapshot) if snapshot.active => lines.push(ProductLine {
                    code,
                    name: snapshot.name,
                    price: snapshot.price,
                    available: snapshot.available,
                }),
                Ok(_) => {}
                Err(error) => tracing::warn!(product = %code, %error, "product left out of a listing"),
            }
        }
        lines
    }
}

fn with_choices(text: String, lines: &[ProductLine]) -> Answer {
    let choices: Vec<Choice> =
        lines.iter().filter(|l| l.available > 0).take(LIST_ROWS_MAX).map(reply::product_choice).collect();
    if choices.is_empty() {
        Answer::Text(text)
    } else {
        Answer::Choices { text, choices }
    }
}
