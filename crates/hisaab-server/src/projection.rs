//! Projections of SPEC §5 cached per tree size, so that repeated reads of the state, and the
//! witness look-ups of `POST /v1/cosignatures`, cost one rebuild per checkpoint and not one
//! per request.
//!
//! A projection is a function of the entries (fixed once appended), the tree size and the
//! `at` date, so a cached one never goes stale: it is only evicted for room. Rebuilding
//! (decode the nearest snapshot, replay up to a snapshot interval of entries, encode) is
//! bounded twice over: at most [`crate::ServerConfig::projections_max`] rebuilds run at once,
//! and a request that finds none free is answered 503 `overloaded` at once instead of queueing
//! blocking work. The rebuild of the latest state is shared: concurrent requests for it wait
//! for the one rebuild instead of each starting their own. A rebuild keeps running if its
//! request is cut off (blocking work cannot be interrupted), but it holds its permit until it
//! ends, so abandoned rebuilds still count against the bound.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use hisaab_log::{jcs, Date, PublicKey};
use hisaab_model::{MemberStatus, Role};
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// How many projections are kept (the latest and a few `as_of`/`at` ones).
const CACHED_MAX: usize = 16;

/// A member as a witness look-up needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MemberKey {
    /// The member's current key.
    pub(crate) key: PublicKey,
    /// Whether the member holds the `witness` role.
    pub(crate) is_witness: bool,
    /// Whether the member is active (not revoked).
    pub(crate) is_active: bool,
}

/// One projection: its canonical JSON and its members, read off the typed state.
#[derive(Debug)]
pub(crate) struct Projection {
    /// JCS of the state.
    pub(crate) canonical: Vec<u8>,
    /// Members by id.
    pub(crate) members: BTreeMap<String, MemberKey>,
    /// The state itself, from which readers are identified and views made (SPEC §13).
    pub(crate) state: hisaab_model::State,
}

/// The key of a cached projection: the tree size and the `at` date (`None`: the default).
type Key = (u64, Option<Date>);

/// The cache and the bound on rebuilds.
#[derive(Debug)]
pub(crate) struct Projections {
    cached: Mutex<VecDeque<(Key, Arc<Projection>)>>,
    rebuilds: Arc<Semaphore>,
    /// Held while the latest projection is rebuilt, so that concurrent requests share one.
    latest: tokio::sync::Mutex<()>,
    /// How many rebuilds were started.
    started: AtomicU64,
}

impl Projections {
    /// A cache allowing `rebuilds_max` rebuilds at once (at least 1).
    pub(crate) fn new(rebuilds_max: usize) -> Self {
        Projections {
            cached: Mutex::new(VecDeque::with_capacity(CACHED_MAX)),
            rebuilds: Arc::new(Semaphore::new(rebuilds_max.max(1))),
            latest: tokio::sync::Mutex::new(()),
            started: AtomicU64::new(0),
        }
    }

    /// How many rebuilds were started since the server started.
    pub(crate) fn rebuilds(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    fn lookup(&self, key: &Key) -> Option<Arc<Projection>> {
        let cached = self.cached.lock().ok()?;
        cached
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, projection)| Arc::clone(projection))
    }

    fn insert(&self, key: Key, projection: Arc<Projection>) {
        if let Ok(mut cached) = self.cached.lock() {
            if cached.iter().any(|(k, _)| *k == key) {
                return;
            }
            if cached.len() >= CACHED_MAX {
                cached.pop_front();
            }
            cached.push_back((key, projection));
        }
    }

    /// The projection of the first `tree_size` entries at `at`, from the cache or rebuilt.
    ///
    /// # Errors
    /// 503 `overloaded` when every rebuild slot is taken; the store's errors.
    pub(crate) async fn get(
        &self,
        store: &hisaab_store::Store,
        tree_size: u64,
        at: Option<Date>,
    ) -> Result<Arc<Projection>, ApiError> {
        let key = (tree_size, at);
        if let Some(hit) = self.lookup(&key) {
            return Ok(hit);
        }
        // Requests for the latest state wait for one shared rebuild; others rebuild alone.
        let _shared = if at.is_none() && tree_size == store.size() {
            let guard = self.latest.lock().await;
            if let Some(hit) = self.lookup(&key) {
                return Ok(hit);
            }
            Some(guard)
        } else {
            None
        };
        let Ok(permit) = Arc::clone(&self.rebuilds).try_acquire_owned() else {
            tracing::warn!(
                tree_size,
                "overloaded: every projection rebuild slot is taken"
            );
            return Err(ApiError::Overloaded);
        };
        self.started.fetch_add(1, Ordering::Relaxed);
        let store = store.clone();
        let projection = crate::blocking::blocking(move || {
            let projection = build(&store, tree_size, at);
            drop(permit);
            projection
        })
        .await?;
        let projection = Arc::new(projection);
        self.insert(key, Arc::clone(&projection));
        Ok(projection)
    }
}

fn build(
    store: &hisaab_store::Store,
    tree_size: u64,
    at: Option<Date>,
) -> Result<Projection, ApiError> {
    let state = store.state(Some(tree_size), at).map_err(ApiError::from)?;
    let canonical =
        jcs::to_canonical(&state).map_err(|error| ApiError::internal("state to JSON", &error))?;
    let members = state
        .members
        .iter()
        .map(|(id, member)| {
            let key = MemberKey {
                key: member.key,
                is_witness: member.roles.contains(&Role::Witness),
                is_active: member.status == MemberStatus::Active,
            };
            (id.as_str().to_owned(), key)
        })
        .collect();
    Ok(Projection {
        canonical,
        members,
        state,
    })
}
