//! One call to an actor: find or activate it, refuse new work at once when its mailbox is full,
//! and try again (safely, every command carrying its caller's id) when it stops under the call.

use actix::{Actor, Handler, MailboxError, Message};

use super::{Handle, Registry, CALL_ATTEMPTS_MAX};
use crate::domain::Clock;
use crate::journal::Incarnation;
use crate::runtime::{Admission, CallError};

/// Sends `msg` to the actor for `key`, activating it if needed and trying again if it stops under
/// the call. At a full mailbox, `Admission::WhenRoom` is refused at once; `Always` waits its turn.
pub(super) async fn call<K, A, G, M, F, Fut>(
    registry: &Registry<K, A, G>,
    key: &K,
    activate: F,
    msg: &M,
    admission: Admission,
    clock: Clock,
) -> Result<(M::Result, Incarnation), CallError>
where
    K: Clone + Eq + std::hash::Hash,
    A: Actor<Context = actix::Context<A>> + Handler<M>,
    M: Message + Clone + Send + 'static,
    M::Result: Send,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Handle<A, G>, CallError>>,
{
    for _ in 0..CALL_ATTEMPTS_MAX {
        let handle = registry.get(key, clock, &activate).await?;
        match admission {
            Admission::WhenRoom if !handle.stats.try_enqueue() => return Err(CallError::Busy),
            Admission::WhenRoom => {}
            // The actix mailbox holds a little more than ours, and a send to a full one waits.
            Admission::Always => handle.stats.enqueue(),
        }
        match handle.addr.send(msg.clone()).await {
            Ok(reply) => return Ok((reply, handle.stats.incarnation)),
            Err(MailboxError::Closed) | Err(MailboxError::Timeout) => {
                handle.stats.dequeue_unhandled();
                if registry.evict(key, &handle, clock.now()) {
                    tracing::error!(actor = %handle.stats.key, "actor crashed; restarting from the store");
                }
            }
        }
    }
    Err(CallError::Stopped)
}
