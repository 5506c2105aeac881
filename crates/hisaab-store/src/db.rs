//! Opening the sled database of a store directory: waiting briefly for sled's directory lock,
//! and turning a panic inside sled's recovery into an error.

use std::path::Path;

use crate::config::StoreConfig;
use crate::error::{Corruption, StoreError};

/// Opens the sled database of the store directory `dir` as the store itself does: waiting
/// briefly for sled's directory lock while a store just closed (in this process or another)
/// lets go of it, and turning a panic inside sled's recovery into an error. It checks nothing
/// of the store above sled; [`crate::Store::open`] and [`crate::audit_dir`] do, and call it.
///
/// # Errors
/// [`StoreError::Locked`] while another handle keeps the lock; [`Corruption::DamagedFiles`]
/// when sled cannot recover its files; any other error of sled's.
pub fn open_db(dir: &Path, config: &StoreConfig) -> Result<sled::Db, StoreError> {
    // sled releases its directory lock only when its background threads let go of their last
    // handle, a moment after the last `Db` is dropped; a reopen in the same process (or right
    // after another process) waits for that, briefly, instead of failing.
    let mut attempts = 0u32;
    loop {
        let damaged = |reason: String| {
            StoreError::from(Corruption::DamagedFiles {
                path: dir.to_owned(),
                reason,
            })
        };
        let opened = open_sled(dir, config)
            .map_err(|panic| damaged(format!("sled failed inside its recovery ({panic})")))?;
        match opened {
            Err(sled::Error::Io(error)) if is_lock_held(&error) => {
                if attempts >= OPEN_LOCK_RETRIES {
                    return Err(StoreError::Locked {
                        path: dir.to_owned(),
                    });
                }
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(sled::Error::Corruption { at, .. }) => {
                return Err(damaged(match at {
                    Some(at) => format!("sled found corrupted data at {at:?}"),
                    None => "sled found corrupted data".to_owned(),
                }))
            }
            other => return other.map_err(StoreError::sled("opening the database")),
        }
    }
}

thread_local! {
    /// Set while this thread opens sled, so that a panic inside sled's recovery is turned into
    /// an error instead of being printed as a crash.
    static OPENING_SLED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Opens sled; a panic inside its recovery (it panics on some truncated files instead of
/// returning an error) is the outer `Err`, with the panic's message.
fn open_sled(dir: &Path, config: &StoreConfig) -> Result<Result<sled::Db, sled::Error>, String> {
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    QUIET_HOOK.call_once(|| {
        // Panics elsewhere go to the hook that was there before, unchanged.
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !OPENING_SLED.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    let sled_config = sled::Config::new()
        .path(dir)
        .cache_capacity(config.cache_capacity_bytes)
        .use_compression(uses_compression(dir, config.compression));
    OPENING_SLED.with(|opening| opening.set(true));
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sled_config.open()));
    OPENING_SLED.with(|opening| opening.set(false));
    opened.map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("no message")
            .chars()
            .take(200)
            .collect()
    })
}

/// Whether the sled database in `dir` compresses what it writes (zstd): as its `conf` file
/// says when it has one, since sled refuses to open a database with another setting than the
/// one it was created with; a new database as `new` says.
fn uses_compression(dir: &Path, new: bool) -> bool {
    match std::fs::read(dir.join("conf")) {
        // Lines of text, then a CRC-32 of them (4 bytes).
        Ok(conf) => String::from_utf8_lossy(&conf)
            .lines()
            .any(|line| line == "use_compression: true"),
        Err(error) => new && error.kind() == std::io::ErrorKind::NotFound,
    }
}

/// Whether sled could not take its directory lock. sled reports it either as `WouldBlock` or
/// wrapped in an `Other` error ("could not acquire lock on …: … WouldBlock …").
fn is_lock_held(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::WouldBlock
        || error.to_string().contains("could not acquire lock")
}

/// How many times `open` retries, 50 ms apart, while sled's directory lock is still held.
const OPEN_LOCK_RETRIES: u32 = 100;
