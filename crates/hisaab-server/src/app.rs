//! What every handler shares: the store and the server's limits.

use std::time::Duration;

use hisaab_log::statement::ENVELOPE_BYTES_MAX;
use hisaab_store::Store;

/// The state handed to [`crate::router`]: the ledger's store and the server's limits.
#[derive(Clone)]
pub struct AppState {
    /// The durable ledger.
    pub store: Store,
    /// Limits and paging.
    pub config: ServerConfig,
}

impl AppState {
    /// State over `store` with `config`.
    pub fn new(store: Store, config: ServerConfig) -> Self {
        AppState { store, config }
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The server's limits. [`ServerConfig::default`] suits a production server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The largest request body read, in bytes. It is larger than the 65,536 bytes an
    /// envelope's canonical JSON may have (SPEC §4 rule 1), so that the 413 is decided on the
    /// canonical bytes and not on the client's whitespace or escapes: JCS turns a `\u0041`
    /// escape (6 bytes) into one byte, so 6 × 65,536 plus room covers any envelope whose
    /// canonical form fits, short of pathological runs of whitespace.
    pub body_bytes_max: usize,
    /// How long one request may take to be answered (the headers; a streamed bundle may take
    /// longer to send). Past it the answer is 503 `timeout`.
    pub request_timeout: Duration,
    /// The most requests handled at once; past it the answer is 503 `overloaded` with
    /// `Retry-After`. At least 1. `/healthz` is not counted.
    pub in_flight_max: usize,
    /// The most entries one `GET /v1/entries` answers; a larger `limit` is cut to this.
    pub entries_page_max: u64,
}

impl ServerConfig {
    /// The default body limit: six times the envelope limit, plus 64 KiB.
    pub const BODY_BYTES_MAX_DEFAULT: usize = 6 * ENVELOPE_BYTES_MAX + (64 << 10);

    /// Sets [`ServerConfig::body_bytes_max`].
    #[must_use]
    pub fn with_body_bytes_max(mut self, bytes: usize) -> Self {
        self.body_bytes_max = bytes;
        self
    }

    /// Sets [`ServerConfig::request_timeout`].
    #[must_use]
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets [`ServerConfig::in_flight_max`] (0 is taken as 1).
    #[must_use]
    pub fn with_in_flight_max(mut self, requests: usize) -> Self {
        self.in_flight_max = requests.max(1);
        self
    }

    /// Sets [`ServerConfig::entries_page_max`] (0 is taken as 1).
    #[must_use]
    pub fn with_entries_page_max(mut self, entries: u64) -> Self {
        self.entries_page_max = entries.max(1);
        self
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            body_bytes_max: Self::BODY_BYTES_MAX_DEFAULT,
            request_timeout: Duration::from_secs(30),
            in_flight_max: 512,
            entries_page_max: 1000,
        }
    }
}
