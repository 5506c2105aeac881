//! # hisaab-web
//!
//! The task force's web app: HTML pages rendered on the server from the ledger's projections
//! (the state of SPEC §5 and the model's registers, trends and month-end series), for the
//! people who run the monthly meeting. Every page says which checkpoint (origin, size, root)
//! and which state digest it was computed from, can be viewed as of an earlier size
//! (`?as_of=N`) or as recorded on a date (`?as_of_date=YYYY-MM-DD`, SPEC §11.5), names who
//! reads it (and offers "Sign out" for a browser session), and checks the checkpoint's signature in the browser against the pinned log
//! key (WebCrypto Ed25519).
//!
//! | path | page |
//! |---|---|
//! | `/` | the sector overview: heat map operators × pillars, sector score per month, counts |
//! | `/app/operators/{operator}` | an operator's scorecard |
//! | `/app/operators/{operator}/kpis/{kpi}` | every entry about one operator and KPI |
//! | `/app/commitments?operator=&status=` | who owes what by when, overdue first |
//! | `/app/meetings` | meetings, attendance and attestations, decisions |
//! | `/app/directives?operator=` | every directive and action item, overdue first |
//! | `/app/disputes`, `/app/disputes/{dispute}` | the disputes register; one dispute |
//! | `/app/challenges`, `/app/challenges/{challenge}` | the challenges register; one challenge |
//! | `/app/pack` | the monthly meeting pack, one printable page: scores, KPIs, commitments, meetings and quorum, action items, directives, disputes and challenges |
//! | `/app/pack/{table}.csv` | its tables as CSV, stamped with checkpoint and state digest |
//! | `/app/ledger?start=` | the ledger explorer: checkpoint, entries as cards |
//! | `/app/entries/{seq}` | one entry, its inclusion proof and receipt |
//! | `/app/verify` | pin a log key; check a checkpoint and a receipt in the browser |
//! | `/app/assets/{name}` | the stylesheet and the script, named by content hash |
//!
//! The app only reads; writing stays with the CLI and the API. Templates are compiled in
//! (maud); the stylesheet and the script are embedded and served with long caching. Pages
//! compute no rule of their own: what they show comes from `hisaab_model::report` and the
//! state. Who reads is a [`Reader`], an input of every page.

mod assets;
pub mod blocking;
mod csv;
mod handlers;
pub mod pages;
mod reader;
mod view;

// The demo's store, as the integration tests build it, for the unit tests.
#[cfg(test)]
#[path = "../tests/support/mod.rs"]
mod test_support;

use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use hisaab_store::Store;

pub use reader::{Reader, SignedIn};
pub use view::{Here, View};

/// The web app over one store: the store and the cache of views.
#[derive(Debug)]
pub struct Web {
    store: Store,
    views: view::Views,
}

/// Why a page cannot be shown.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// A query or path the page does not take (400).
    #[error("{0}")]
    BadRequest(String),
    /// Nothing there (404).
    #[error("{0}")]
    NotFound(String),
    /// Too many views are being built at once (503, retry shortly).
    #[error("the server is busy building other views; retry in a moment")]
    Busy,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] hisaab_store::StoreError),
}

impl From<view::BuildError> for WebError {
    fn from(error: view::BuildError) -> Self {
        match error {
            view::BuildError::Busy => WebError::Busy,
            view::BuildError::Store(store) => WebError::Store(store),
        }
    }
}

impl Web {
    /// The app over `store`. At start, on a background thread, the latest view is built and
    /// then the month-end series (which reads the whole log once) is fed, so that the first
    /// pages are served from the cache and none waits for the series: a page asked for while
    /// it is being fed gets its view without it, filled in once it is fed. Who may read an
    /// entry comes from the store's index of scopes, which reads nothing at start.
    pub fn new(store: Store) -> Arc<Web> {
        Web::with_views(store, view::Views::default())
    }

    /// As [`Web::new`], with the series leaving a snapshot of the model every `every` entries
    /// for views at sizes more than `recent` entries below the log's to resume from (the
    /// default: every 16,384 entries, below the store's kept snapshots).
    pub fn with_rungs(store: Store, every: u64, recent: u64) -> Arc<Web> {
        let mut views = view::Views::default();
        views.ladder = view::Ladder {
            every: every.max(1),
            recent,
        };
        Web::with_views(store, views)
    }

    fn with_views(store: Store, views: view::Views) -> Arc<Web> {
        let web = Arc::new(Web { store, views });
        let warm = Arc::clone(&web);
        let spawned = std::thread::Builder::new()
            .name("hisaab-web-warm".to_owned())
            .spawn(move || warm.warm_up());
        if let Err(error) = spawned {
            tracing::warn!(%error, "no thread to feed the month-end series; the first page will");
        }
        web
    }

    /// The warm-up after a start: the latest view and the public's view of it (what the first
    /// pages ask for), then the month-end series, then the series in the latest view.
    fn warm_up(&self) {
        let started = std::time::Instant::now();
        let latest = self.store.size();
        let view = |feed| match self.views.get(&self.store, latest, None, feed) {
            Ok(view) => Ok(Some(view)),
            Err(view::BuildError::Busy) => Ok(None),
            Err(view::BuildError::Store(store)) => Err(store),
        };
        let warmed = (|| {
            // The series is held from the start: a page woken by the end of the latest view's
            // build must not take it and feed the whole series itself.
            self.views.catch_up_after(&self.store, || {
                if latest > 0 {
                    if let Some(view) = view(view::Feed::Never)? {
                        drop(view.for_reader(&hisaab_model::view::Reader::Public));
                    }
                    tracing::info!(
                        entries = latest,
                        ms = started.elapsed().as_millis(),
                        "the web app's latest view is built"
                    );
                }
                Ok(())
            })?;
            if latest > 0 {
                view(view::Feed::Wait)?;
            }
            Ok::<(), hisaab_store::StoreError>(())
        })();
        match warmed {
            Ok(()) => tracing::info!(
                entries = self.store.size(),
                ms = started.elapsed().as_millis(),
                "the web app's month-end series is fed and the latest view built"
            ),
            Err(error) => tracing::warn!(%error, "feeding the month-end series failed; \
                the first page will retry"),
        }
    }

    /// The store it reads.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// How many views were built since start (each replays the ledger from a snapshot; a view
    /// taken from the cache, or waited for while another request built it, is not counted).
    pub fn views_built(&self) -> u64 {
        self.views.built.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The view at tree size `as_of` (default: the latest), built or from the cache. Blocking
    /// (a replay from the nearest snapshot on a miss).
    ///
    /// # Errors
    /// [`WebError::NotFound`] for a size beyond the log; the store's errors.
    pub fn view(&self, as_of: Option<u64>) -> Result<Arc<View>, WebError> {
        self.view_at(as_of, None)
    }

    /// The view as of tree size `as_of` and date `as_of_date` (SPEC §11.5): the ledger as
    /// recorded up to the end of that day (the first N entries, N the number recorded by
    /// then), that day the clock for what is overdue; with both, the first min(`as_of`, N)
    /// entries. Blocking.
    ///
    /// # Errors
    /// [`WebError::NotFound`] for a size beyond the log or a date before its first entry; the
    /// store's errors.
    pub fn view_at(
        &self,
        as_of: Option<u64>,
        as_of_date: Option<hisaab_log::Date>,
    ) -> Result<Arc<View>, WebError> {
        self.view_fed(as_of, as_of_date, view::Feed::Wait)
    }

    /// As [`Web::view_at`], for a page: while the month-end series is being fed (after a
    /// start), the view without it rather than a wait ([`View::series_pending`]).
    pub(crate) fn page_view(
        &self,
        as_of: Option<u64>,
        as_of_date: Option<hisaab_log::Date>,
    ) -> Result<Arc<View>, WebError> {
        self.view_fed(as_of, as_of_date, view::Feed::IfFree)
    }

    fn view_fed(
        &self,
        as_of: Option<u64>,
        as_of_date: Option<hisaab_log::Date>,
        feed: view::Feed,
    ) -> Result<Arc<View>, WebError> {
        let size = self.store.size();
        if let Some(as_of) = as_of {
            if as_of > size {
                return Err(WebError::NotFound(format!(
                    "as_of {as_of} is beyond the log, which holds {size} entries"
                )));
            }
        }
        let Some(day) = as_of_date else {
            return Ok(self
                .views
                .get(&self.store, as_of.unwrap_or(size), None, feed)?);
        };
        let by_date = self.store.size_at_date(day)?;
        if by_date == 0 {
            let first = self
                .store
                .entry(0)?
                .map(|e| {
                    format!(
                        ": its first entry was recorded on {}",
                        e.entry().recorded_at.date()
                    )
                })
                .unwrap_or_default();
            return Err(WebError::NotFound(format!(
                "nothing was recorded by the end of {day}{first}"
            )));
        }
        let size = as_of.map_or(by_date, |n| n.min(by_date));
        Ok(self.views.get(&self.store, size, Some(day), feed)?)
    }
}

/// The app's routes over `web`, for any router state (the server mounts them as they are).
pub fn router<S: Clone + Send + Sync + 'static>(web: Arc<Web>) -> Router<S> {
    Router::new()
        .route("/", get(handlers::overview))
        .route("/app", get(handlers::overview))
        .route("/app/operators/{operator}", get(handlers::scorecard))
        .route(
            "/app/operators/{operator}/kpis/{kpi}",
            get(handlers::kpi_history),
        )
        .route("/app/commitments", get(handlers::commitments))
        .route("/app/meetings", get(handlers::meetings))
        .route("/app/directives", get(handlers::directives))
        .route("/app/disputes", get(handlers::disputes))
        .route("/app/disputes/{dispute}", get(handlers::dispute))
        .route("/app/challenges", get(handlers::challenges))
        .route("/app/challenges/{challenge}", get(handlers::challenge))
        .route("/app/pack", get(handlers::pack))
        .route("/app/pack/{table}", get(handlers::pack_csv))
        .route("/app/ledger", get(handlers::ledger))
        .route("/app/entries/{seq}", get(handlers::entry))
        .route("/app/verify", get(handlers::verify))
        .route("/app/signin", get(handlers::signin))
        .route("/app/assets/{name}", get(handlers::asset))
        .with_state(web)
}
