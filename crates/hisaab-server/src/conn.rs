//! The connection loop of [`crate::serve`]: HTTP/1.1 on hyper with the timeouts and bounds
//! `axum::serve` does not set.
//!
//! - At most [`ServerConfig::connections_max`] connections are open; one more is accepted and
//!   closed at once, so that sockets (and file descriptors) stay bounded whatever clients do.
//!   One client (IP address) may hold at most [`ServerConfig::client_share_percent`] % of
//!   them; its next one is closed at once too, while other clients still connect.
//! - Each request carries its peer's address (`ConnectInfo`), by which the budgets of
//!   requests in flight bound each client's share (`crate::limit`).
//! - hyper's header-read timeout closes a connection that has not sent a whole request head
//!   within [`ServerConfig::header_read_timeout`]; hyper starts that timer whenever it waits
//!   for a head, so an idle keep-alive connection is closed after the same time.
//! - [`GuardedIo`] closes a connection whose client takes none of an answer for
//!   [`ServerConfig::send_timeout`] (a download never read): the answer's body, and the
//!   budget slot it holds, are dropped with it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;
use tower::ServiceExt as _;

use crate::app::ServerConfig;
use crate::limit::{share_of, Clients};

/// The most header fields hyper itself takes; above [`crate::limit::HEADER_FIELDS_MAX`] so
/// that the router answers 431 in the error shape first.
const HYPER_HEADERS_MAX: usize = 400;
/// How long to wait after a failed `accept` (such as running out of file descriptors).
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// Accepts connections on `listener` and serves `router` on them until `shutdown`, then
/// waits for the connections to finish their requests.
pub(crate) async fn serve_connections(
    listener: TcpListener,
    router: Router,
    config: &ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let connections_max = config.connections_max.max(1);
    let connections = Arc::new(Semaphore::new(connections_max));
    let clients = Arc::new(Clients::new(share_of(
        connections_max,
        config.client_share_percent,
    )));
    let (stop_sender, stop_receiver) = watch::channel(false);
    // Every connection task holds a clone; the loop ends when all are dropped.
    let (done_sender, done_receiver) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(ACCEPT_RETRY).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            tracing::warn!("too many connections: closing a new one");
            drop(stream);
            continue;
        };
        let Some(client) = clients.hold(peer.ip()) else {
            tracing::warn!(ip = %peer.ip(), "one client holds its whole share of connections: closing a new one");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let io = GuardedIo::new(stream, config.send_timeout, permit);
        let service = router
            .clone()
            .map_request(move |request: hyper::Request<Incoming>| {
                let mut request = request.map(axum::body::Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(config.header_read_timeout)
            .max_headers(HYPER_HEADERS_MAX);
        let mut stop = stop_receiver.clone();
        let done = done_receiver.clone();
        tokio::spawn(async move {
            let connection =
                builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
            let mut connection = std::pin::pin!(connection);
            let mut stopping = false;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(error) = result {
                            tracing::debug!(%error, "connection ended");
                        }
                        break;
                    }
                    changed = stop.changed(), if !stopping => {
                        let _ = changed;
                        stopping = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(client);
            drop(done);
        });
    }
    drop(listener);
    let _ = stop_sender.send(true);
    drop(done_receiver);
    done_sender.closed().await;
}

/// A connection that fails its writes once the peer has taken nothing for `send_timeout`, and
/// holds its slot among the open connections.
#[derive(Debug)]
pub(crate) struct GuardedIo {
    inner: TcpStream,
    send_timeout: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
    _slot: OwnedSemaphorePermit,
}

impl GuardedIo {
    fn new(inner: TcpStream, send_timeout: Duration, slot: OwnedSemaphorePermit) -> Self {
        GuardedIo {
            inner,
            send_timeout,
            stalled: None,
            _slot: slot,
        }
    }

    /// After a write found the socket full: arms the timer if need be, and fails once it fires.
    fn poll_stalled(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let timeout = self.send_timeout;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                tracing::warn!(
                    timeout_ms = timeout.as_millis(),
                    "closing a connection whose client takes nothing of its answer"
                );
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client took nothing of the answer for the send timeout",
                )))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for GuardedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for GuardedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Ready(result) => {
                self.stalled = None;
                Poll::Ready(result)
            }
            Poll::Pending => self.poll_stalled(cx),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(result) => {
                self.stalled = None;
                Poll::Ready(result)
            }
            Poll::Pending => self.poll_stalled(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use tokio::io::AsyncWriteExt;

    use super::*;

    #[tokio::test]
    async fn a_write_the_peer_never_takes_fails_after_the_send_timeout_and_frees_the_slot() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        // The peer connects and never reads.
        let _peer = TcpStream::connect(address).await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let slots = Arc::new(Semaphore::new(1));
        let slot = Arc::clone(&slots).try_acquire_owned().unwrap();
        let mut io = GuardedIo::new(stream, Duration::from_millis(200), slot);
        assert_eq!(slots.available_permits(), 0);
        let chunk = vec![b'x'; 64 << 10];
        // Loopback buffers hold a few MB at most; 1 GB is far past them.
        let mut failed = None;
        for _ in 0..16_384 {
            match tokio::time::timeout(Duration::from_secs(10), io.write(&chunk)).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => {
                    failed = Some(error);
                    break;
                }
                Err(_) => panic!("the send timeout did not fire"),
            }
        }
        let error = failed.expect("writes to a peer that never reads must fail");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        drop(io);
        assert_eq!(slots.available_permits(), 1);
    }
}
