//! What every handler shares: the store, the server's limits, the budgets of requests in
//! flight and the cache of projections.

use std::sync::Arc;
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
    /// The budgets of requests in flight, shared by every router made from this state.
    pub(crate) budgets: crate::limit::Budgets,
    /// Projections of SPEC §5, cached per tree size.
    pub(crate) projections: Arc<crate::projection::Projections>,
    /// Read access: nonces, challenges, sessions, and the scope of each entry (SPEC §13).
    pub(crate) access: Arc<crate::access::Access>,
}

impl AppState {
    /// State over `store` with `config`.
    pub fn new(store: Store, config: ServerConfig) -> Self {
        AppState {
            budgets: crate::limit::Budgets::new(
                config.in_flight_max,
                config.appends_in_flight_max,
                config.client_share_percent,
                config.request_timeout,
            ),
            projections: Arc::new(crate::projection::Projections::new(config.projections_max)),
            access: Arc::new(crate::access::Access::default()),
            store,
            config,
        }
    }

    /// How many projections of SPEC §5 were rebuilt so far (the others were served from the
    /// cache): a figure for monitoring, and for checking that unauthenticated requests cannot
    /// make the server replay the ledger at will.
    pub fn projection_rebuilds(&self) -> u64 {
        self.projections.rebuilds()
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
    /// The most reads (and cosignatures) handled at once, a streamed bundle counted until its
    /// last byte is sent; past it the answer is 503 `overloaded` with `Retry-After`. At least
    /// 1. `/healthz` and `/readyz` are not counted.
    pub in_flight_max: usize,
    /// The most appends (`POST /v1/statements`) handled at once, a budget of their own so that
    /// reads cannot starve appends nor appends reads. At least 1.
    pub appends_in_flight_max: usize,
    /// The most projections of SPEC §5 rebuilt at once (the state, and a cosignature's witness
    /// look-up when the checkpoint moved on); past it the answer is 503 `overloaded`.
    pub projections_max: usize,
    /// How long a connection may take to send a request's headers, and how long an idle
    /// keep-alive connection is kept; then it is closed.
    pub header_read_timeout: Duration,
    /// How long the server waits for a client to take more of an answer (a client that never
    /// reads a bundle); then the connection is closed and its budget freed.
    pub send_timeout: Duration,
    /// The most connections open at once; past it new connections are closed at once.
    pub connections_max: usize,
    /// The share, in percent (1–100), of each budget (reads, appends, connections) that one
    /// client, by IP address, may hold at once; past it the client's request is answered 503
    /// `overloaded` (or its new connection closed) while other clients are still served.
    /// Behind a reverse proxy every client has the proxy's address: set 100 there and bound
    /// clients at the proxy.
    pub client_share_percent: u8,
    /// The most entries one `GET /v1/entries` answers; a larger `limit` is cut to this.
    pub entries_page_max: u64,
    /// How long a browser session opened with `POST /v1/session` lasts (SPEC §13.2).
    pub session_ttl: Duration,
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

    /// Sets [`ServerConfig::appends_in_flight_max`] (0 is taken as 1).
    #[must_use]
    pub fn with_appends_in_flight_max(mut self, requests: usize) -> Self {
        self.appends_in_flight_max = requests.max(1);
        self
    }

    /// Sets [`ServerConfig::projections_max`] (0 is taken as 1).
    #[must_use]
    pub fn with_projections_max(mut self, rebuilds: usize) -> Self {
        self.projections_max = rebuilds.max(1);
        self
    }

    /// Sets [`ServerConfig::header_read_timeout`].
    #[must_use]
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Sets [`ServerConfig::send_timeout`].
    #[must_use]
    pub fn with_send_timeout(mut self, timeout: Duration) -> Self {
        self.send_timeout = timeout;
        self
    }

    /// Sets [`ServerConfig::connections_max`] (0 is taken as 1).
    #[must_use]
    pub fn with_connections_max(mut self, connections: usize) -> Self {
        self.connections_max = connections.max(1);
        self
    }

    /// Sets [`ServerConfig::client_share_percent`] (taken within 1–100).
    #[must_use]
    pub fn with_client_share_percent(mut self, percent: u8) -> Self {
        self.client_share_percent = percent.clamp(1, 100);
        self
    }

    /// Sets [`ServerConfig::in_flight_max`] (0 is taken as 1).
    #[must_use]
    pub fn with_in_flight_max(mut self, requests: usize) -> Self {
        self.in_flight_max = requests.max(1);
        self
    }

    /// Sets [`ServerConfig::session_ttl`] (at least one second).
    #[must_use]
    pub fn with_session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl.max(Duration::from_secs(1));
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
            in_flight_max: 384,
            appends_in_flight_max: 128,
            projections_max: 2,
            header_read_timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(30),
            connections_max: 1024,
            client_share_percent: 50,
            entries_page_max: 1000,
            session_ttl: crate::access::SESSION_TTL_DEFAULT,
        }
    }
}
