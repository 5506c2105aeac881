//! `hisaab load`: a load generator. It pre-signs N valid envelopes as an authority
//! (`operator.registered` or `kpi.defined`, which the model accepts in bulk), posts them over C
//! concurrent connections, as fast as they are answered or at an offered rate (`--rate`), and
//! reports throughput and latency percentiles; every receipt is then verified. With `--log-key` it also measures the in-process ingest floor: a replica of the
//! server's ledger is built in a temporary directory from the server's bundle, and the same
//! envelopes are appended to it directly with the same concurrency.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use hisaab_client::api::Receipt;
use hisaab_client::{Client, LogIdentity, Session};
use hisaab_log::bundle::BundleReader;
use hisaab_log::{Envelope, SigningKey};
use hisaab_model::body::{KpiDefinedBody, OperatorRegisteredBody};
use hisaab_model::{Body, Cadence, Direction, Kind, KpiId, Pillar, Slug, Text};
use hisaab_store::{ManualClock, Store, StoreConfig};
use serde_json::json;

use crate::args::{LoadArgs, LoadKind};
use crate::connect;
use crate::keyfile;
use crate::util::{self, Draft};

/// The most envelopes one run sends.
const COUNT_MAX: u64 = 1_000_000;
/// The most concurrent connections.
const CONCURRENCY_MAX: usize = 1024;
/// The most `kpi.defined` per run: KPI ids are `<6 letters>-<0..9999>`.
const KPI_COUNT_MAX: u64 = 10_000;

/// Latency figures of one run.
#[derive(Debug, Clone, serde::Serialize)]
struct Figures {
    ok: u64,
    failed: u64,
    seconds: f64,
    per_second: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

fn figures(mut latencies: Vec<Duration>, failed: u64, wall: Duration) -> Figures {
    latencies.sort_unstable();
    let pick = |q: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let last = latencies.len().saturating_sub(1);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        // A rank within 0..=last, computed in f64 from small counts.
        let rank = ((last as f64) * q).round() as usize;
        latencies
            .get(rank.min(last))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let ok = latencies.len() as u64;
    let seconds = wall.as_secs_f64();
    Figures {
        ok,
        failed,
        seconds,
        per_second: if seconds > 0.0 {
            ok as f64 / seconds
        } else {
            0.0
        },
        p50_ms: pick(0.50),
        p90_ms: pick(0.90),
        p99_ms: pick(0.99),
        max_ms: pick(1.0),
    }
}

/// Runs `hisaab load`.
pub(crate) fn run(args: &LoadArgs) -> Result<std::process::ExitCode> {
    if args.count == 0 || args.count > COUNT_MAX {
        bail!("-n must be within 1..={COUNT_MAX}");
    }
    if args.concurrency == 0 || args.concurrency > CONCURRENCY_MAX {
        bail!("-c must be within 1..={CONCURRENCY_MAX}");
    }
    if args.kind == LoadKind::Kpi && args.count > KPI_COUNT_MAX {
        bail!("--kind kpi sends at most {KPI_COUNT_MAX} envelopes per run");
    }
    let key = keyfile::read(&args.key)?;
    let mut session = connect::open_server_as_signer(&args.server, &key)?;
    let before = session.latest_checkpoint()?.checkpoint;

    eprintln!("pre-signing {} envelopes…", args.count);
    let started = Instant::now();
    let envelopes = presign(&key, &session.log, args.kind, args.count)?;
    let bodies: Vec<Vec<u8>> = envelopes
        .iter()
        .map(Envelope::canonical_bytes)
        .collect::<Result<_, _>>()?;
    let signing = started.elapsed();

    eprintln!(
        "posting them to {} over {} connections…",
        session.client.base(),
        args.concurrency
    );
    let (http, receipts, statuses) =
        post_all(session.client.base(), &bodies, args.concurrency, args.rate)?;

    // Every receipt's inclusion proof is checked against its checkpoint, after the clock stops.
    let verified = session.verify_receipt_proofs(&receipts)?;
    let after = session.latest_checkpoint()?.checkpoint;

    let floor = match &args.log_key {
        Some(path) => Some(ingest_floor(
            &session,
            &keyfile::read(path)?,
            before.size,
            &envelopes,
            args.concurrency,
        )?),
        None => None,
    };

    let kind = match args.kind {
        LoadKind::Operator => Kind::OperatorRegistered,
        LoadKind::Kpi => Kind::KpiDefined,
    };
    if args.json {
        println!(
            "{}",
            json!({
                "kind": kind.as_str(), "count": args.count, "concurrency": args.concurrency,
                "offered_per_second": args.rate,
                "server": session.client.base(), "signing_seconds": signing.as_secs_f64(),
                "http": http, "statuses": statuses, "receipts_verified": verified,
                "log": { "from": before.size, "to": after.size },
                "floor": floor,
            })
        );
    } else {
        let offered = args
            .rate
            .map_or_else(String::new, |r| format!(", offered at {r}/s"));
        println!(
            "load: {} x {kind} signed in {:.2} s, posted to {} over {} connections{offered}",
            args.count,
            signing.as_secs_f64(),
            session.client.base(),
            args.concurrency
        );
        print_figures("http ", &http);
        let statuses: Vec<String> = statuses.iter().map(|(s, n)| format!("{s}: {n}")).collect();
        println!("       statuses {}", statuses.join(", "));
        println!(
            "       {verified} receipts verified (inclusion in their checkpoints); log {} -> {}, \
             consistent",
            before.size, after.size
        );
        match &floor {
            Some(f) => {
                print_figures("floor", f);
                println!(
                    "       (same envelopes appended directly to a replica store in a temp dir, \
                     {} concurrent appends)",
                    args.concurrency
                );
            }
            None => println!("floor: skipped (pass --log-key to measure the in-process floor)"),
        }
    }
    if http.failed > 0 {
        bail!(
            "{} of {} statements were not accepted",
            http.failed,
            args.count
        );
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn print_figures(label: &str, f: &Figures) {
    println!(
        "{label}: {} ok, {} failed in {:.2} s = {:.0} statements/s; latency ms p50 {:.2} p90 {:.2} \
         p99 {:.2} max {:.2}",
        f.ok, f.failed, f.seconds, f.per_second, f.p50_ms, f.p90_ms, f.p99_ms, f.max_ms
    );
}

/// Signs `count` envelopes of `kind` for the ledger `log`, in its format.
fn presign(
    key: &SigningKey,
    log: &LogIdentity,
    kind: LoadKind,
    count: u64,
) -> Result<Vec<Envelope>> {
    let run: u32 = rand::random();
    // Six capital letters from the run id, for KPI ids.
    let letters: String = (0..6)
        .map(|i| char::from(b'A' + u8::try_from((run >> (i * 5)) % 26).unwrap_or(0)))
        .collect();
    (0..count)
        .map(|i| {
            let body = match kind {
                LoadKind::Operator => Body::OperatorRegistered(OperatorRegisteredBody {
                    operator: Slug::try_new(&format!("load-{run:08x}-{i}"))?,
                    name: Text::try_new(&format!("Load test operator {i} of run {run:08x}"))?,
                    blinding: (log.format >= 2)
                        .then(|| hisaab_log::seal::Blinding::from_bytes(rand::random())),
                    ext: None,
                }),
                LoadKind::Kpi => Body::KpiDefined(KpiDefinedBody {
                    kpi: KpiId::try_new(&format!("{letters}-{i}"))?,
                    pillar: Pillar::Resilience,
                    title: Text::try_new(&format!("Load test KPI {i}"))?,
                    unit: Text::try_new("%")?,
                    direction: Direction::HigherIsBetter,
                    cadence: Cadence::Monthly,
                    evidence_required: false,
                    ext: None,
                }),
            };
            util::sign_draft(Draft::of(&body, log.ledger, log.format)?, key)
        })
        .collect()
}

type Posted = (Figures, Vec<Receipt>, BTreeMap<String, u64>);

/// Posts every body over `concurrency` connections, each a thread with its own client: as
/// soon as a connection is free, or, with `rate`, body i at i/rate seconds after the start,
/// its latency counted from that moment (so time spent waiting for a free connection counts).
fn post_all(
    base: &str,
    bodies: &[Vec<u8>],
    concurrency: usize,
    rate: Option<u32>,
) -> Result<Posted> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(Duration, Result<Receipt, String>)>> =
        Mutex::new(Vec::with_capacity(bodies.len()));
    let clients = (0..concurrency)
        .map(|_| Client::new(base))
        .collect::<Result<Vec<_>, _>>()?;
    let started = Instant::now();
    std::thread::scope(|scope| {
        for client in &clients {
            scope.spawn(|| {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else { break };
                    let t = match rate {
                        Some(rate) => {
                            #[allow(clippy::cast_precision_loss)]
                            // i < 10^6: exact in f64.
                            let due = started + Duration::from_secs_f64(i as f64 / f64::from(rate));
                            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                                std::thread::sleep(wait);
                            }
                            due
                        }
                        None => Instant::now(),
                    };
                    let outcome = client
                        .post_envelope_bytes(body.clone())
                        .map(|posted| posted.receipt)
                        .map_err(|e| {
                            e.http()
                                .map_or_else(|| "transport".to_owned(), |h| h.status.to_string())
                        });
                    mine.push((t.elapsed(), outcome));
                }
                if let Ok(mut all) = results.lock() {
                    all.extend(mine);
                }
            });
        }
    });
    let wall = started.elapsed();
    let results = results
        .into_inner()
        .map_err(|_| anyhow!("a sender thread panicked"))?;
    let mut latencies = Vec::with_capacity(results.len());
    let mut receipts = Vec::with_capacity(results.len());
    let mut statuses = BTreeMap::new();
    let mut failed = 0u64;
    for (latency, outcome) in results {
        match outcome {
            Ok(receipt) => {
                latencies.push(latency);
                receipts.push(receipt);
                *statuses.entry("201/200".to_owned()).or_insert(0) += 1;
            }
            Err(status) => {
                failed += 1;
                *statuses.entry(status).or_insert(0) += 1;
            }
        }
    }
    Ok((figures(latencies, failed, wall), receipts, statuses))
}

/// Builds a replica of the server's ledger at `size` in a temporary directory (each entry
/// recorded at its original time, so the replica is byte for byte the same log), checks its
/// root against the server's, then appends `envelopes` to it with `concurrency` tasks.
fn ingest_floor(
    session: &Session,
    log_key: &SigningKey,
    size: u64,
    envelopes: &[Envelope],
    concurrency: usize,
) -> Result<Figures> {
    // A format-2 ledger's sealed entries cannot be appended again without their signers'
    // sealings (SPEC §12.5), which no bundle holds: its replica is its genesis alone, so the
    // floor appends to a shorter log (the cost of an append does not grow with it).
    let size = if session.log.format >= 2 {
        eprintln!(
            "the ledger is of format {}: its sealed entries cannot be appended again without \
             their signers' sealings, so the in-process floor's replica is its genesis alone",
            session.log.format
        );
        size.min(1)
    } else {
        size
    };
    eprintln!("building a replica of the first {size} entries for the in-process floor…");
    let mut bytes = Vec::new();
    session
        .client
        .bundle(size)?
        .take(1 << 32)
        .read_to_end(&mut bytes)?;
    let verified = hisaab_model::verify_bundle(bytes.as_slice())
        .context("the server's bundle does not verify")?;
    let dir = TempDir::new()?;
    let mut reader = BundleReader::new(bytes.as_slice())?;
    let genesis = reader
        .next_entry()?
        .ok_or_else(|| anyhow!("the bundle has no genesis"))?;
    let millis = |e: &hisaab_log::SealedEntry| {
        i64::try_from(e.entry().recorded_at.unix_nanos().div_euclid(1_000_000)).unwrap_or(0)
    };
    let clock = Arc::new(ManualClock::new(millis(&genesis)));
    let store = Store::create(
        dir.path(),
        genesis.entry().envelope(),
        log_key.clone(),
        StoreConfig::default(),
        clock.clone(),
    )
    .context("cannot create the replica store (is --log-key the server's log key?)")?;
    while let Some(entry) = reader.next_entry()? {
        clock.set(millis(&entry));
        store
            .append_blocking(entry.entry().envelope())
            .with_context(|| format!("the replica refused seq {}", entry.entry().seq))?;
    }
    if store.root(size)? != verified.root {
        bail!("the replica's root differs from the server's");
    }
    clock.set(util::now_unix_millis());

    eprintln!(
        "appending the same {} envelopes in process…",
        envelopes.len()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let envelopes = Arc::new(envelopes.to_vec());
    let started = Instant::now();
    let outcomes = runtime.block_on(async {
        let mut tasks = Vec::with_capacity(concurrency);
        for _ in 0..concurrency {
            let store = store.clone();
            let next = Arc::clone(&next);
            let envelopes = Arc::clone(&envelopes);
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(envelope) = envelopes.get(i) else {
                        break;
                    };
                    let t = Instant::now();
                    let ok = store.append(envelope.clone()).await.is_ok();
                    mine.push((t.elapsed(), ok));
                }
                mine
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap_or_default());
        }
        all
    });
    let wall = started.elapsed();
    let failed = outcomes.iter().filter(|(_, ok)| !ok).count() as u64;
    let latencies = outcomes
        .into_iter()
        .filter(|(_, ok)| *ok)
        .map(|(d, _)| d)
        .collect();
    store.close()?;
    drop(store);
    Ok(figures(latencies, failed, wall))
}

/// A temporary directory removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Result<Self> {
        let path = std::env::temp_dir().join(format!(
            "hisaab-load-{}-{}",
            std::process::id(),
            util::now_unix_millis()
        ));
        std::fs::create_dir_all(&path)?;
        Ok(TempDir(path))
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
