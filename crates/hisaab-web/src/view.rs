//! What every page is rendered from: the projections of the ledger at one tree size (the
//! state of SPEC §5, the model's registers and trends, the sector's month-end series), the
//! checkpoint (origin, size, root, and the signed note when the log signed that size) and the
//! KPIs' definitions. Built once per size and cached; pages only lay it out.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use hisaab_log::{Date, Hash, SealedEntry};
use hisaab_model::body::KpiDefinedBody;
use hisaab_model::cycle::{
    ActionOwner, ActionState, CycleState, DirectiveState, EscalatedItem, MeetingState, TaskStatus,
};
use hisaab_model::report::{DisputeItem, DisputeStatus, MonthPoint, MonthlySeries, Register};
use hisaab_model::view::{entry_access, view_state, EntryAccess, Reader, Scope};
use hisaab_model::{Body, Ledger, Slug, State};
use hisaab_store::{Store, StoreError};

/// What a page or a table shows in place of a text the reader may not read (SPEC §13.4).
pub(crate) const WITHHELD_TEXT: &str = "(withheld)";

/// How many views are kept (the latest and a few `as_of` ones).
const CACHED_MAX: usize = 8;

/// The most views built at once: a build replays from the nearest snapshot, so requests for
/// many different sizes must not be able to make the server replay at will. Past it a page
/// answers 503 at once.
pub(crate) const BUILDS_MAX: usize = 2;

/// The projections of the ledger at one tree size, and where they come from, as one reader
/// may see them ([`View::for_reader`]; the cached views are the full ones).
#[derive(Clone, Debug)]
pub struct View {
    /// The log's origin.
    pub origin: String,
    /// The tree size the view is computed at.
    pub size: u64,
    /// The log's size when the view was built.
    pub latest_size: u64,
    /// The date the view is "as recorded on" (SPEC §11.5), when it was asked for by date: the
    /// ledger as recorded up to the end of that day, that day the clock for what is overdue.
    pub as_of_date: Option<Date>,
    /// The dates of the log's first and last entries when the view was built (the range a
    /// date may be picked in).
    pub dates: Option<(Date, Date)>,
    /// The page being rendered: its path and its other query parameters, for links and forms
    /// that change only the size or the date.
    pub here: Here,
    /// The Merkle root at `size`.
    pub root: Hash,
    /// The signed checkpoint for `size`, when the log kept one.
    pub note: Option<String>,
    /// The latest signed checkpoint (what the browser checks when `note` is `None`).
    pub latest_note: String,
    /// The log's verifier key (C2SP vkey).
    pub vkey: String,
    /// The state of SPEC §5 at `size` (shared: a view is cloned per request).
    pub state: Arc<State>,
    /// The registers at `size`.
    pub register: Arc<Register>,
    /// The replay state at `size` (trends, signers). Whole: pages ask [`View::sees_operator`]
    /// before they read an operator's values from it.
    pub ledger: Arc<Ledger>,
    /// The definition of every KPI assigned to an operator, by id.
    pub kpis: Arc<BTreeMap<String, KpiDefinedBody>>,
    /// The sector's pillar scores at each month's end, up to `size` (empty for a reader who
    /// is not a full reader: a month's sector score may stand on fewer than three operators).
    pub series: Vec<MonthPoint>,
    /// Whether the month-end series was still being fed (the background warm-up after a
    /// start) when this view was built: `series` is empty then, and is filled in once it is.
    pub series_pending: bool,
    /// Who the view is for.
    pub reader: Reader,
    /// The store, whose index holds the scope of every entry (SPEC §13.4).
    store: Store,
    /// The state as each class of reader may see it, computed once per view (the cached full
    /// view and its clones share it): at 10^5 KPI definitions `view_state` and its digest cost
    /// about a second, too much for every request.
    by_class: Arc<Mutex<ByClass>>,
}

/// The state as each class of reader may see it.
type ByClass = Vec<(Reader, Arc<State>)>;

impl View {
    /// This view as `reader` may see it (SPEC §13.3): the state of `view_state`, no month-end
    /// series unless the reader is a full one; entries and trends are decided page by page
    /// through [`View::may_read`] and [`View::sees_operator`].
    pub fn for_reader(&self, reader: &Reader) -> View {
        if *reader == Reader::Full {
            return self.clone();
        }
        let known = self.by_class.lock().ok().and_then(|by_class| {
            by_class
                .iter()
                .find(|(class, _)| class == reader)
                .map(|(_, state)| Arc::clone(state))
        });
        let state = known.unwrap_or_else(|| {
            let state = Arc::new(view_state(&self.state, reader));
            if let Ok(mut by_class) = self.by_class.lock() {
                // Bounded: the public, and one class per operator of this view.
                if by_class.len() <= self.state.operators.len() {
                    by_class.push((reader.clone(), Arc::clone(&state)));
                }
            }
            state
        });
        View {
            state,
            series: Vec::new(),
            reader: reader.clone(),
            ..self.clone()
        }
    }

    /// Whether the reader sees this operator's values, verdicts and scores.
    pub fn sees_operator(&self, operator: &str) -> bool {
        hisaab_model::Slug::try_new(operator).is_ok_and(|slug| self.reader.sees_operator(&slug))
    }

    /// Whether the reader may read entry `seq` whole (else only that it exists, its kind and
    /// its leaf hash, as the API's withheld line says).
    pub fn may_read(&self, seq: u64) -> bool {
        if self.reader == Reader::Full {
            return true;
        }
        // From the index the store writes as it appends (O(log n)); an entry whose scope cannot
        // be read is withheld.
        let scope = self
            .store
            .scopes(&[seq])
            .ok()
            .and_then(|scopes| scopes.into_iter().next())
            .unwrap_or(Scope::Sector);
        entry_access(&self.reader, &scope) == EntryAccess::Full
    }

    /// The signed note the browser checks: the one for this size, or the latest.
    pub fn signed_note(&self) -> &str {
        self.note.as_deref().unwrap_or(&self.latest_note)
    }

    /// Whether the view is of the latest size, by no date: the present.
    pub fn is_latest(&self) -> bool {
        self.size == self.latest_size && self.as_of_date.is_none()
    }

    /// The query parameters that keep links at this view: `as_of` when it is not the latest
    /// size, `as_of_date` when it was asked for by date.
    pub fn point_params(&self) -> Vec<(&'static str, String)> {
        let mut params = Vec::new();
        if self.size != self.latest_size {
            params.push(("as_of", self.size.to_string()));
        }
        if let Some(date) = self.as_of_date {
            params.push(("as_of_date", date.to_string()));
        }
        params
    }

    /// The `as_of` and `as_of_date` query to keep on links (empty for the present).
    pub fn as_of_query(&self) -> String {
        let params = self.point_params();
        if params.is_empty() {
            return String::new();
        }
        let pairs: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("?{}", pairs.join("&"))
    }

    /// This page in the present: its path and other parameters, without `as_of` or
    /// `as_of_date`.
    pub fn present_href(&self) -> String {
        self.here.href(&[])
    }

    /// A KPI's title, or its id when it has no definition.
    pub fn kpi_title<'a>(&'a self, kpi: &'a str) -> &'a str {
        self.kpis.get(kpi).map_or(kpi, |d| d.title.as_str())
    }

    /// A member's name, or their id.
    pub fn member_name<'a>(&'a self, member: &'a str) -> &'a str {
        self.register
            .members
            .iter()
            .find(|m| m.member.as_str() == member)
            .map_or(member, |m| m.name.as_str())
    }

    /// A dispute's status as the reader may see it (SPEC §13.3, §12.1): in format 2 whether a
    /// dispute about an operator the reader does not see was upheld or overturned is its
    /// sealed outcome, so such a reader sees it `resolved`, as the reader's state counts it
    /// (`withheld`); every other status as the register has it.
    pub fn dispute_status(&self, dispute: &DisputeItem) -> DisputeStatus {
        let v2 = self.state.format.is_some_and(|format| format >= 2);
        let resolved = !matches!(dispute.status, DisputeStatus::Open);
        if v2 && resolved && !self.reader.sees_operator(&dispute.operator) {
            DisputeStatus::Sealed
        } else {
            dispute.status
        }
    }

    /// An operator's name, or its id.
    pub fn operator_name<'a>(&'a self, operator: &'a str) -> &'a str {
        self.state
            .operators
            .iter()
            .find(|(id, _)| id.as_str() == operator)
            .map_or(operator, |(_, o)| o.name.as_str())
    }
}

/// The page a view is rendered for: its path and its query parameters other than `as_of` and
/// `as_of_date`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Here {
    /// The request's path (`/` when unknown).
    pub path: String,
    /// The other query parameters, in order.
    pub params: Vec<(String, String)>,
}

impl Here {
    /// The page at `path` with `params`, less `as_of` and `as_of_date`.
    pub fn new(path: &str, params: &BTreeMap<String, String>) -> Here {
        Here {
            path: if path.starts_with('/') {
                path.to_owned()
            } else {
                "/".to_owned()
            },
            params: params
                .iter()
                .filter(|(k, _)| k.as_str() != "as_of" && k.as_str() != "as_of_date")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// This page's href with its parameters and `extra` ones, percent-encoded.
    pub fn href(&self, extra: &[(&str, String)]) -> String {
        let pairs: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(extra.iter().map(|(k, v)| (*k, v.as_str())))
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        if pairs.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{}", pairs.join("&"))
        }
    }
}

/// Percent-encodes a query component or a URL fragment: every byte but ASCII letters,
/// digits and `-_.~`.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Where a view at an old size resumes from: the series' replay, which passes every size,
/// leaves a snapshot of the model (its bytes) every `every` entries, at most [`RUNGS_MAX`];
/// a view at a size more than `recent` entries below the log's (below the store's kept
/// snapshots) resumes from the nearest such rung instead of from the store's nearest
/// snapshot, which may be far (the store archives one every 65,536 entries).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ladder {
    pub(crate) every: u64,
    pub(crate) recent: u64,
}

/// The most rungs kept: with [`Ladder::default`] they cover 2^20 entries.
pub(crate) const RUNGS_MAX: usize = 64;

impl Default for Ladder {
    fn default() -> Self {
        let store = hisaab_store::StoreConfig::default();
        Ladder {
            every: 16_384,
            // The store keeps its latest snapshots, one every `snapshot_every` entries.
            recent: store.snapshot_every.max(1) * (store.snapshots_kept as u64 + 1),
        }
    }
}

/// The views cache and the month-end series kept up to date with the log.
#[derive(Debug, Default)]
pub(crate) struct Views {
    cached: Mutex<VecDeque<Arc<View>>>,
    series: Mutex<MonthlySeries>,
    building: AtomicUsize,
    pub(crate) ladder: Ladder,
    /// Left by the series: (size, the model's snapshot bytes at that size), in size order.
    rungs: Mutex<Vec<(u64, Arc<Vec<u8>>)>>,
    /// The views being built, by size and date: who asks for one of them waits for it
    /// instead of building it again.
    flights: Mutex<Vec<(Point, Arc<Flight>)>>,
    /// How many views were built (not taken from the cache) since start.
    pub(crate) built: AtomicU64,
}

/// A point a view is built at: its size and, when asked for by date, the date.
type Point = (u64, Option<Date>);

/// A view being built, which others asking for the same point wait for.
#[derive(Debug, Default)]
struct Flight {
    landed: Mutex<bool>,
    signal: Condvar,
}

impl Flight {
    /// Waits until the build has ended (built, or failed).
    fn wait(&self) {
        let Ok(mut landed) = self.landed.lock() else {
            return;
        };
        while !*landed {
            match self.signal.wait(landed) {
                Ok(guard) => landed = guard,
                Err(_) => return,
            }
        }
    }
}

/// Ends a flight when dropped (the build done, failed or unwound): no longer listed, and its
/// waiters woken.
struct Landing<'a> {
    flights: &'a Mutex<Vec<(Point, Arc<Flight>)>>,
    flight: Arc<Flight>,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        if let Ok(mut flights) = self.flights.lock() {
            flights.retain(|(_, f)| !Arc::ptr_eq(f, &self.flight));
        }
        if let Ok(mut landed) = self.flight.landed.lock() {
            *landed = true;
        }
        self.flight.signal.notify_all();
    }
}

/// Whether building a view waits for the month-end series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Feed {
    /// Feed the series the entries it has not seen, waiting for a feed in progress (what
    /// [`crate::Web::view`] gives: a view with its series).
    Wait,
    /// Feed it when no one else is; while someone is (the warm-up after a start), build the
    /// view without it ([`View::series_pending`]) rather than wait: what pages ask.
    IfFree,
    /// Do not feed it: the warm-up's first view, built before it feeds the series.
    Never,
}

/// Why a view was not built.
#[derive(Debug)]
pub(crate) enum BuildError {
    /// [`BUILDS_MAX`] builds are running.
    Busy,
    /// The store failed.
    Store(StoreError),
}

impl From<StoreError> for BuildError {
    fn from(error: StoreError) -> Self {
        BuildError::Store(error)
    }
}

/// Holds one of the [`BUILDS_MAX`] build slots until dropped.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Views {
    /// The view at `size` (at most the store's size), as recorded on `date` when given (then
    /// `date` is the clock), from the cache or built.
    pub(crate) fn get(
        &self,
        store: &Store,
        size: u64,
        date: Option<Date>,
        feed: Feed,
    ) -> Result<Arc<View>, BuildError> {
        if let Some(hit) = self.cached(store, size, date) {
            return self.filled(store, hit, feed);
        }
        // One build of a point serves everyone who asks for it meanwhile (the first pages
        // after a start all wait for the warm-up's build of the latest view).
        let flight = Arc::new(Flight::default());
        let ahead = match self.flights.lock() {
            Ok(mut flights) => match flights.iter().find(|(point, _)| *point == (size, date)) {
                Some((_, ahead)) => Some(Arc::clone(ahead)),
                None => {
                    flights.push(((size, date), Arc::clone(&flight)));
                    None
                }
            },
            Err(_) => None,
        };
        if let Some(ahead) = ahead {
            ahead.wait();
            // From the cache now; built again only if that build failed.
            return self.get(store, size, date, feed);
        }
        let landing = Landing {
            flights: &self.flights,
            flight,
        };
        // Built and cached between the miss above and this flight's start: no second build.
        if let Some(hit) = self.cached(store, size, date) {
            drop(landing);
            return self.filled(store, hit, feed);
        }
        if self.building.fetch_add(1, Ordering::AcqRel) >= BUILDS_MAX {
            self.building.fetch_sub(1, Ordering::AcqRel);
            return Err(BuildError::Busy);
        }
        let slot = Slot(&self.building);
        // Whoever others wait for does not itself wait for the series (the warm-up holds it
        // while it waits for the latest view): a caller that waits for it does so below, once
        // the view is built and the others are woken.
        let build_feed = if feed == Feed::Wait {
            Feed::IfFree
        } else {
            feed
        };
        let view = Arc::new(self.build(store, size, date, build_feed)?);
        self.built.fetch_add(1, Ordering::AcqRel);
        drop(slot);
        self.cache(&view);
        drop(landing);
        self.filled(store, view, feed)
    }

    /// The cached view at this point, if it is still current.
    fn cached(&self, store: &Store, size: u64, date: Option<Date>) -> Option<Arc<View>> {
        let latest = store.size();
        self.cached.lock().ok().and_then(|cached| {
            cached
                .iter()
                .find(|v| {
                    v.size == size
                        && v.as_of_date == date
                        && (size < latest || v.latest_size == latest)
                })
                .cloned()
        })
    }

    /// A cached view, with its month-end series filled in when it was built without it and
    /// `feed` allows.
    fn filled(&self, store: &Store, hit: Arc<View>, feed: Feed) -> Result<Arc<View>, BuildError> {
        if !hit.series_pending || feed == Feed::Never {
            return Ok(hit);
        }
        // Built while the series was being fed: fill it in now, if it may be.
        let Some(series) = self.series(store, hit.size, &hit.ledger, &hit.state, feed)? else {
            return Ok(hit);
        };
        let filled = Arc::new(View {
            series,
            series_pending: false,
            ..(*hit).clone()
        });
        self.cache(&filled);
        Ok(filled)
    }

    /// Keeps `view` in the cache, in place of one at the same point.
    fn cache(&self, view: &Arc<View>) {
        if let Ok(mut cached) = self.cached.lock() {
            cached.retain(|v| v.size != view.size || v.as_of_date != view.as_of_date);
            if cached.len() >= CACHED_MAX {
                cached.pop_front();
            }
            cached.push_back(Arc::clone(view));
        }
    }

    fn build(
        &self,
        store: &Store,
        size: u64,
        date: Option<Date>,
        feed: Feed,
    ) -> Result<View, StoreError> {
        let latest = store.latest_checkpoint();
        let latest_size = store.size();
        let ledger = self.ledger_at(store, size)?;
        let state = ledger.state(date);
        let register = ledger.register(date);
        let dates = match (store.entry(0)?, latest_size.checked_sub(1)) {
            (Some(first), Some(last)) => store.entry(last)?.map(|last| {
                (
                    first.entry().recorded_at.date(),
                    last.entry().recorded_at.date(),
                )
            }),
            _ => None,
        };
        let root = if size == 0 {
            Hash::ZERO
        } else {
            store.root(size)?
        };
        let note = store.checkpoint_at(size)?.map(|c| c.note);
        // The definitions of the KPIs assigned to an operator: the ones pages show (a ledger
        // may define many more; reading them all would cost one entry each).
        let assigned: BTreeSet<&str> = state
            .operators
            .values()
            .flat_map(|o| o.kpis.keys().map(|k| k.as_str()))
            .collect();
        let mut kpis = BTreeMap::new();
        for definition in &register.kpis {
            if !assigned.contains(definition.kpi.as_str()) {
                continue;
            }
            if let Some(Body::KpiDefined(body)) = body_at(store, definition.seq)? {
                kpis.insert(definition.kpi.as_str().to_owned(), body);
            }
        }
        let series = self.series(store, size, &ledger, &state, feed)?;
        Ok(View {
            origin: store.origin().to_owned(),
            size,
            latest_size,
            as_of_date: date,
            dates,
            here: Here::default(),
            root,
            note,
            latest_note: latest.note,
            vkey: store.log_vkey().to_vkey(),
            state: Arc::new(state),
            register: Arc::new(register),
            ledger: Arc::new(ledger),
            kpis: Arc::new(kpis),
            series_pending: series.is_none(),
            series: series.unwrap_or_default(),
            reader: Reader::Full,
            store: store.clone(),
            by_class: Arc::default(),
        })
    }

    /// Feeds the kept series the entries it has not seen, up to the store's size (O(new
    /// entries)), holding the series from before `first` runs. [`crate::Web::new`] runs it
    /// once in the background at start, `first` building the latest view without the series,
    /// so that the first pages need not feed it: a page asked while `first` runs finds the
    /// series busy and gets its view at once without it, instead of feeding the whole series
    /// itself.
    pub(crate) fn catch_up_after(
        &self,
        store: &Store,
        first: impl FnOnce() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let Ok(mut series) = self.series.lock() else {
            return first();
        };
        first()?;
        self.feed(store, &mut series)
    }

    /// The month-end series up to `size`: the kept series is first fed the entries it has not
    /// seen (O(new entries)), then read as of `size`. `None` when `feed` says not to wait for
    /// a feed in progress and one is, or not to feed at all.
    fn series(
        &self,
        store: &Store,
        size: u64,
        ledger: &Ledger,
        state: &State,
        feed: Feed,
    ) -> Result<Option<Vec<MonthPoint>>, StoreError> {
        let locked = match feed {
            Feed::Never => return Ok(None),
            Feed::Wait => self.series.lock().ok(),
            Feed::IfFree => match self.series.try_lock() {
                Ok(series) => Some(series),
                Err(std::sync::TryLockError::WouldBlock) => return Ok(None),
                Err(std::sync::TryLockError::Poisoned(_)) => None,
            },
        };
        let Some(mut series) = locked else {
            return Ok(Some(Vec::new()));
        };
        self.feed(store, &mut series)?;
        let month = ledger.last_recorded_at().map(|t| t.date().period());
        Ok(Some(match month {
            Some(month) => series.series(month, size, state.sector),
            None => Vec::new(),
        }))
    }

    /// The replay state at `size`: from the store's nearest snapshot, or, for a size below
    /// the store's recent snapshots, from the nearest rung of the ladder when there is one.
    fn ledger_at(&self, store: &Store, size: u64) -> Result<Ledger, StoreError> {
        if store.size().saturating_sub(size) <= self.ladder.recent {
            return store.ledger(Some(size));
        }
        let rung = self.rungs.lock().ok().and_then(|rungs| {
            rungs
                .iter()
                .rev()
                .find(|(at, _)| *at <= size)
                .map(|(at, bytes)| (*at, Arc::clone(bytes)))
        });
        let Some((at, bytes)) = rung else {
            return store.ledger(Some(size));
        };
        let Ok(mut ledger) = Ledger::from_snapshot(&bytes) else {
            return store.ledger(Some(size));
        };
        debug_assert_eq!(ledger.size(), at);
        while ledger.size() < size {
            let seq = ledger.size();
            let Some((bytes, openings)) = stored(store, seq)? else {
                break;
            };
            let fields = openings.as_ref().map(|o| &o.fields);
            if !ledger.apply_trusted_leaf(&bytes, fields) {
                let Some(entry) = store.entry(seq)? else {
                    break;
                };
                ledger
                    .apply_trusted_with(&entry, fields)
                    .map_err(|violation| StoreError::from(replay_corruption(violation)))?;
            }
        }
        Ok(ledger)
    }

    fn feed(&self, store: &Store, series: &mut MonthlySeries) -> Result<(), StoreError> {
        let target = store.size();
        while series.size() < target {
            let seq = series.size();
            // The series is the full readers' (SPEC §13.3): fed with the openings.
            let Some((bytes, openings)) = stored(store, seq)? else {
                break;
            };
            let fields = openings.as_ref().map(|o| &o.fields);
            if !series.push_leaf(&bytes, fields) {
                let Some(entry) = store.entry(seq)? else {
                    break;
                };
                series
                    .push(&entry, fields)
                    .map_err(|violation| StoreError::from(replay_corruption(violation)))?;
            }
            if series.size() % self.ladder.every.max(1) == 0 {
                if let Ok(mut rungs) = self.rungs.lock() {
                    if rungs.len() < RUNGS_MAX {
                        rungs.push((series.size(), Arc::new(series.ledger().to_snapshot())));
                    }
                }
            }
        }
        Ok(())
    }
}

/// An entry's bytes as stored and its kept openings.
type Stored = (Vec<u8>, Option<hisaab_log::seal::Openings>);

/// Entry `seq` as a replay of the web app takes it: its bytes as stored (checked against the
/// stored leaf hash), to be read in one pass ([`Ledger::apply_trusted_leaf`]; what does not read
/// that way goes through the full parse, which says what is wrong), and its kept openings.
fn stored(store: &Store, seq: u64) -> Result<Option<Stored>, StoreError> {
    let Some(bytes) = store.entry_bytes(seq)? else {
        return Ok(None);
    };
    let openings = store.kept_openings_at(seq, &hisaab_log::merkle::leaf_hash(&bytes))?;
    Ok(Some((bytes, openings)))
}

fn replay_corruption(violation: hisaab_model::Violation) -> hisaab_store::Corruption {
    hisaab_store::Corruption::Rejected { violation }
}

/// The typed body of entry `seq`, if it parses.
pub(crate) fn body_at(store: &Store, seq: u64) -> Result<Option<Body>, StoreError> {
    Ok(store.entry(seq)?.and_then(|sealed| body_of(&sealed)))
}

/// The typed body of an entry, if it parses.
pub(crate) fn body_of(sealed: &SealedEntry) -> Option<Body> {
    let statement = &sealed.entry().statement;
    Body::try_parse(&statement.kind, &statement.body).ok()
}

/// The next meeting on `at`: the earliest one scheduled for `at` or later and not yet held
/// (ties by id), if any.
pub(crate) fn next_meeting(cycle: &CycleState, at: Date) -> Option<(&Slug, &MeetingState)> {
    cycle
        .meetings
        .iter()
        .filter(|(_, m)| m.held_on.is_none())
        .filter_map(|(id, m)| m.scheduled_for.filter(|d| *d >= at).map(|d| (d, id, m)))
        .min_by_key(|(d, id, _)| (*d, *id))
        .map(|(_, id, m)| (id, m))
}

/// The meetings of the cycle, newest first: by the date held, else the date scheduled (ties by
/// id, the greater first).
pub(crate) fn meetings_newest_first(cycle: &CycleState) -> Vec<(&Slug, &MeetingState)> {
    let mut meetings: Vec<_> = cycle.meetings.iter().collect();
    meetings.sort_by_key(|(id, m)| std::cmp::Reverse((m.held_on.or(m.scheduled_for), *id)));
    meetings
}

/// An action item or a directive of the cycle: the tasks the directives page and the meeting
/// pack list together.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Task<'a> {
    /// An action item of a meeting's minutes.
    Action(&'a Slug, &'a ActionState),
    /// A directive of the authority to an operator.
    Directive(&'a Slug, &'a DirectiveState),
}

impl<'a> Task<'a> {
    /// Its id.
    pub(crate) fn id(&self) -> &'a Slug {
        match self {
            Task::Action(id, _) | Task::Directive(id, _) => id,
        }
    }

    /// It as the item an escalation names (what [`Ledger::item_seq`] finds the entry of).
    pub(crate) fn item(&self) -> EscalatedItem {
        match self {
            Task::Action(id, _) => EscalatedItem::Action((*id).clone()),
            Task::Directive(id, _) => EscalatedItem::Directive((*id).clone()),
        }
    }

    /// The stakeholders it names (SPEC §11.12).
    pub(crate) fn stakeholders(&self) -> &'a [Slug] {
        match self {
            Task::Action(_, a) => &a.stakeholders,
            Task::Directive(_, d) => &d.stakeholders,
        }
    }

    /// Its due date.
    pub(crate) fn due(&self) -> Date {
        match self {
            Task::Action(_, a) => a.due,
            Task::Directive(_, d) => d.due,
        }
    }

    /// Where it stands.
    pub(crate) fn status(&self) -> TaskStatus {
        match self {
            Task::Action(_, a) => a.status,
            Task::Directive(_, d) => d.status,
        }
    }

    /// The escalation naming it, if any.
    pub(crate) fn escalation(&self) -> Option<&'a Slug> {
        match self {
            Task::Action(_, a) => a.escalation.as_ref(),
            Task::Directive(_, d) => d.escalation.as_ref(),
        }
    }

    /// What it is, in words.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Task::Action(..) => "action item",
            Task::Directive(..) => "directive",
        }
    }

    /// The operator it concerns: a directive's; an action item's owner when an operator owns
    /// it, else the operator its owning member is affiliated with (per the registry), if any.
    pub(crate) fn operator(&self, register: &'a Register) -> Option<&'a Slug> {
        match self {
            Task::Directive(_, d) => Some(&d.operator),
            Task::Action(_, a) => match &a.owner {
                ActionOwner::Operator(o) => Some(o),
                ActionOwner::Member(m) => register
                    .members
                    .iter()
                    .find(|x| x.member == *m)
                    .and_then(|x| x.operator.as_ref()),
            },
        }
    }
}

/// Every action item and directive of `cycle` (those concerning `operator` only, when given):
/// overdue first, the longest overdue first; then open ones by due date; then the closed, the
/// latest due first; ties by id.
pub(crate) fn tasks_overdue_first<'a>(
    cycle: &'a CycleState,
    register: &'a Register,
    operator: Option<&str>,
) -> Vec<Task<'a>> {
    let mut tasks: Vec<Task<'a>> = cycle
        .actions
        .iter()
        .map(|(id, a)| Task::Action(id, a))
        .chain(
            cycle
                .directives
                .iter()
                .map(|(id, d)| Task::Directive(id, d)),
        )
        .filter(|t| operator.is_none_or(|o| t.operator(register).is_some_and(|x| x.as_str() == o)))
        .collect();
    let rank = |t: &Task<'_>| match t.status() {
        TaskStatus::Overdue => 0,
        TaskStatus::Open => 1,
        _ => 2,
    };
    tasks.sort_by(|a, b| {
        let by_due = if rank(a) == 2 {
            b.due().cmp(&a.due())
        } else {
            a.due().cmp(&b.due())
        };
        rank(a)
            .cmp(&rank(b))
            .then(by_due)
            .then_with(|| a.id().cmp(b.id()))
    });
    tasks
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn date(text: &str) -> Date {
        Date::try_parse(text).unwrap()
    }

    fn meeting(scheduled_for: Option<&str>, held_on: Option<&str>) -> MeetingState {
        MeetingState {
            scheduled_for: scheduled_for.map(date),
            agenda: Vec::new(),
            held_on: held_on.map(date),
            attendees: Vec::new(),
            absent: Vec::new(),
            attested: Vec::new(),
            operators: 5,
            represented: 0,
            quorate: held_on.map(|_| false),
        }
    }

    fn cycle(meetings: &[(&str, MeetingState)]) -> CycleState {
        CycleState {
            quorum_percent: 50,
            meetings: meetings
                .iter()
                .map(|(id, m)| (Slug::try_new(id).unwrap(), m.clone()))
                .collect(),
            ..CycleState::default()
        }
    }

    #[test]
    fn the_next_meeting_is_the_earliest_scheduled_not_held_on_or_after_the_date() {
        let c = cycle(&[
            ("held", meeting(Some("2026-03-10"), Some("2026-03-10"))),
            ("past", meeting(Some("2026-03-01"), None)),
            ("later", meeting(Some("2026-04-20"), None)),
            ("sooner", meeting(Some("2026-03-15"), None)),
            ("unscheduled", meeting(None, Some("2026-03-12"))),
        ]);
        let (id, m) = next_meeting(&c, date("2026-03-05")).unwrap();
        assert_eq!(id.as_str(), "sooner");
        assert_eq!(m.scheduled_for, Some(date("2026-03-15")));
        // On its own date it is still the next; the day after, the later one is.
        assert_eq!(
            next_meeting(&c, date("2026-03-15")).unwrap().0.as_str(),
            "sooner"
        );
        assert_eq!(
            next_meeting(&c, date("2026-03-16")).unwrap().0.as_str(),
            "later"
        );
        assert!(next_meeting(&c, date("2026-04-21")).is_none());
        assert!(next_meeting(&CycleState::default(), date("2026-01-01")).is_none());
    }

    #[test]
    fn meetings_are_listed_newest_first_by_the_date_held_else_scheduled() {
        let c = cycle(&[
            ("a", meeting(Some("2026-01-10"), Some("2026-01-10"))),
            ("b", meeting(Some("2026-03-01"), None)),
            ("c", meeting(None, Some("2026-02-01"))),
            ("d", meeting(Some("2026-01-05"), Some("2026-02-20"))),
        ]);
        let order: Vec<&str> = meetings_newest_first(&c)
            .iter()
            .map(|(id, _)| id.as_str())
            .collect();
        assert_eq!(order, ["b", "d", "c", "a"]);
    }

    fn slug(text: &str) -> Slug {
        Slug::try_new(text).unwrap()
    }

    #[test]
    fn tasks_are_listed_overdue_first_then_open_by_due_then_closed_latest_first() {
        let action = |owner: ActionOwner, due: &str, status: TaskStatus| ActionState {
            meeting: slug("m1"),
            owner,
            due: date(due),
            status,
            escalation: None,
            stakeholders: Vec::new(),
        };
        let directive = |operator: &str, due: &str, status: TaskStatus| DirectiveState {
            operator: slug(operator),
            issued: date("2026-01-01"),
            due: date(due),
            status,
            escalation: None,
            stakeholders: Vec::new(),
        };
        let mut c = cycle(&[]);
        c.actions.insert(
            slug("a-open"),
            action(
                ActionOwner::Operator(slug("op-a")),
                "2026-05-01",
                TaskStatus::Open,
            ),
        );
        c.actions.insert(
            slug("a-late"),
            action(
                ActionOwner::Member(slug("ciso-b")),
                "2026-02-01",
                TaskStatus::Overdue,
            ),
        );
        c.actions.insert(
            slug("a-done"),
            action(
                ActionOwner::Member(slug("chair")),
                "2026-01-15",
                TaskStatus::Done,
            ),
        );
        c.directives.insert(
            slug("d-later"),
            directive("op-a", "2026-03-01", TaskStatus::Overdue),
        );
        c.directives.insert(
            slug("d-missed"),
            directive("op-b", "2026-02-15", TaskStatus::Missed),
        );
        c.directives.insert(
            slug("d-soon"),
            directive("op-b", "2026-04-01", TaskStatus::Open),
        );
        let member = |id: &str, operator: Option<&str>| hisaab_model::report::MemberItem {
            member: slug(id),
            name: hisaab_model::Text::try_new(id).unwrap(),
            roles: Vec::new(),
            operator: operator.map(slug),
            active: true,
        };
        let register = Register {
            at: date("2026-03-10"),
            operators: Vec::new(),
            members: vec![member("ciso-b", Some("op-b")), member("chair", None)],
            kpis: Vec::new(),
            commitments: Vec::new(),
            disputes: Vec::new(),
            challenges: Vec::new(),
            meetings: Vec::new(),
        };
        let ids = |operator: Option<&str>| -> Vec<String> {
            tasks_overdue_first(&c, &register, operator)
                .iter()
                .map(|t| t.id().as_str().to_owned())
                .collect()
        };
        assert_eq!(
            ids(None),
            ["a-late", "d-later", "d-soon", "a-open", "d-missed", "a-done"]
        );
        // An action item owned by a member concerns the member's operator; one owned by a
        // member of no operator concerns none.
        assert_eq!(ids(Some("op-b")), ["a-late", "d-soon", "d-missed"]);
        assert_eq!(ids(Some("op-a")), ["d-later", "a-open"]);
        assert!(ids(Some("op-c")).is_empty());
        let kinds: Vec<&str> = tasks_overdue_first(&c, &register, Some("op-a"))
            .iter()
            .map(Task::kind)
            .collect();
        assert_eq!(kinds, ["directive", "action item"]);
    }

    #[test]
    fn a_page_asked_while_the_series_is_fed_gets_its_view_at_once_and_the_series_later() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::test_support::demo_store(&dir.path().join("ledger"), 6);
        let size = store.size();
        let views = Views::default();
        // Someone is feeding the series (the warm-up): a page does not wait for it.
        let feeding = views.series.lock().unwrap();
        let first = views.get(&store, size, None, Feed::IfFree).unwrap();
        assert!(first.series_pending && first.series.is_empty());
        assert_eq!(*first.state, store.state(Some(size), None).unwrap());
        // Every entry's scope comes from the store's index meanwhile.
        let public = first.for_reader(&Reader::Public);
        let scopes = store.scopes(&(0..size).collect::<Vec<_>>()).unwrap();
        for (seq, scope) in (0..size).zip(&scopes) {
            let readable = entry_access(&Reader::Public, scope) == EntryAccess::Full;
            assert_eq!(public.may_read(seq), readable, "{seq}");
        }
        assert!(
            scopes.iter().any(|s| *s != Scope::Registry),
            "the demo has operators' data"
        );
        // The warm-up's own first view does not feed either.
        assert!(
            views
                .get(&store, size, None, Feed::Never)
                .unwrap()
                .series_pending
        );
        drop(feeding);
        // Once fed, the cached view gets its series: that of a view built with it.
        let filled = views.get(&store, size, None, Feed::IfFree).unwrap();
        assert!(!filled.series_pending && !filled.series.is_empty());
        assert!(
            Arc::ptr_eq(&filled.state, &first.state),
            "the view is not rebuilt"
        );
        let fresh = Views::default()
            .get(&store, size, None, Feed::Wait)
            .unwrap();
        assert_eq!(filled.series, fresh.series);
        assert!(Arc::ptr_eq(
            &views.get(&store, size, None, Feed::IfFree).unwrap(),
            &filled
        ));
    }
}
