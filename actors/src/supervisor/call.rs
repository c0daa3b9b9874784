//! One call to an actor: find or activate it, refuse new work at once when its mailbox is full,
//! and try again (safely, every command carrying its caller's id) when it stops under the call.

use actix::prelude::SendError;
use actix::{Actor, Handler, MailboxError, Message};

use super::{Handle, HandleParts, Registry, CALL_ATTEMPTS_MAX};
use crate::domain::Clock;
use crate::runtime::{ActorStats, Admission, CallError};

/// Sends `msg` to the actor for `key`, activating it if needed and trying again if it stops under
/// the call; `first`, when the caller kept the actor's handle (`Known`) and its actor has not been
/// stopped since, is tried before the registry is asked. At a full mailbox, `Admission::WhenRoom` is refused at once; `Always` waits
/// its turn.
pub(super) async fn call<K, A, G, M, F, Fut>(
    registry: &Registry<K, A, G>,
    key: &K,
    mut first: Option<Handle<A, G>>,
    activate: F,
    msg: &M,
    admission: Admission,
    clock: Clock,
) -> Result<M::Result, CallError>
where
    K: Clone + Eq + std::hash::Hash,
    A: Actor<Context = actix::Context<A>> + Handler<M>,
    M: Message + Clone + Send + 'static,
    M::Result: Send,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<HandleParts<A, G>, CallError>>,
{
    for _ in 0..CALL_ATTEMPTS_MAX {
        let handle = match first.take().and_then(Handle::if_running) {
            Some(handle) => handle,
            None => registry.get(key, clock, &activate).await?,
        };
        if !admit(&handle.stats, admission) {
            return Err(CallError::Busy);
        }
        match handle.addr.send(msg.clone()).await {
            Ok(reply) => return Ok(reply),
            Err(MailboxError::Closed) | Err(MailboxError::Timeout) => {
                handle.stats.dequeue_unhandled();
                forget_stopped(registry, key, &handle, clock);
            }
        }
    }
    Err(CallError::Stopped)
}

/// Hands `msg` to the actor for `key` without waiting for it to be handled: for a message that
/// answers through a channel of its own (see `chain`). Activates the actor if needed and tries
/// again if it has stopped; `first` and admission as in `call`.
pub(super) async fn post<K, A, G, M, F, Fut>(
    registry: &Registry<K, A, G>,
    key: &K,
    mut first: Option<Handle<A, G>>,
    activate: F,
    mut msg: M,
    admission: Admission,
    clock: Clock,
) -> Result<(), CallError>
where
    K: Clone + Eq + std::hash::Hash,
    A: Actor<Context = actix::Context<A>> + Handler<M>,
    M: Message + Send + 'static,
    M::Result: Send,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<HandleParts<A, G>, CallError>>,
{
    for _ in 0..CALL_ATTEMPTS_MAX {
        let handle = match first.take().and_then(Handle::if_running) {
            Some(handle) => handle,
            None => registry.get(key, clock, &activate).await?,
        };
        match hand_on(&handle, msg, admission) {
            Ok(()) => return Ok(()),
            Err((_, CallError::Busy)) => return Err(CallError::Busy),
            Err((stopped, _)) => {
                msg = stopped;
                forget_stopped(registry, key, &handle, clock);
            }
        }
    }
    Err(CallError::Stopped)
}

/// Takes an actor that stopped under a call out of the registry, so the next try activates it
/// again from the store.
fn forget_stopped<K, A, G>(registry: &Registry<K, A, G>, key: &K, handle: &Handle<A, G>, clock: Clock)
where
    K: Clone + Eq + std::hash::Hash,
    A: Actor,
{
    if registry.evict(key, handle, clock.now()) {
        tracing::error!(actor = %handle.stats.key, "actor crashed; restarting from the store");
    }
}

/// Hands `msg` to an active actor without waiting for it to be handled (from a caller, or from
/// another actor's turn). Refused, the message comes back with why: `Busy` when `WhenRoom` finds
/// the mailbox full, `Stopped` when the actor has stopped.
pub(super) fn hand_on<A, G, M>(handle: &Handle<A, G>, msg: M, admission: Admission) -> Result<(), (M, CallError)>
where
    A: Actor<Context = actix::Context<A>> + Handler<M>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    if !admit(&handle.stats, admission) {
        return Err((msg, CallError::Busy));
    }
    match handle.addr.try_send(msg) {
        Ok(()) => Ok(()),
        // Our count admitted it: the actix mailbox, a little larger, takes it past its limit.
        Err(SendError::Full(msg)) => {
            handle.addr.do_send(msg);
            Ok(())
        }
        Err(SendError::Closed(msg)) => {
            handle.stats.dequeue_unhandled();
            Err((msg, CallError::Stopped))
        }
    }
}

/// Counts a message into the actor's mailbox; false if `WhenRoom` finds it full.
fn admit(stats: &ActorStats, admission: Admission) -> bool {
    match admission {
        Admission::WhenRoom => stats.try_enqueue(),
        // The actix mailbox holds a little more than ours, and a send to a full one waits.
        Admission::Always => {
            stats.enqueue();
            true
        }
    }
}
