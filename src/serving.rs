//! Serving a store over HTTP from the command line (`serve`, `demo`): logging to stderr, the
//! async runtime, the bound address printed once connections are accepted, and a clean stop on
//! Ctrl-C or SIGTERM.

use std::io::Write as _;
use std::net::SocketAddr;

use anyhow::{Context as _, Result};
use hisaab_server::{AppState, ServerConfig};
use hisaab_store::Store;

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub(crate) fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Serves `store` on `listen` until Ctrl-C or SIGTERM, printing the bound address on stdout
/// (`listening on http://ADDR`) once it accepts connections; `banner` is printed after it.
pub(crate) fn serve_store(
    store: Store,
    config: ServerConfig,
    listen: SocketAddr,
    banner: Option<&dyn Fn(SocketAddr) -> String>,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening on http://{address}")?;
            if let Some(banner) = banner {
                write!(out, "{}", banner(address))?;
            }
            out.flush()?;
        }
        let state = AppState::new(store, config);
        hisaab_server::serve(listener, state, shutdown_signal())
            .await
            .context("the server failed")?;
        eprintln!("stopped; the store is closed");
        Ok(())
    })
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
