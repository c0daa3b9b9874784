//! A customer's conversation as an actor: its mailbox is the customer's queue of messages to
//! answer, handled one at a time (each answer is stored before the next message is looked at),
//! in the order they arrived. It stops when the queue is empty; the next message starts a new one.

use actix::{Actor, ActorContext, ActorFutureExt, AtomicResponse, Context, Handler, WrapFuture};
use warung_actors::domain::CustomerId;

use super::conversations::Answer;
use super::Inbox;

pub struct CustomerActor {
    pub customer: CustomerId,
    pub inbox: Inbox,
}

impl Actor for CustomerActor {
    type Context = Context<Self>;
}

impl Handler<Answer> for CustomerActor {
    /// Atomic: the mailbox waits while a message is answered, so answers keep the messages' order.
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, Answer(message): Answer, _: &mut Context<Self>) -> Self::Result {
        let inbox = self.inbox.clone();
        let event_id = message.event_id.clone();
        let answering = async move { inbox.answer_one(message).await }.into_actor(self);
        AtomicResponse::new(Box::pin(answering.map(move |took, actor, ctx| {
            if actor.inbox.answered(&actor.customer, &event_id, took) {
                ctx.stop();
            }
        })))
    }
}
