//! Services are kept running by the supervisor: a dead one is started again (by the next message
//! sent to it, or by the watch when nothing is sent), within the restart budget, and listed with
//! every other actor. Time is paused: the watch's ticks come when the test waits for them.

use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, Context, Handler, Message};
use tokio::sync::{mpsc, oneshot};

use super::tests::{settings, MemoryStore};
use super::*;

/// A service that says when each of its actors starts, answers `Ping` and panics on `Crash`.
struct Echo {
    stats: Arc<ActorStats>,
    started: mpsc::UnboundedSender<u64>,
}

impl Actor for Echo {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        let _ = self.started.send(self.stats.incarnation);
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Ping(oneshot::Sender<u64>);

impl Handler<Ping> for Echo {
    type Result = ();

    fn handle(&mut self, Ping(answer): Ping, _: &mut Context<Self>) {
        self.stats.handled(Duration::from_micros(5), 0);
        let _ = answer.send(self.stats.incarnation);
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Crash;

impl Handler<Crash> for Echo {
    type Result = ();

    fn handle(&mut self, _: Crash, _: &mut Context<Self>) {
        panic!("a bug in a service");
    }
}

fn start(budget: RestartBudget) -> (Supervisor<()>, Service<Echo>, mpsc::UnboundedReceiver<u64>) {
    let settings = SupervisorSettings { restart_budget: budget, ..settings() };
    let (supervisor, _notices) = Supervisor::start(Arc::new(MemoryStore::default()), Clock::system(), settings);
    let (started, starts) = mpsc::unbounded_channel();
    let service = supervisor.keep_running("echo", 4, move |stats| Echo { stats, started: started.clone() });
    (supervisor, service, starts)
}

async fn ping(service: &Service<Echo>) -> Result<u64, CallError> {
    let (answer, answered) = oneshot::channel();
    service.send(Ping(answer))?;
    Ok(answered.await.expect("the service answers"))
}

const BUDGET: RestartBudget = RestartBudget { restarts_max: 1, window: Duration::from_secs(60) };

#[actix_rt::test]
async fn a_service_that_dies_is_started_again_by_the_next_message() {
    tokio::time::pause();
    let (supervisor, service, mut starts) = start(BUDGET);
    assert_eq!(starts.recv().await, Some(1));
    assert_eq!(ping(&service).await, Ok(1));

    service.send(Crash).unwrap();
    tokio::task::yield_now().await;
    assert_eq!(ping(&service).await, Ok(2), "a new incarnation answers");
    assert_eq!(supervisor.restarts(), 1);
    let listed = supervisor.actors();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((listed[0].kind, listed[0].id.as_str(), listed[0].incarnation), ("service", "echo", 2));
    assert_eq!(service.totals().handled(), 2, "counted over both incarnations");
}

#[actix_rt::test]
async fn a_service_that_dies_with_nothing_sent_to_it_is_started_again_by_the_watch() {
    tokio::time::pause();
    let (supervisor, service, mut starts) = start(BUDGET);
    assert_eq!(starts.recv().await, Some(1));
    service.send(Crash).unwrap();
    // The watch looks every WATCH_EVERY_MS; paused time jumps to its next tick.
    assert_eq!(starts.recv().await, Some(2));
    assert_eq!(supervisor.restarts(), 1);
}

#[actix_rt::test]
async fn a_service_that_keeps_dying_is_quarantined_within_the_restart_budget() {
    tokio::time::pause();
    let (supervisor, service, mut starts) = start(BUDGET);
    assert_eq!(starts.recv().await, Some(1));
    service.send(Crash).unwrap();
    assert_eq!(starts.recv().await, Some(2), "the first crash is within the budget");
    service.send(Crash).unwrap();
    tokio::task::yield_now().await;
    assert!(matches!(ping(&service).await, Err(CallError::Quarantined { .. })));
    assert_eq!(supervisor.restarts(), 2);

    tokio::time::advance(BUDGET.window).await;
    assert_eq!(starts.recv().await, Some(3), "after the window the watch starts it again");
}

#[actix_rt::test]
async fn a_stopping_application_s_services_are_not_started_again() {
    tokio::time::pause();
    let (supervisor, service, mut starts) = start(BUDGET);
    assert_eq!(starts.recv().await, Some(1));
    supervisor.stop_watching();
    service.send(Crash).unwrap();
    tokio::time::sleep(Duration::from_millis(3 * WATCH_EVERY_MS)).await; // paused: the watch ticks thrice
    assert!(starts.try_recv().is_err(), "not started again");
    assert_eq!(supervisor.restarts(), 0, "nor counted as a crash");
}
