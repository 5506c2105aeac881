//! `hisaab load`: a load generator. It pre-signs N valid statements (`operator.registered` or
//! `kpi.defined` as an authority, which the model accepts in bulk, or `submission.filed` as a
//! new operator's CISO, sealed on a format-2 ledger), posts them over C concurrent connections,
//! as fast as they are answered or at an offered rate (`--rate`), and reports throughput and
//! latency percentiles; every receipt is then verified. With `--log-key` it also measures the
//! in-process ingest floor: a replica of the server's ledger is built in a temporary directory
//! from the server's bundle, and the same statements are appended to it directly with the same
//! concurrency. With `--floor` it measures the raw floor on the entries the run appended
//! (`hisaab_store::floor`: the unavoidable work, none of Hisaab's code) and prints the ratio.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use hisaab_client::api::Receipt;
use hisaab_client::{LogIdentity, Session};
use hisaab_log::bundle::BundleReader;
use hisaab_log::seal::Sealing;
use hisaab_log::{Date, Envelope, Hash, Period, PublicKey, SigningKey};
use hisaab_model::body::{
    Evidence, KpiAssignedBody, KpiDefinedBody, MemberEnrolledBody, OperatorRegisteredBody,
    SubmissionFiledBody,
};
use hisaab_model::{
    Body, Cadence, Decimal, Direction, Kind, KpiId, Note, Pillar, Role, Slug, Text,
};
use hisaab_store::{ManualClock, MasterKey, Store, StoreConfig};
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
/// The first month `--kind submission` reports; each of its KPIs takes every month from it
/// to the current one.
const FIRST_PERIOD: (u16, u8) = (2020, 1);

/// A statement ready to post: its envelope and, sealed (SPEC §12.5), its sealing.
type Signed = (Envelope, Option<Sealing>);

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

    eprintln!("pre-signing {} statements…", args.count);
    let started = Instant::now();
    let Presigned { setup, statements } = presign(&key, &session.log, args.kind, args.count)?;
    let bodies: Vec<Vec<u8>> = statements
        .iter()
        .map(|(envelope, sealing)| util::submission_bytes(envelope, sealing.as_ref()))
        .collect::<Result<_>>()?;
    let signing = started.elapsed();
    let sealed = statements.iter().filter(|(_, s)| s.is_some()).count();
    if !setup.is_empty() {
        eprintln!(
            "setting up: {} statements (an operator, its CISO, KPIs and their assignments), one \
             at a time…",
            setup.len()
        );
        for (envelope, sealing) in &setup {
            session
                .client
                .post_sealed(envelope, sealing.as_ref())
                .with_context(|| {
                    format!(
                        "the server refused the set-up statement {}",
                        envelope.statement.kind
                    )
                })?;
        }
    }

    // The entries this run appends start here (after the set-up), for the raw floor.
    let posted_from = if args.floor {
        session.latest_checkpoint()?.checkpoint.size
    } else {
        before.size
    };
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

    let raw_floor = if args.floor {
        Some(raw_floor(
            &session,
            posted_from..after.size,
            args.concurrency,
            http.per_second,
        )?)
    } else {
        None
    };
    let floor = match &args.log_key {
        Some(path) => Some(ingest_floor(
            &session,
            &keyfile::read(path)?,
            before.size,
            &setup,
            &statements,
            args.concurrency,
        )?),
        None => None,
    };

    let kind = match args.kind {
        LoadKind::Operator => Kind::OperatorRegistered,
        LoadKind::Kpi => Kind::KpiDefined,
        LoadKind::Submission => Kind::SubmissionFiled,
    };
    let bytes: usize = bodies.iter().map(Vec::len).sum();
    if args.json {
        println!(
            "{}",
            json!({
                "kind": kind.as_str(), "count": args.count, "concurrency": args.concurrency,
                "sealed": sealed, "setup": setup.len(), "posted_bytes": bytes,
                "offered_per_second": args.rate,
                "server": session.client.base(), "signing_seconds": signing.as_secs_f64(),
                "http": http, "statuses": statuses, "receipts_verified": verified,
                "log": { "from": before.size, "to": after.size },
                "floor": floor, "raw_floor": raw_floor,
            })
        );
    } else {
        let offered = args
            .rate
            .map_or_else(String::new, |r| format!(", offered at {r}/s"));
        let sealed = if sealed > 0 {
            format!(" ({sealed} sealed)")
        } else {
            String::new()
        };
        println!(
            "load: {} x {kind}{sealed} signed in {:.2} s ({} bytes posted, {} a statement), \
             posted to {} over {} connections{offered}",
            args.count,
            signing.as_secs_f64(),
            bytes,
            bytes / bodies.len().max(1),
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
        if let Some(raw) = &raw_floor {
            println!(
                "raw floor: {} entries in {:.2} s = {:.0} entries/s (the run's entries from the \
                 server's bundle: JCS, verify_strict, SHA-256 on two threads beside a sled \
                 writer flushing every {} entries, in the temporary directory); http / raw \
                 floor = {:.2}x",
                raw.entries, raw.seconds, raw.per_second, args.concurrency, raw.ratio
            );
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

/// The raw floor of the entries `from..to`, beside the rate over HTTP.
#[derive(Debug, Clone, serde::Serialize)]
struct RawFloor {
    entries: usize,
    seconds: f64,
    per_second: f64,
    /// The rate over HTTP divided by the floor's.
    ratio: f64,
}

/// Reads entries `range` back from the server's bundle (the others are read past, not kept)
/// and runs the raw floor on their lines ([`hisaab_store::floor::durable_ingest`]) in a
/// temporary directory, a flush every `batch` entries (what group commit can gather from as
/// many connections).
fn raw_floor(
    session: &Session,
    range: std::ops::Range<u64>,
    batch: usize,
    http_per_second: f64,
) -> Result<RawFloor> {
    eprintln!(
        "measuring the raw floor on entries {}..{}…",
        range.start, range.end
    );
    let bundle = std::io::BufReader::new(session.client.bundle(range.end)?.take(1 << 40));
    // The header line, then one entry a line.
    let mut lines = Vec::new();
    for (index, line) in (0u64..).zip(std::io::BufRead::split(bundle, b'\n')) {
        let line = line?;
        if index > range.start && !line.is_empty() {
            lines.push(line);
        }
    }
    let dir = tempfile::Builder::new().prefix("hisaab-floor-").tempdir()?;
    let took = hisaab_store::floor::durable_ingest(dir.path(), &lines, batch)?;
    #[allow(clippy::cast_precision_loss)] // at most 10^6 entries: exact in f64.
    let per_second = lines.len() as f64 / took.as_secs_f64().max(1e-9);
    Ok(RawFloor {
        entries: lines.len(),
        seconds: took.as_secs_f64(),
        per_second,
        ratio: http_per_second / per_second,
    })
}

fn print_figures(label: &str, f: &Figures) {
    println!(
        "{label}: {} ok, {} failed in {:.2} s = {:.0} statements/s; latency ms p50 {:.2} p90 {:.2} \
         p99 {:.2} max {:.2}",
        f.ok, f.failed, f.seconds, f.per_second, f.p50_ms, f.p90_ms, f.p99_ms, f.max_ms
    );
}

/// What a run posts: the set-up, one statement at a time before the clock starts, then the
/// statements measured.
struct Presigned {
    setup: Vec<Signed>,
    statements: Vec<Signed>,
}

/// Signs `count` statements of `kind` for the ledger `log`, in its format, sealed as its
/// signers seal them (SPEC §12.5), and the set-up they need.
fn presign(key: &SigningKey, log: &LogIdentity, kind: LoadKind, count: u64) -> Result<Presigned> {
    let run: u32 = rand::random();
    // Six capital letters from the run id, for KPI ids.
    let letters: String = (0..6)
        .map(|i| char::from(b'A' + u8::try_from((run >> (i * 5)) % 26).unwrap_or(0)))
        .collect();
    let kpi_id = |i: u64| KpiId::try_new(&format!("{letters}-{i}"));
    let define = |i: u64| -> Result<Body> {
        Ok(Body::KpiDefined(KpiDefinedBody {
            kpi: kpi_id(i)?,
            pillar: Pillar::Resilience,
            title: Text::try_new(&format!("Load test KPI {i}"))?,
            unit: Text::try_new("%")?,
            direction: Direction::HigherIsBetter,
            cadence: Cadence::Monthly,
            evidence_required: false,
            ext: None,
        }))
    };
    let operator = |i: u64| Slug::try_new(&format!("load-{run:08x}-{i}"));
    let register = |i: u64| -> Result<Body> {
        Ok(Body::OperatorRegistered(OperatorRegisteredBody {
            operator: operator(i)?,
            name: Text::try_new(&format!("Load test operator {i} of run {run:08x}"))?,
            blinding: None,
            ext: None,
        }))
    };
    let sign = |body: &Body, key: &SigningKey| -> Result<Signed> {
        util::seal_and_sign_draft(Draft::of(body, log.ledger, log.format)?, key)
    };
    let statements = |bodies: &mut dyn Iterator<Item = Result<Body>>, key: &SigningKey| {
        bodies
            .map(|body| sign(&body?, key))
            .collect::<Result<Vec<_>>>()
    };
    match kind {
        LoadKind::Operator => Ok(Presigned {
            setup: Vec::new(),
            statements: statements(&mut (0..count).map(register), key)?,
        }),
        LoadKind::Kpi => Ok(Presigned {
            setup: Vec::new(),
            statements: statements(&mut (0..count).map(define), key)?,
        }),
        LoadKind::Submission => {
            let ciso = keyfile::generate();
            let operator = operator(0)?;
            let first = Period::new(FIRST_PERIOD.0, FIRST_PERIOD.1)
                .ok_or_else(|| anyhow!("internal: the first period is not a month"))?;
            let now = Date::from_days_since_epoch(util::now_unix_millis().div_euclid(86_400_000))
                .ok_or_else(|| anyhow!("the clock is out of range"))?;
            let months = months_between(first, now.period()) + 1;
            let kpis = count.div_ceil(months);
            if kpis > KPI_COUNT_MAX {
                bail!(
                    "--kind submission sends at most {} statements per run ({KPI_COUNT_MAX} KPIs \
                     x {months} months)",
                    KPI_COUNT_MAX * months
                );
            }
            let mut setup = vec![
                register(0)?,
                Body::MemberEnrolled(MemberEnrolledBody {
                    member: Slug::try_new(&format!("load-ciso-{run:08x}"))?,
                    name: Text::try_new(&format!("Load test CISO of run {run:08x}"))?,
                    roles: vec![Role::Ciso],
                    operator: Some(operator.clone()),
                    key: PublicKey::from_signing_key(&ciso),
                    ext: None,
                }),
            ];
            for k in 0..kpis {
                setup.push(define(k)?);
                setup.push(Body::KpiAssigned(KpiAssignedBody {
                    kpi: kpi_id(k)?,
                    operator: operator.clone(),
                    target: Decimal::try_new("95")?,
                    baseline: None,
                    due: now.plus_days(365).unwrap_or(now),
                    first_period: first,
                    ext: None,
                }));
            }
            let filed = (0..count).map(|i| -> Result<Body> {
                let month = u32::try_from(i % months)?;
                Ok(Body::SubmissionFiled(SubmissionFiledBody {
                    operator: operator.clone(),
                    kpi: kpi_id(i / months)?,
                    period: first
                        .plus_months(month)
                        .ok_or_else(|| anyhow!("internal: month {month} after {first}"))?,
                    value: Some(Decimal::try_new(&format!("{}.{}", 50 + i % 50, i % 10))?),
                    evidence: Some(vec![Evidence {
                        name: Text::try_new(&format!("load-{run:08x}-{i}.pdf"))?,
                        sha256: Hash::sha256(&i.to_be_bytes()),
                        bytes: 10_000 + i,
                    }]),
                    note: Some(Note::try_new(&format!(
                        "Load test submission {i}: measured over the month as the KPI defines"
                    ))?),
                    supersedes: None,
                    ext: None,
                }))
            });
            Ok(Presigned {
                setup: statements(&mut setup.into_iter().map(Ok), key)?,
                statements: statements(&mut filed.into_iter(), &ciso)?,
            })
        }
    }
}

/// The whole months from `from` to `to` (0 when `to` is not after `from`).
fn months_between(from: Period, to: Period) -> u64 {
    let index = |p: Period| i64::from(p.year()) * 12 + i64::from(p.month());
    u64::try_from(index(to) - index(from)).unwrap_or(0)
}

type Posted = (Figures, Vec<Receipt>, BTreeMap<String, u64>);

/// How long one request may take before it counts as failed (as the verifying client's).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Posts every body over `concurrency` connections: as soon as a connection is free, or, with
/// `rate`, body i at i/rate seconds after the start, its latency counted from that moment (so
/// time spent waiting for a free connection counts).
///
/// The connections are tasks of one async client on a runtime with a worker per core: on a
/// machine the server shares, a thread and a runtime per connection (the blocking client's)
/// took about as much CPU per request as the server's signature check, and that CPU was the
/// server's. Each answer is read as a receipt here; its proof is checked after the clock stops.
fn post_all(
    base: &str,
    bodies: &[Vec<u8>],
    concurrency: usize,
    rate: Option<u32>,
) -> Result<Posted> {
    let url = format!("{base}/v1/statements");
    let http = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(concurrency)
        .build()
        .context("cannot build the HTTP client")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(bodies.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let (results, wall) = runtime.block_on(async {
        let started = tokio::time::Instant::now();
        let mut tasks = Vec::with_capacity(concurrency);
        for _ in 0..concurrency {
            let (http, url) = (http.clone(), url.clone());
            let (bodies, next) = (Arc::clone(&bodies), Arc::clone(&next));
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else { break };
                    let t = match rate {
                        Some(rate) => {
                            #[allow(clippy::cast_precision_loss)]
                            // i < 10^6: exact in f64.
                            let due = started + Duration::from_secs_f64(i as f64 / f64::from(rate));
                            tokio::time::sleep_until(due).await;
                            due
                        }
                        None => tokio::time::Instant::now(),
                    };
                    let outcome = post_one(&http, &url, body.clone()).await;
                    mine.push((t.elapsed(), outcome));
                }
                mine
            }));
        }
        let mut all = Vec::with_capacity(bodies.len());
        for task in tasks {
            all.extend(task.await.map_err(|_| anyhow!("a sender task panicked"))?);
        }
        Ok::<_, anyhow::Error>((all, started.elapsed()))
    })?;
    let mut latencies = Vec::with_capacity(results.len());
    let mut receipts = Vec::with_capacity(results.len());
    let mut statuses = BTreeMap::new();
    let mut failed = 0u64;
    for (latency, outcome) in results {
        // Read once the clock has stopped: the load generator shares the server's cores, and
        // reading a receipt is the client's work, not the server's.
        let outcome = outcome.and_then(|bytes| {
            serde_json::from_slice::<Receipt>(&bytes).map_err(|_| "unreadable receipt".to_owned())
        });
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

/// Posts one body: the bytes of a success (its receipt, read by the caller), or what went
/// wrong (the status of an error answer, `transport` without an answer).
async fn post_one(http: &reqwest::Client, url: &str, body: Vec<u8>) -> Result<Vec<u8>, String> {
    let response = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|_| "transport".to_owned())?;
    let status = response.status();
    if !status.is_success() {
        return Err(status.to_string());
    }
    let bytes = response.bytes().await.map_err(|_| "transport".to_owned())?;
    Ok(bytes.to_vec())
}

/// Builds a replica of the server's ledger at `size` in a temporary directory (each entry
/// recorded at its original time, so the replica is byte for byte the same log), checks its
/// root against the server's, appends `setup` to it one at a time, then `statements` with
/// `concurrency` tasks, measured.
fn ingest_floor(
    session: &Session,
    log_key: &SigningKey,
    size: u64,
    setup: &[Signed],
    statements: &[Signed],
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
    let dir = tempfile::Builder::new().prefix("hisaab-load-").tempdir()?;
    let mut reader = BundleReader::new(bytes.as_slice())?;
    let genesis = reader
        .next_entry()?
        .ok_or_else(|| anyhow!("the bundle has no genesis"))?;
    let millis = |e: &hisaab_log::SealedEntry| {
        i64::try_from(e.entry().recorded_at.unix_nanos().div_euclid(1_000_000)).unwrap_or(0)
    };
    let clock = Arc::new(ManualClock::new(millis(&genesis)));
    // Sealed entries keep their openings encrypted, as the server's store does.
    let master = (session.log.format >= 2).then(MasterKey::generate);
    let store = match master {
        Some(master) => Store::create_with_master_key(
            dir.path(),
            genesis.entry().envelope(),
            log_key.clone(),
            master,
            StoreConfig::default(),
            clock.clone(),
        ),
        None => Store::create(
            dir.path(),
            genesis.entry().envelope(),
            log_key.clone(),
            StoreConfig::default(),
            clock.clone(),
        ),
    }
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
    for (envelope, sealing) in setup {
        store
            .append_sealed_blocking(envelope.clone(), sealing.clone())
            .with_context(|| {
                format!(
                    "the replica refused the set-up statement {}",
                    envelope.statement.kind
                )
            })?;
    }

    eprintln!(
        "appending the same {} statements in process…",
        statements.len()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let statements = Arc::new(statements.to_vec());
    let started = Instant::now();
    let outcomes = runtime.block_on(async {
        let mut tasks = Vec::with_capacity(concurrency);
        for _ in 0..concurrency {
            let store = store.clone();
            let next = Arc::clone(&next);
            let statements = Arc::clone(&statements);
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((envelope, sealing)) = statements.get(i) else {
                        break;
                    };
                    let t = Instant::now();
                    let ok = store
                        .append_sealed(envelope.clone(), sealing.clone())
                        .await
                        .is_ok();
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
