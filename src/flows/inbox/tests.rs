use super::*;
use crate::providers::whatsapp::Content;
use crate::providers::whatsapp::{InboundMessage, WaMessageId, WhatsAppEvent};
use crate::store::InboxRow;

fn message(id: &str, content: Content) -> InboundMessage {
    InboundMessage {
        id: WaMessageId::parse(id).unwrap(),
        customer: CustomerId::parse("6281").unwrap(),
        name: Some("Budi".into()),
        sent_at: Some(4),
        content,
    }
}

#[test]
fn a_message_always_derives_the_same_order_id() {
    let message = Queued {
        event_id: "message:wamid.ABC".into(),
        received_at: 1_700_000_000_123,
        message: message("wamid.ABC", Content::Text("beli a".into())),
    };
    let again = message.clone();
    assert_eq!(message.order_id(), again.order_id());
    let other = Queued { event_id: "message:wamid.ABD".into(), ..message.clone() };
    assert_ne!(message.order_id(), other.order_id());
}

#[test]
fn the_stored_payload_round_trips() {
    let inbound = message("wamid.X", Content::Choice { id: "beli a".into(), title: "A".into() });
    let (event_id, payload) = record_of(&WhatsAppEvent::Message(inbound.clone()));
    let row = InboxRow { event_id, received_at: 5, customer: Some("6281".into()), payload };
    let queued = Queued::from_row(&row).unwrap();
    assert_eq!(queued.message, inbound, "the same message, whole");
    assert!(Queued::from_row(&InboxRow { payload: "{".into(), ..row }).is_err());
}

#[test]
fn a_message_stored_by_an_earlier_build_is_still_answered() {
    let row = InboxRow {
        event_id: "message:wamid.OLD".into(),
        received_at: 5,
        customer: Some("6281".into()),
        payload: r#"{"customer":"6281","name":null,"sent_at":4,"content":{"type":"text","value":"saldo"}}"#.into(),
    };
    let queued = Queued::from_row(&row).unwrap();
    assert_eq!(queued.message.id.as_str(), "wamid.OLD");
    assert_eq!(queued.message.content, Content::Text("saldo".into()));
}

mod conversations_restart {
    //! A conversation's actor that dies is started again with its waiting messages, in order,
    //! within the restart budget; past it, the customer is parked, their messages kept in order
    //! until the budget's window ends.

    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use actix::{Actor, ActorContext, Addr, Context, Handler};
    use tokio::sync::mpsc;
    use warung_actors::domain::CustomerId;
    use warung_actors::supervisor::RestartBudget;

    use super::super::conversations::{Answer, Conversations, Pushed};
    use super::super::Queued;
    use super::message;
    use crate::providers::whatsapp::Content;

    /// Answers by saying the message's text; the first "boom" it is given panics it.
    struct Echo {
        conversations: Arc<Conversations<Echo>>,
        exploded: Arc<AtomicBool>,
        said: mpsc::UnboundedSender<String>,
    }

    impl Actor for Echo {
        type Context = Context<Self>;
    }

    impl Handler<Answer> for Echo {
        type Result = ();

        fn handle(&mut self, Answer(queued): Answer, ctx: &mut Context<Self>) {
            let Content::Text(text) = &queued.message.content else { panic!("a text") };
            if text == "boom" && !self.exploded.swap(true, Ordering::SeqCst) {
                let _ = self.said.send("dying".into());
                panic!("a bug outside the answer's guard");
            }
            let _ = self.said.send(text.clone());
            if self.conversations.answered(queued.customer(), &queued.event_id, Duration::from_micros(3), 0) {
                ctx.stop();
            }
        }
    }

    struct Fixture {
        conversations: Arc<Conversations<Echo>>,
        exploded: Arc<AtomicBool>,
        said_to: mpsc::UnboundedSender<String>,
        said: mpsc::UnboundedReceiver<String>,
    }

    impl Fixture {
        fn new(restarts_max: u32) -> Fixture {
            let budget = RestartBudget { restarts_max, window: Duration::from_secs(60) };
            let (said_to, said) = mpsc::unbounded_channel();
            Fixture {
                conversations: Arc::new(Conversations::new(budget)),
                exploded: Arc::new(AtomicBool::new(false)),
                said_to,
                said,
            }
        }

        fn start(&self, _: &CustomerId) -> Addr<Echo> {
            let echo = Echo {
                conversations: self.conversations.clone(),
                exploded: self.exploded.clone(),
                said: self.said_to.clone(),
            };
            echo.start()
        }

        fn push(&self, id: &str, text: &str) -> Pushed {
            let queued = Queued {
                event_id: format!("message:{id}"),
                received_at: 1,
                message: message(id, Content::Text(text.into())),
            };
            self.conversations.push(queued, 0, &|customer| self.start(customer))
        }

        async fn said(&mut self, count: usize) -> Vec<String> {
            let mut said = Vec::new();
            for _ in 0..count {
                said.push(self.said.recv().await.expect("the actor speaks"));
            }
            said
        }
    }

    #[actix_rt::test]
    async fn a_conversation_whose_actor_dies_is_started_again_with_its_messages_in_order() {
        let mut fixture = Fixture::new(1);
        assert_eq!(fixture.push("wamid.1", "boom"), Pushed::Queued);
        assert_eq!(fixture.push("wamid.2", "halo"), Pushed::Queued);
        assert_eq!(fixture.said(1).await, ["dying"]);
        assert!(!fixture.conversations.is_empty(), "its messages still wait");

        fixture.conversations.restart_dead(0, &|customer| fixture.start(customer));
        assert_eq!(fixture.said(2).await, ["boom", "halo"], "the same messages, in order");
        assert_eq!(fixture.conversations.crashes_total(), 1);
        tokio::task::yield_now().await;
        assert!(fixture.conversations.is_empty(), "answered, and stopped");
    }

    #[actix_rt::test]
    async fn a_new_message_to_a_dead_conversation_starts_it_again_behind_the_waiting_ones() {
        let mut fixture = Fixture::new(1);
        fixture.push("wamid.1", "boom");
        assert_eq!(fixture.said(1).await, ["dying"]);
        assert_eq!(fixture.push("wamid.2", "saldo"), Pushed::Queued);
        assert_eq!(fixture.said(2).await, ["boom", "saldo"]);
        let reports = fixture.conversations.reports();
        assert!(reports.iter().all(|report| report.incarnation == 2), "{reports:?}");
    }

    #[actix_rt::test]
    async fn a_conversation_that_dies_past_its_budget_is_parked_with_its_messages_until_the_window_ends() {
        let mut fixture = Fixture::new(0);
        fixture.push("wamid.1", "boom");
        assert_eq!(fixture.said(1).await, ["dying"]);
        assert_eq!(fixture.push("wamid.2", "saldo"), Pushed::Parked);
        assert_eq!(fixture.push("wamid.3", "halo"), Pushed::Parked);

        let window_ms = 60_000;
        fixture.conversations.restart_dead(window_ms - 1, &|customer| fixture.start(customer));
        tokio::task::yield_now().await;
        assert!(fixture.said.try_recv().is_err(), "still parked: nothing answered");
        assert!(!fixture.conversations.is_empty(), "its messages wait");

        fixture.conversations.restart_dead(window_ms, &|customer| fixture.start(customer));
        assert_eq!(fixture.said(3).await, ["boom", "saldo", "halo"], "all of them, in order");
    }
}
