//! `hisaab init`: a new ledger in a data directory, from a genesis built here and signed with
//! the authority's key, or from a genesis envelope signed elsewhere.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use hisaab_log::note::VerifierKey;
use hisaab_log::{Date, Envelope};
use hisaab_model::body::{GenesisAuthority, Strategy};
use hisaab_model::{Body, GenesisBody, Kind, Origin, Policy, Slug, Text};
use hisaab_store::{MasterKey, Store, StoreConfig, SystemClock};

use crate::args::InitArgs;
use crate::datadir::{default_master_key, refuse_non_empty};
use crate::keyfile;
use crate::util::{self, Draft};

/// Runs `hisaab init`.
pub(crate) fn run(args: &InitArgs) -> Result<ExitCode> {
    refuse_non_empty(&args.data)?;
    let log_key = keyfile::read(&args.log_key)?;
    let genesis = match &args.genesis {
        Some(path) => {
            let bytes = util::read_input(path)?;
            Envelope::try_from_json(&bytes)
                .with_context(|| format!("{} is not a valid envelope", path.display()))?
        }
        None => build_genesis(args, &log_key)?,
    };
    let config = StoreConfig {
        compression: args.compress,
        ..StoreConfig::default()
    };
    let clock = Arc::new(SystemClock);
    let master_path = args
        .master_key
        .clone()
        .unwrap_or_else(|| default_master_key(&args.log_key));
    let store = if genesis.statement.v >= 2 {
        // Format 2 seals fields: its openings are kept under a master key beside the log key.
        let (master, made) = if master_path.exists() {
            (MasterKey::read_file(&master_path), false)
        } else {
            (MasterKey::create_file(&master_path), true)
        };
        let master = master.with_context(|| format!("the master key {}", master_path.display()))?;
        if made {
            println!(
                "wrote the master key to {} (mode 0600)",
                master_path.display()
            );
        } else {
            println!("using the master key in {}", master_path.display());
        }
        Store::create_with_master_key(&args.data, genesis, log_key, master, config, clock)
    } else {
        Store::create(&args.data, genesis, log_key, config, clock)
    }
    .with_context(|| format!("cannot create a ledger in {}", args.data.display()))?;
    let ledger = store
        .entry(0)?
        .map(|genesis| genesis.event_hash())
        .context("the new ledger has no genesis entry")?;
    let checkpoint = store.latest_checkpoint();
    let vkey = store.log_vkey().to_vkey();
    store.close()?;
    println!("created the ledger in {}", args.data.display());
    println!("ledger: {ledger}");
    println!("log vkey: {vkey}");
    print!("checkpoint:\n{}", checkpoint.note);
    Ok(ExitCode::SUCCESS)
}

fn build_genesis(args: &InitArgs, log_key: &hisaab_log::SigningKey) -> Result<Envelope> {
    let (Some(authority_key), Some(origin), Some(title)) =
        (&args.authority_key, &args.origin, &args.title)
    else {
        bail!("give --genesis FILE, or --authority-key, --origin and --title");
    };
    let authority = keyfile::read(authority_key)?;
    let vkey = VerifierKey::new(origin, keyfile::public(log_key))
        .context("--origin is not a valid key name (1-255 bytes, no whitespace or `+`)")?;
    let body = Body::Genesis(GenesisBody {
        origin: Origin::try_new(origin).context("--origin")?,
        title: Text::try_new(title).context("--title")?,
        strategy: Strategy {
            name: Text::try_new(&args.strategy).context("--strategy")?,
            starts: Date::try_parse(&args.starts).context("--starts")?,
            ends: Date::try_parse(&args.ends).context("--ends")?,
        },
        log_key: vkey.to_vkey(),
        authority: GenesisAuthority {
            member: Slug::try_new(&args.authority_member).context("--authority-member")?,
            name: Text::try_new(&args.authority_name).context("--authority-name")?,
        },
        policy: if args.format >= 2 {
            Policy {
                filing_days: Some(args.filing_days),
                evaluation_days: Some(args.evaluation_days),
                decision_days: Some(args.decision_days),
                quorum_percent: Some(args.quorum_percent),
                ..Policy::window(args.max_future_skew_s, args.max_age_s)
            }
        } else {
            Policy::window(args.max_future_skew_s, args.max_age_s)
        },
        ext: None,
    });
    util::sign_draft(
        Draft {
            v: args.format,
            kind: Kind::LedgerGenesis,
            ledger: None,
            id: None,
            issued_at: None,
            body: body.to_object().context("cannot encode the genesis body")?,
        },
        &authority,
    )
}
