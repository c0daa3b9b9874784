//! A submission's ticket and the journal's side of it: one shared allocation per submission.
//!
//! A oneshot channel made shareable (`Shared<BoxFuture<..>>`) took four allocations (the
//! channel, the boxed future, `Shared`'s state and its notifier) and a fifth for its table of
//! wakers once polled; every sale submits two or three. Here the outcome and the wakers of whoever
//! waits for it sit in one place, the common single waiter inline.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};

use super::{JournalError, Outcome};

/// Resolves when a submission is durable, or with the reason it never will be. Clones share the
/// outcome; each can be awaited, and awaited again once resolved.
#[derive(Clone)]
pub struct Ticket(Arc<State>);

/// The journal's end: resolving it resolves every clone of the ticket. Dropped unresolved (the
/// journal stopped), the ticket resolves `Closed`.
pub(super) struct Resolver(Arc<State>);

struct State {
    outcome: OnceLock<Outcome>,
    waiting: Mutex<Waiting>,
}

/// The tasks to wake: nearly always one (the caller's `Held::durable`) or none (an answer given
/// at once), so the first is kept without an allocation. A waker stays until the ticket resolves,
/// even if its task stopped waiting (a ticket resolves within a commit, or when the journal stops).
/// A task that polls again is not added twice.
#[derive(Default)]
struct Waiting {
    first: Option<Waker>,
    more: Vec<Waker>,
}

impl Waiting {
    fn add(&mut self, waker: &Waker) {
        let known = self.first.iter().chain(&self.more).any(|w| w.will_wake(waker));
        match (&self.first, known) {
            (_, true) => {}
            (None, false) => self.first = Some(waker.clone()),
            (Some(_), false) => self.more.push(waker.clone()),
        }
    }
}

/// A ticket and its resolver.
pub(super) fn ticket() -> (Ticket, Resolver) {
    let state = Arc::new(State { outcome: OnceLock::new(), waiting: Mutex::new(Waiting::default()) });
    (Ticket(state.clone()), Resolver(state))
}

impl Ticket {
    /// A ticket whose outcome is already known.
    pub(super) fn resolved(outcome: Outcome) -> Ticket {
        let (ticket, resolver) = ticket();
        resolver.resolve(outcome);
        ticket
    }

    /// The outcome if the ticket has resolved.
    pub fn peek(&self) -> Option<&Outcome> {
        self.0.outcome.get()
    }
}

impl Future for Ticket {
    type Output = Outcome;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        if let Some(outcome) = self.0.outcome.get() {
            return Poll::Ready(outcome.clone());
        }
        let mut waiting = self.0.waiting.lock().expect("ticket lock");
        // Looked at again under the lock: the resolver sets the outcome before it takes the
        // lock to wake, so either it is set now or this waker will be woken.
        if let Some(outcome) = self.0.outcome.get() {
            return Poll::Ready(outcome.clone());
        }
        waiting.add(cx.waker());
        Poll::Pending
    }
}

impl Resolver {
    pub(super) fn resolve(self, outcome: Outcome) {
        self.set(outcome);
    }

    fn set(&self, outcome: Outcome) {
        if self.0.outcome.set(outcome).is_err() {
            return; // resolved already: the first outcome stands
        }
        let waiting = std::mem::take(&mut *self.0.waiting.lock().expect("ticket lock"));
        waiting.first.into_iter().chain(waiting.more).for_each(Waker::wake);
    }
}

impl Drop for Resolver {
    fn drop(&mut self) {
        self.set(Err(JournalError::Closed));
    }
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Ticket").field(&self.peek()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    use std::time::Duration;

    /// A missed wake-up would hang a test; it fails it instead.
    const WAKE_WAIT: Duration = Duration::from_secs(10);

    #[tokio::test]
    async fn every_clone_resolves_with_the_outcome() {
        let (ticket, resolver) = ticket();
        let first = tokio::spawn(ticket.clone());
        let second = tokio::spawn(ticket.clone());
        tokio::task::yield_now().await;
        assert!(ticket.peek().is_none());
        resolver.resolve(Err(JournalError::Fenced));
        let (first, second) = tokio::time::timeout(WAKE_WAIT, async { (first.await, second.await) }).await.unwrap();
        assert_eq!(first.unwrap(), Err(JournalError::Fenced));
        assert_eq!(second.unwrap(), Err(JournalError::Fenced));
        assert_eq!(ticket.clone().await, Err(JournalError::Fenced), "awaited again once resolved");
    }

    #[tokio::test]
    async fn a_dropped_resolver_resolves_closed() {
        let (ticket, resolver) = ticket();
        assert!(ticket.clone().now_or_never().is_none());
        drop(resolver);
        assert_eq!(ticket.peek(), Some(&Err(JournalError::Closed)));
        assert_eq!(ticket.await, Err(JournalError::Closed));
    }

    #[test]
    fn a_ticket_resolved_on_another_thread_wakes_its_waiter() {
        for _ in 0..1_000 {
            let (ticket, resolver) = ticket();
            let resolving = std::thread::spawn(move || resolver.resolve(Ok(())));
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || tx.send(futures::executor::block_on(ticket)));
            assert_eq!(rx.recv_timeout(WAKE_WAIT), Ok(Ok(())));
            resolving.join().unwrap();
        }
    }

    /// The race the second look under the lock closes: the outcome is set after a poll first
    /// looked, and before it took the lock. Without that look, the poll would leave its waker for
    /// a resolver that has already woken everyone, and never be woken.
    #[test]
    fn a_poll_that_finds_the_outcome_set_while_it_waited_for_the_lock_is_ready() {
        let (ticket, _resolver) = ticket();
        let held = ticket.0.waiting.lock().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let polled = ticket.clone();
        std::thread::spawn(move || tx.send(futures::executor::block_on(polled)));
        // Time for the poll to find no outcome and wait for the lock (had it not got there yet,
        // it finds the outcome at its first look, and the test passes without testing the race).
        std::thread::sleep(Duration::from_millis(100));
        ticket.0.outcome.set(Ok(())).unwrap(); // set, and nobody woken: the resolver's first half
        drop(held);
        assert_eq!(rx.recv_timeout(WAKE_WAIT), Ok(Ok(())));
    }

    #[test]
    fn a_task_polling_again_is_kept_once() {
        let (ticket, _resolver) = ticket();
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut polled = ticket.clone();
        assert!(Pin::new(&mut polled).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut polled).poll(&mut cx).is_pending());
        let waiting = ticket.0.waiting.lock().unwrap();
        assert!(waiting.first.is_some());
        assert!(waiting.more.is_empty());
    }
}
