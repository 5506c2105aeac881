//! `hisaab demo`: builds the realistic ledger of `hisaab_scenario` in a fresh data
//! directory with real keys, verifies it end to end, prints what to look at, and serves it.

use std::io::BufReader;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, Context as _, Result};
use hisaab_log::{Date, Timestamp};
use hisaab_model::{MemberStatus, Role, State};
use hisaab_scenario::ScenarioConfig;
use hisaab_server::ServerConfig;
use hisaab_store::{ManualClock, MasterKey, Store, StoreConfig, SystemClock};

use crate::args::DemoArgs;
use crate::datadir::{default_master_key, refuse_non_empty};
use crate::keyfile;
use crate::progress::Progress;
use crate::serving::{init_tracing, serve_store};

/// What the demo built, for the guide it prints.
struct Built {
    data: PathBuf,
    ledger_dir: PathBuf,
    keys_dir: PathBuf,
    bundle: PathBuf,
    log_key: PathBuf,
    ledger: String,
    vkey: String,
    size: u64,
    root: String,
    /// `(member, operator, kpi, period, latest submission)` of an active CISO.
    ciso: Option<(String, String, String, String, String)>,
    /// An active witness.
    witness: Option<String>,
    actors: Vec<(String, String, bool)>,
}

/// Runs `hisaab demo`.
pub(crate) fn run(args: &DemoArgs) -> Result<ExitCode> {
    let data = match &args.data {
        Some(dir) => {
            refuse_non_empty(dir)?;
            dir.clone()
        }
        None => std::env::temp_dir().join(format!(
            "hisaab-demo-{}-{}",
            std::process::id(),
            crate::util::now_unix_millis()
        )),
    };
    let seed = args.seed.unwrap_or_else(rand::random);
    let start = match &args.start {
        Some(text) => Date::try_parse(text).context("--start must be a date YYYY-MM-DD")?,
        None => default_start(args.months)?,
    };
    let (store, built) = build(&data, seed, args.months, start)?;
    let exe = std::env::current_exe()
        .ok()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "hisaab".to_owned());
    if args.no_serve {
        store.close()?;
        print!("{}", guide(&built, &exe, args.listen, false));
        return Ok(ExitCode::SUCCESS);
    }
    init_tracing();
    let banner = |address: SocketAddr| guide(&built, &exe, address, true);
    serve_store(store, ServerConfig::default(), args.listen, Some(&banner))?;
    Ok(ExitCode::SUCCESS)
}

/// Builds, stores, exports and verifies the scenario's ledger.
fn build(data: &Path, seed: u64, months: u32, start: Date) -> Result<(Store, Built)> {
    let config = ScenarioConfig {
        seed,
        months,
        start,
        ..ScenarioConfig::default()
    };
    eprintln!("building the scenario (seed {seed}, {months} months from {start})…");
    let scenario = hisaab_scenario::build(&config).context("the scenario does not build")?;
    let ledger_dir = data.join("ledger");
    let keys_dir = data.join("keys");
    std::fs::create_dir_all(&keys_dir)
        .with_context(|| format!("cannot create {}", keys_dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&keys_dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let log_key_path = keys_dir.join("log.pem");
    keyfile::write_new(&log_key_path, &scenario.log_key)?;
    let mut actors = Vec::new();
    for actor in &scenario.actors {
        keyfile::write_new(&keys_dir.join(format!("{}.pem", actor.member)), &actor.key)?;
        actors.push((actor.member.clone(), actor.roles.join(","), actor.revoked));
    }

    // The master key that keeps the openings of sealed fields, beside the log key (SPEC §12.10).
    let master_path = default_master_key(&log_key_path);
    let master = MasterKey::create_file(&master_path)
        .with_context(|| format!("cannot write {}", master_path.display()))?;

    // Every statement sealed as its signer seals it (SPEC §12.5; seeds derived from the
    // scenario, so the demo stays deterministic) and posted with its sealing.
    let sealed = scenario.sealed().context("the scenario does not seal")?;
    let mut steps = sealed.steps.iter().zip(&scenario.steps);
    let (genesis, _) = steps
        .next()
        .ok_or_else(|| anyhow!("the scenario has no steps"))?;
    let genesis = genesis.entry.entry();
    let clock = Arc::new(ManualClock::new(millis(&genesis.recorded_at)?));
    let store = Store::create_with_master_key(
        &ledger_dir,
        genesis.envelope(),
        scenario.log_key.clone(),
        master.clone(),
        StoreConfig::default(),
        clock.clone(),
    )
    .with_context(|| format!("cannot create the ledger in {}", ledger_dir.display()))?;
    let total = u64::try_from(scenario.steps.len()).unwrap_or(u64::MAX);
    let mut progress = Progress::new("appending", Some(total), "entries");
    for (seq, (step, plain)) in (1u64..).zip(steps) {
        // Each step is recorded at the time the scenario gives it, so the ledger is the
        // sealed scenario's, byte for byte.
        let entry = step.entry.entry();
        clock.set(millis(&entry.recorded_at)?);
        store
            .append_sealed_blocking(entry.envelope(), step.sealing.clone())
            .with_context(|| format!("step {seq} ({}) was refused", plain.label))?;
        progress.set(seq + 1);
    }
    progress.finish();

    eprintln!("verifying the store (every entry, rule, hash and index)…");
    let report = store.verify_full().context("the store does not verify")?;
    let bundle = data.join("bundle.jsonl");
    let file = std::fs::File::create(&bundle)
        .with_context(|| format!("cannot create {}", bundle.display()))?;
    let mut out = std::io::BufWriter::new(file);
    store.export_bundle(report.size, &mut out)?;
    std::io::Write::flush(&mut out)?;
    drop(out);
    eprintln!("verifying the exported bundle independently…");
    let verified = hisaab_model::verify_bundle(BufReader::new(std::fs::File::open(&bundle)?))
        .context("the exported bundle does not verify")?;
    if verified.size != report.size || verified.root != report.root {
        return Err(anyhow!(
            "the bundle and the store disagree on the size or root"
        ));
    }
    let state = store.state(None, None)?;
    // The store was built on the scenario's clock; from now on it records with the wall clock.
    store.close()?;
    drop(store);
    let store = Store::open_with_master_key(
        &ledger_dir,
        scenario.log_key.clone(),
        master,
        StoreConfig::default(),
        Arc::new(SystemClock),
    )
    .context("cannot reopen the ledger")?;
    let built = Built {
        data: data.to_path_buf(),
        ledger_dir,
        keys_dir,
        bundle,
        log_key: log_key_path,
        ledger: verified.ledger_id.to_hex(),
        vkey: store.log_vkey().to_vkey(),
        size: verified.size,
        root: verified.root.to_hex(),
        ciso: find_ciso(&state),
        witness: find_member_with_role(&state, Role::Witness),
        actors,
    };
    Ok((store, built))
}

/// The first day of the month `months + 1` months before this one: the scenario then ends in
/// the previous month, so that statements signed now are recorded after it (recording time never
/// goes back, and a statement must be recorded soon after it is issued).
fn default_start(months: u32) -> Result<Date> {
    let today = crate::util::now_timestamp()?.date();
    let index = i64::from(today.year()) * 12 + i64::from(today.month()) - 1;
    let first = index - i64::from(months) - 1;
    let year = u16::try_from(first.div_euclid(12)).context("the clock is out of range")?;
    let month = u8::try_from(first.rem_euclid(12) + 1).context("the clock is out of range")?;
    Date::new(year, month, 1).context("the clock is out of range")
}

fn millis(t: &Timestamp) -> Result<i64> {
    i64::try_from(t.unix_nanos().div_euclid(1_000_000)).context("a timestamp out of range")
}

/// An active member with `role`.
fn find_member_with_role(state: &State, role: Role) -> Option<String> {
    state
        .members
        .iter()
        .find(|(_, m)| m.roles.contains(&role) && m.status == MemberStatus::Active)
        .map(|(id, _)| id.to_string())
}

/// An active CISO and a KPI of their operator with a submission: `(member, operator, kpi,
/// period, latest submission)`.
fn find_ciso(state: &State) -> Option<(String, String, String, String, String)> {
    state.members.iter().find_map(|(id, m)| {
        if !m.roles.contains(&Role::Ciso) || m.status != MemberStatus::Active {
            return None;
        }
        let operator = m.operator.as_ref()?;
        let kpis = &state.operators.get(operator)?.kpis;
        kpis.iter().find_map(|(kpi, k)| {
            Some((
                id.to_string(),
                operator.to_string(),
                kpi.to_string(),
                k.period.as_ref()?.to_string(),
                k.latest_submission.as_ref()?.to_hex(),
            ))
        })
    })
}

/// The guide printed after building.
fn guide(b: &Built, exe: &str, address: SocketAddr, serving: bool) -> String {
    let url = format!("http://{address}");
    let mut s = String::new();
    let mut line = |text: String| {
        s.push_str(&text);
        s.push('\n');
    };
    line(String::new());
    line(format!(
        "Hisaab demo ledger: {} entries, verified end to end (store + independent bundle check).",
        b.size
    ));
    line(format!("  ledger id : {}", b.ledger));
    line(format!("  root      : {}", b.root));
    line(format!("  log vkey  : {}", b.vkey));
    line(format!("  data      : {}", b.data.display()));
    line(format!("  ledger dir: {}", b.ledger_dir.display()));
    line(format!("  bundle    : {}", b.bundle.display()));
    line(format!(
        "  keys      : {} (PKCS#8 PEM, one per member; log.pem signs checkpoints)",
        b.keys_dir.display()
    ));
    let members: Vec<String> = b
        .actors
        .iter()
        .map(|(m, roles, revoked)| {
            format!("{m} ({roles}{})", if *revoked { ", revoked" } else { "" })
        })
        .collect();
    line(format!("  members   : {}", members.join(", ")));
    line(String::new());
    if serving {
        line(format!("Serving on {url} (Ctrl-C to stop). Look at:"));
    } else {
        line(format!(
            "Not serving (--no-serve). Serve it with:\n  {exe} serve --data {} --log-key {} --listen {address}\nthen look at:",
            b.ledger_dir.display(),
            b.log_key.display()
        ));
    }
    line(format!("  curl {url}/v1/checkpoint"));
    line(format!("  curl {url}/v1/state"));
    line(format!("  curl '{url}/v1/entries?start=0&limit=5'"));
    line(format!("  curl {url}/openapi.json"));
    line(format!("  {exe} verify {url} --log-vkey '{}'", b.vkey));
    let half = (b.size / 2).max(1);
    line(format!("  {exe} replay {url} --diff {half} {}", b.size));
    line(format!(
        "  {exe} replay {} --as-of {half}",
        b.bundle.display()
    ));
    line(format!(
        "  {exe} verify {} --log-vkey '{}'",
        b.bundle.display(),
        b.vkey
    ));
    if let Some((member, operator, kpi, period, latest)) = &b.ciso {
        line(format!(
            "  {exe} submit kpi --server {url} --key {} --operator {operator} --kpi {kpi} \
             --period {period} --value 99.5 --supersedes {latest} --evidence <FILE>",
            b.keys_dir.join(format!("{member}.pem")).display()
        ));
    }
    if let Some(witness) = &b.witness {
        line(format!(
            "  {exe} witness --server {url} --key {} --name {witness}",
            b.keys_dir.join(format!("{witness}.pem")).display()
        ));
    }
    line(format!(
        "  {exe} load --server {url} --key {} --log-key {} -n 5000 -c 16",
        b.keys_dir
            .join(format!(
                "{}.pem",
                b.actors
                    .first()
                    .map(|a| a.0.as_str())
                    .unwrap_or("authority")
            ))
            .display(),
        b.log_key.display()
    ));
    s
}
