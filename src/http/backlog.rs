//! How many connections wait on a listener before the server accepts them.

use std::net::TcpListener;

/// Connections the kernel queues on a listener before the server accepts them (the kernel caps
/// it at `net.core.somaxconn`, 4096 on these machines). A flash sale opens thousands at once;
/// past the standard library's 128, the kernel drops a new connection's SYN, and the buyer's
/// client waits a second or more to try again, or gives up.
pub const HTTP_LISTEN_BACKLOG: i32 = 4096;

/// Lengthens a listener's queue to `HTTP_LISTEN_BACKLOG`, whoever bound it: listening again on
/// a listening socket only changes the length of its queue.
pub fn widen(listener: &TcpListener) -> std::io::Result<()> {
    rustix::net::listen(listener, HTTP_LISTEN_BACKLOG)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::net::TcpStream;
    use std::time::Duration;

    use super::*;

    /// Connections opened at once against a listener that has not accepted any yet: well past the
    /// standard library's queue of 128, and well within a common open-files limit of 1,024.
    const AT_ONCE: usize = 500;

    // Reads the kernel's cap from /proc: Linux, the machines warung runs on.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_listener_queues_five_hundred_connections_before_any_is_accepted() {
        let somaxconn: usize = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0);
        assert!(
            somaxconn >= AT_ONCE,
            "net.core.somaxconn is {somaxconn}; the kernel would cap the queue below {AT_ONCE}"
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        widen(&listener).unwrap();
        let address = listener.local_addr().unwrap();
        // Nothing accepts: each connection the kernel completes waits in the listener's queue,
        // and one it has no room for is not completed (its SYN is dropped), so it times out.
        let mut queued = Vec::new();
        for _ in 0..AT_ONCE {
            match TcpStream::connect_timeout(&address, Duration::from_millis(100)) {
                Ok(stream) => queued.push(stream),
                Err(error) if error.kind() == std::io::ErrorKind::TimedOut => break,
                Err(error) => panic!(
                    "connection {} failed, not for a full queue: {error} (`ulimit -n` must allow {AT_ONCE} more)",
                    queued.len() + 1
                ),
            }
        }
        assert_eq!(queued.len(), AT_ONCE);
    }
}
