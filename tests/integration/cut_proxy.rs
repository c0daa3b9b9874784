//! A TCP proxy in front of the test Postgres that can lose one answer: once armed with a byte
//! pattern, the first connection that sends it has its statement run and committed by the
//! server, and is then cut before the answer reaches the engine. That is a commit whose result is
//! ambiguous to its caller: stored, yet reported failed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const POSTGRES: &str = "127.0.0.1:5432";

/// Postgres' ReadyForQuery: sent after the implicit transaction of a statement has committed.
const READY_FOR_QUERY: u8 = b'Z';

#[derive(Clone, Default)]
pub struct CutProxy {
    armed: Arc<Mutex<Option<Vec<u8>>>>,
    cut: Arc<AtomicBool>,
}

impl CutProxy {
    /// Starts the proxy; returns it and the URL of `database` through it (no TLS, so the
    /// server's answers can be read message by message).
    pub async fn start(database: &str) -> (CutProxy, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("postgres://postgres@{}/{database}?sslmode=disable", listener.local_addr().unwrap());
        let proxy = CutProxy::default();
        let accepting = proxy.clone();
        actix_rt::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let proxy = accepting.clone();
                actix_rt::spawn(async move { proxy.forward(client).await });
            }
        });
        (proxy, url)
    }

    /// The next statement whose bytes hold `pattern` is committed and its answer lost.
    pub fn arm(&self, pattern: &[u8]) {
        *self.armed.lock().unwrap() = Some(pattern.to_vec());
    }

    pub fn has_cut(&self) -> bool {
        self.cut.load(Ordering::SeqCst)
    }

    async fn forward(self, client: TcpStream) {
        let Ok(server) = TcpStream::connect(POSTGRES).await else { return };
        let (mut client_read, mut client_write) = client.into_split();
        let (mut server_read, mut server_write) = server.into_split();
        let triggered = Arc::new(AtomicBool::new(false));
        let upstream = {
            let (proxy, triggered) = (self.clone(), triggered.clone());
            async move {
                let mut buffer = vec![0u8; 64 * 1024];
                let mut tail: Vec<u8> = Vec::new();
                loop {
                    let n = match client_read.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    let mut seen = std::mem::take(&mut tail);
                    seen.extend_from_slice(&buffer[..n]);
                    let pattern = proxy.armed.lock().unwrap().clone();
                    if let Some(pattern) = pattern {
                        if seen.windows(pattern.len()).any(|w| w == pattern.as_slice()) {
                            *proxy.armed.lock().unwrap() = None;
                            triggered.store(true, Ordering::SeqCst);
                        }
                        tail = seen[seen.len().saturating_sub(pattern.len())..].to_vec();
                    }
                    if server_write.write_all(&buffer[..n]).await.is_err() {
                        return;
                    }
                }
            }
        };
        let downstream = {
            let (proxy, triggered) = (self.clone(), triggered.clone());
            async move {
                let mut messages = MessageReader::default();
                let mut buffer = vec![0u8; 64 * 1024];
                loop {
                    let n = match server_read.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    let ready = messages.feed(&buffer[..n]);
                    if triggered.load(Ordering::SeqCst) {
                        // The answer to the armed statement: swallowed, and the connection cut
                        // once the server says its transaction is over.
                        if ready {
                            proxy.cut.store(true, Ordering::SeqCst);
                            return;
                        }
                        continue;
                    }
                    if client_write.write_all(&buffer[..n]).await.is_err() {
                        return;
                    }
                }
            }
        };
        tokio::select! {
            _ = upstream => {}
            _ = downstream => {}
        }
    }
}

/// Splits the server's stream into messages (a type byte and a length), saying whether a
/// ReadyForQuery went by.
#[derive(Default)]
struct MessageReader {
    pending: Vec<u8>,
}

impl MessageReader {
    fn feed(&mut self, bytes: &[u8]) -> bool {
        self.pending.extend_from_slice(bytes);
        let mut ready = false;
        let mut at = 0;
        while self.pending.len() >= at + 5 {
            let length = u32::from_be_bytes(self.pending[at + 1..at + 5].try_into().unwrap()) as usize;
            if self.pending.len() < at + 1 + length {
                break;
            }
            ready |= self.pending[at] == READY_FOR_QUERY;
            at += 1 + length;
        }
        self.pending.drain(..at);
        ready
    }
}
