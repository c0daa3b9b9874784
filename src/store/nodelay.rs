//! TCP_NODELAY on the store's Postgres connections, and limits that find a dead peer.
//!
//! sqlx 0.9.0 opens its TCP sockets without it (a regression upstream: sqlx issue 4335, fixed by
//! pull request 4336, not in a release yet). Over TLS a batch leaves as several records, one
//! write each, and Nagle's algorithm holds the last one back until the server's delayed ACK:
//! about 40 ms per round trip. Measured on loopback, the lab's durable purchases fell from about
//! 7,800/s to 660/s with TLS. sqlx gives no access to its socket, so once a connection is made we
//! find it: the server says which client port the connection has (`inet_client_port()`),
//! `/proc` says which of this process's descriptors is the socket bound to that port, and
//! `pidfd_getfd` gives us a copy of that descriptor to set the option on (an option belongs to
//! the socket, not to the descriptor). Remove the option once sqlx sets it itself.
//!
//! The same descriptor gets keepalive probes and a `TCP_USER_TIMEOUT`: sqlx has no client-side
//! timeout on a statement, so a database host that vanished without closing the socket (power
//! lost, a partition) left a statement waiting forever, and with it the journal's append (and
//! every batch behind it) or the projector. With these the socket fails within about
//! `STORE_DEAD_PEER_SECS`, and the append's lost-commit check takes it from there. A slow server
//! trips neither: its kernel answers the probes and acknowledges what was sent while its
//! backend works.

use std::collections::HashSet;
use std::time::Duration;

use sqlx::postgres::PgConnection;

/// Idle time before the first keepalive probe of a store connection.
const STORE_KEEPALIVE_IDLE: Duration = Duration::from_secs(10);
/// Time between keepalive probes.
const STORE_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
/// Unanswered probes after which the connection is dropped: idle plus interval times probes,
/// 25 s, before a waiting statement fails.
const STORE_KEEPALIVE_PROBES: u32 = 3;
/// How long data sent may go unacknowledged before the connection is dropped: a statement sent
/// to a host that is gone fails after this.
const STORE_DEAD_PEER_SECS: u32 = 30;

/// Sets TCP_NODELAY and the dead-peer limits on `connection`'s socket. Failing to is not an error: the connection works,
/// only slower over TLS; it is logged.
pub(crate) async fn set_on(connection: &mut PgConnection) -> Result<(), sqlx::Error> {
    let (port,): (Option<i32>,) = sqlx::query_as("SELECT inet_client_port()").fetch_one(&mut *connection).await?;
    // None: a Unix socket, which has no Nagle.
    let Some(port) = port.and_then(|p| u16::try_from(p).ok()) else { return Ok(()) };
    match set_for_local_port(port) {
        Ok(0) => tracing::debug!(port, "no socket found to set TCP_NODELAY on"),
        Ok(_) => {}
        Err(error) => tracing::debug!(%error, port, "could not set TCP_NODELAY on a store connection"),
    }
    Ok(())
}

/// Sets the option on every socket of this process bound to local `port`; how many it set.
fn set_for_local_port(port: u16) -> std::io::Result<usize> {
    let inodes = inodes_bound_to(port)?;
    if inodes.is_empty() {
        return Ok(0);
    }
    let me = rustix::process::pidfd_open(rustix::process::getpid(), rustix::process::PidfdFlags::empty())?;
    let mut set = 0;
    for entry in std::fs::read_dir("/proc/self/fd")? {
        let entry = entry?;
        let Ok(target) = std::fs::read_link(entry.path()) else { continue };
        let target = target.to_string_lossy();
        let Some(inode) = target.strip_prefix("socket:[").and_then(|t| t.strip_suffix(']')) else { continue };
        if !inodes.contains(inode) {
            continue;
        }
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let copy = rustix::process::pidfd_getfd(&me, fd, rustix::process::PidfdGetfdFlags::empty())?;
        rustix::net::sockopt::set_tcp_nodelay(&copy, true)?;
        set_dead_peer_limits(&copy)?;
        set += 1;
    }
    Ok(set)
}

fn set_dead_peer_limits(socket: &rustix::fd::OwnedFd) -> std::io::Result<()> {
    use rustix::net::sockopt;
    sockopt::set_socket_keepalive(socket, true)?;
    sockopt::set_tcp_keepidle(socket, STORE_KEEPALIVE_IDLE)?;
    sockopt::set_tcp_keepintvl(socket, STORE_KEEPALIVE_INTERVAL)?;
    sockopt::set_tcp_keepcnt(socket, STORE_KEEPALIVE_PROBES)?;
    sockopt::set_tcp_user_timeout(socket, STORE_DEAD_PEER_SECS * 1_000)?;
    Ok(())
}

/// The inodes of the TCP sockets (IPv4 and IPv6) whose local port is `port`.
fn inodes_bound_to(port: u16) -> std::io::Result<HashSet<String>> {
    let mut inodes = HashSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else { continue };
        inodes.extend(inodes_in(&text, port));
    }
    Ok(inodes)
}

/// `/proc/net/tcp`: `sl local_address rem_address st ... uid timeout inode`, the address as
/// `HEXIP:HEXPORT`.
fn inodes_in(table: &str, port: u16) -> Vec<String> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields.get(1)?.rsplit_once(':')?.1;
            (u16::from_str_radix(local_port, 16).ok()? == port).then(|| fields.get(9).map(|i| i.to_string()))?
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sockets_inode_is_found_by_its_local_port() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
                     0: 0100007F:1538 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000   0        0 4242 1 0 20 4 30 10 -1\n\
                     1: 0100007F:A1B2 0100007F:1538 01 00000000:00000000 00:00000000 00000000   0        0 4343 1 0 20 4 30 10 -1\n";
        assert_eq!(inodes_in(table, 0xA1B2), vec!["4343".to_string()]);
        assert_eq!(inodes_in(table, 5432), vec!["4242".to_string()]);
        assert!(inodes_in(table, 1).is_empty());
    }

    #[test]
    fn this_process_sets_the_options_on_its_own_socket() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        assert!(!stream.nodelay().unwrap());
        let port = stream.local_addr().unwrap().port();
        assert_eq!(set_for_local_port(port).unwrap(), 1);
        assert!(stream.nodelay().unwrap(), "the option is on the socket, seen through the original descriptor");
        use rustix::net::sockopt;
        assert!(sockopt::socket_keepalive(&stream).unwrap());
        assert_eq!(sockopt::tcp_keepidle(&stream).unwrap(), STORE_KEEPALIVE_IDLE);
        assert_eq!(sockopt::tcp_keepintvl(&stream).unwrap(), STORE_KEEPALIVE_INTERVAL);
        assert_eq!(sockopt::tcp_keepcnt(&stream).unwrap(), STORE_KEEPALIVE_PROBES);
        assert_eq!(sockopt::tcp_user_timeout(&stream).unwrap(), STORE_DEAD_PEER_SECS * 1_000);
    }
}
