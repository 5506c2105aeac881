//! `hisaab serve`: the HTTP API over a data directory, until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use anyhow::Result;
use hisaab_server::ServerConfig;

use crate::args::ServeArgs;
use crate::datadir::open_store;
use crate::serving::{init_tracing, serve_store};

/// Runs `hisaab serve`.
pub(crate) fn run(args: &ServeArgs) -> Result<ExitCode> {
    init_tracing();
    let store = open_store(
        &args.data.data,
        Some(&args.data.log_key),
        args.data.master_key.as_deref(),
    )?;
    let mut config = ServerConfig::default();
    if let Some(n) = args.in_flight_max {
        config = config.with_in_flight_max(n.max(1));
    }
    if let Some(seconds) = args.session_ttl {
        config = config.with_session_ttl(std::time::Duration::from_secs(seconds));
    }
    if let Some(percent) = args.client_share {
        config = config.with_client_share_percent(percent);
    }
    serve_store(store, config, args.listen, None)?;
    Ok(ExitCode::SUCCESS)
}
