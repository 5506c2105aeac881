//! The command line (clap derive). Each subcommand's arguments live here, so `--help` is one
//! place to read; the commands themselves are in [`crate::cmd`].

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use hisaab_model::{
    ActionOutcome, Cadence, CommitmentOutcome, Direction, DisputeOutcome, Pillar, Role, Severity,
    StakeholderType, Verdict, Vocabulary,
};

/// Hisaab: a tamper-evident accountability ledger for the Telecom Cyber Security Task Force.
#[derive(Debug, Parser)]
#[command(
    name = "hisaab",
    version,
    about,
    long_about = None,
    propagate_version = true,
    after_help = crate::exit::HELP
)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Generate an Ed25519 key as PKCS#8 PEM (mode 0600) and print its public key.
    Keygen(KeygenArgs),
    /// Print the public key (and, with --log-name, the verifier key) of a key file.
    Pubkey(PubkeyArgs),
    /// Create a new ledger in a data directory from a genesis statement.
    Init(InitArgs),
    /// Serve a ledger over HTTP (SPEC §7) until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Sign a statement offline (for an air-gapped key) and write the envelope.
    Sign(SignArgs),
    /// Send an envelope (or sign and send a common statement) and verify the receipt.
    Submit(SubmitArgs),
    /// Verify a bundle file, a data directory or a server, end to end.
    Verify(VerifyArgs),
    /// Show the state of the ledger at a size and date, or what changed between two sizes.
    Replay(ReplayArgs),
    /// Who owes what by when: missing reports, evaluations, commitments, disputes and
    /// challenges waiting, with due dates and days late.
    Obligations(ObligationsArgs),
    /// Export a data directory as a bundle (SPEC §6).
    Export(ExportArgs),
    /// Write a disclosure of chosen sealed fields (SPEC §12.7) from an openings file, and
    /// print the body of the `disclosure.recorded` statement that records it.
    Disclose(DiscloseArgs),
    /// Fetch an inclusion or consistency proof from a server and verify it locally.
    Proof(ProofArgs),
    /// Every entry of a server about an operator and a KPI, as the reader may see them.
    History(HistoryArgs),
    /// Open a short-lived read session on a server by signing its challenge; print the token.
    Login(LoginArgs),
    /// Cosign a server's latest checkpoint as a witness, after checking consistency.
    Witness(WitnessArgs),
    /// Generate load against a server: pre-signed envelopes over concurrent connections.
    Load(LoadArgs),
    /// Build a realistic ledger with real keys, verify it and serve it.
    Demo(DemoArgs),
}

/// Where a server is and what this client remembers about it.
#[derive(Debug, Clone, Args)]
pub(crate) struct ServerArgs {
    /// The server's URL.
    #[arg(long, env = "HISAAB_SERVER", default_value = "http://127.0.0.1:8080")]
    pub(crate) server: String,
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
}

/// Who reads (SPEC §13): a member's key, or the public view without one.
#[derive(Debug, Clone, Args)]
pub(crate) struct ReaderArgs {
    /// Read as the member holding this private key (PKCS#8 PEM): each request is signed with
    /// it, and the server answers what that member's role may see. Without it, the public view.
    #[arg(long = "key", value_name = "FILE")]
    pub(crate) key: Option<PathBuf>,
}

/// `hisaab history`.
#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// The operator's id.
    #[arg(long)]
    pub(crate) operator: String,
    /// The KPI's id.
    #[arg(long)]
    pub(crate) kpi: String,
    #[command(flatten)]
    pub(crate) reader: ReaderArgs,
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// Print JSON Lines as served.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `hisaab login`.
#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    /// The member's private key (PKCS#8 PEM).
    #[arg(long = "key", value_name = "FILE")]
    pub(crate) key: PathBuf,
    #[command(flatten)]
    pub(crate) server: ServerArgs,
}

/// What this client remembers about servers: pinned log keys and the last checkpoints seen.
#[derive(Debug, Clone, Args)]
pub(crate) struct TrustArgs {
    /// The state file [default: $XDG_CONFIG_HOME/hisaab/state.json or
    /// ~/.config/hisaab/state.json].
    #[arg(long, env = "HISAAB_STATE", value_name = "FILE")]
    pub(crate) state: Option<PathBuf>,
    /// Pin the log's verifier key (`<origin>+<key id>+<key>`): a server, data directory or
    /// bundle whose genesis log_key, origin or checkpoint key differs fails. Without it, a
    /// server's key is trusted on first use and a file's own key is trusted (and shown).
    #[arg(long, value_name = "VKEY")]
    pub(crate) log_vkey: Option<String>,
    /// Forget the key, ledger and checkpoint remembered for this server, and pin anew.
    #[arg(long)]
    pub(crate) repin: bool,
}

/// A data directory and the log key that signs its checkpoints.
#[derive(Debug, Clone, Args)]
pub(crate) struct DataArgs {
    /// The ledger's data directory.
    #[arg(long, value_name = "DIR")]
    pub(crate) data: PathBuf,
    /// The log key (PKCS#8 PEM) that signs checkpoints.
    #[arg(long, env = "HISAAB_LOG_KEY", value_name = "FILE")]
    pub(crate) log_key: PathBuf,
    /// The ledger's master key, which keeps the openings of sealed fields (SPEC §12.10)
    /// [default: beside the log key, its name with the extension `.master`, used when it
    /// exists].
    #[arg(long, env = "HISAAB_MASTER_KEY", value_name = "FILE")]
    pub(crate) master_key: Option<PathBuf>,
}

/// `hisaab keygen`.
#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// Where to write the private key; an existing file is never overwritten.
    #[arg(value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// Also print the verifier key under this name (for a log key: the ledger's origin).
    #[arg(long, value_name = "ORIGIN")]
    pub(crate) log_name: Option<String>,
}

/// `hisaab pubkey`.
#[derive(Debug, Args)]
pub(crate) struct PubkeyArgs {
    /// The private key file.
    #[arg(value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// Also print the verifier key under this name.
    #[arg(long, value_name = "ORIGIN")]
    pub(crate) log_name: Option<String>,
    /// Also print the witness's cosignature key (for `verify --witness`) under this name, the
    /// witness's member id.
    #[arg(long, value_name = "MEMBER")]
    pub(crate) witness_name: Option<String>,
}

/// `hisaab init`.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The new ledger's data directory (created; must not hold a ledger).
    #[arg(long, value_name = "DIR")]
    pub(crate) data: PathBuf,
    /// The log key (PKCS#8 PEM) that will sign checkpoints.
    #[arg(long, value_name = "FILE")]
    pub(crate) log_key: PathBuf,
    /// Where a format-2 ledger's master key is written (mode 0600; read again if it exists),
    /// which keeps the openings of sealed fields (SPEC §12.10) [default: beside the log key,
    /// its name with the extension `.master`].
    #[arg(long, value_name = "FILE")]
    pub(crate) master_key: Option<PathBuf>,
    /// Compress sled's part of the data directory (zstd: snapshots, the KPI index,
    /// checkpoints; the entries and the index by hash are stored as they are): at 10^4
    /// entries 1.3× the bundle's bytes instead of 1.4×. Chosen once, when the ledger is
    /// created; the store keeps it.
    #[arg(long)]
    pub(crate) compress: bool,
    /// A genesis envelope signed elsewhere (e.g. by `hisaab sign --kind ledger.genesis` on an
    /// air-gapped machine). Conflicts with the flags that build one.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["authority_key", "origin", "title"])]
    pub(crate) genesis: Option<PathBuf>,
    /// The first authority's key, which signs the genesis built from the flags below.
    #[arg(long, value_name = "FILE", required_unless_present = "genesis")]
    pub(crate) authority_key: Option<PathBuf>,
    /// The ledger's origin: the checkpoints' key name (no whitespace, no `+`).
    #[arg(long, required_unless_present = "genesis")]
    pub(crate) origin: Option<String>,
    /// The ledger's title.
    #[arg(long, required_unless_present = "genesis")]
    pub(crate) title: Option<String>,
    /// The strategy's name.
    #[arg(
        long,
        default_value = "Cyber Security Strategy for the Telecom Sector 2023-2028"
    )]
    pub(crate) strategy: String,
    /// The strategy's first day.
    #[arg(long, default_value = "2023-01-01", value_name = "DATE")]
    pub(crate) starts: String,
    /// The strategy's last day.
    #[arg(long, default_value = "2028-12-31", value_name = "DATE")]
    pub(crate) ends: String,
    /// The first authority's member id.
    #[arg(long, default_value = "pta")]
    pub(crate) authority_member: String,
    /// The first authority's name.
    #[arg(long, default_value = "Pakistan Telecommunication Authority")]
    pub(crate) authority_name: String,
    /// The ledger's format: 2 (SPEC §11, the task force's cycle) or 1 (SPEC §1–10).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=2))]
    pub(crate) format: u64,
    /// Policy (format 2): days after a period's end by which its report is due.
    #[arg(long, default_value_t = hisaab_model::Policy::FILING_DAYS)]
    pub(crate) filing_days: u64,
    /// Policy (format 2): days after a submission by which it is due an evaluation.
    #[arg(long, default_value_t = hisaab_model::Policy::EVALUATION_DAYS)]
    pub(crate) evaluation_days: u64,
    /// Policy (format 2): days after a dispute or challenge by which it is due a decision.
    #[arg(long, default_value_t = hisaab_model::Policy::DECISION_DAYS)]
    pub(crate) decision_days: u64,
    /// Policy (format 2): the share of operators, in percent, a quorate meeting's attendees
    /// represent.
    #[arg(long, default_value_t = hisaab_model::Policy::QUORUM_PERCENT,
        value_parser = clap::value_parser!(u64).range(1..=100))]
    pub(crate) quorum_percent: u64,
    /// Policy: how far in the future `issued_at` may be, in seconds.
    #[arg(long, default_value_t = 300)]
    pub(crate) max_future_skew_s: u64,
    /// Policy: how old `issued_at` may be when recorded, in seconds.
    #[arg(long, default_value_t = 7 * 24 * 3600)]
    pub(crate) max_age_s: u64,
}

/// `hisaab serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) data: DataArgs,
    /// The address to listen on (port 0 picks a free one; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    /// The most requests in flight before the server answers 503.
    #[arg(long, value_name = "N")]
    pub(crate) in_flight_max: Option<usize>,
    /// How long a read session opened with `hisaab login` (or `POST /v1/session`) lasts, in
    /// seconds [default: 900].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) session_ttl: Option<u64>,
    /// The share, in percent, of the request and connection budgets that one client (IP
    /// address) may hold at once [default: 50]; set 100 behind a reverse proxy, where every
    /// client has the proxy's address.
    #[arg(long, value_name = "PERCENT", value_parser = clap::value_parser!(u8).range(1..=100))]
    pub(crate) client_share: Option<u8>,
}

/// `hisaab sign`.
#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The signer's private key.
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// The statement's kind, e.g. `submission.filed`.
    #[arg(long)]
    pub(crate) kind: String,
    /// The body, a JSON object (`-` reads stdin).
    #[arg(long, value_name = "FILE")]
    pub(crate) body: PathBuf,
    /// The ledger id (required for every kind but `ledger.genesis`).
    #[arg(long, value_name = "ID")]
    pub(crate) ledger: Option<String>,
    /// The ledger's format, which the statement's `v` must be: 1 or 2.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=2))]
    pub(crate) format: u64,
    /// The statement id [default: a new UUID v7].
    #[arg(long, value_name = "UUID")]
    pub(crate) id: Option<String>,
    /// When it is signed [default: now, UTC].
    #[arg(long, value_name = "TIMESTAMP")]
    pub(crate) issued_at: Option<String>,
    /// Sign the body as it is, its sealed fields in the clear (SPEC §12.5): the entry is
    /// then withheld from every reader who may not read it in full. By default a format-2
    /// statement of a kind with sealed fields is sealed, as `hisaab submit` seals.
    #[arg(long)]
    pub(crate) clear: bool,
    /// Write the envelope (or sealed submission) here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
}

/// `hisaab submit`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct SubmitArgs {
    /// An envelope file to send (`-` reads stdin).
    #[arg(value_name = "ENVELOPE")]
    pub(crate) envelope: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// Print the receipt as JSON only.
    #[arg(long)]
    pub(crate) json: bool,
    /// Sign and send a common statement instead.
    #[command(subcommand)]
    pub(crate) helper: Option<SubmitHelper>,
}

/// The signer, server and output options of a sign-and-send helper.
#[derive(Debug, Clone, Args)]
pub(crate) struct HelperCommon {
    /// The signer's private key.
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// Also write the signed envelope here.
    #[arg(long, value_name = "FILE")]
    pub(crate) save: Option<PathBuf>,
    /// Print the receipt as JSON only.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Sign-and-send helpers for the common kinds.
#[derive(Debug, Subcommand)]
pub(crate) enum SubmitHelper {
    /// `submission.filed`: a CISO reports a KPI value for a period, with evidence hashed locally.
    Kpi {
        #[command(flatten)]
        common: HelperCommon,
        /// The operator.
        #[arg(long)]
        operator: String,
        /// The KPI, e.g. `CR-01`.
        #[arg(long)]
        kpi: String,
        /// The period, `YYYY-MM`.
        #[arg(long)]
        period: String,
        /// The value, a decimal string.
        #[arg(long, allow_hyphen_values = true)]
        value: String,
        /// Evidence files: each is hashed here into {name, sha256, bytes}; the files stay local.
        #[arg(long, value_name = "FILE", num_args = 1..)]
        evidence: Vec<PathBuf>,
        /// A note.
        #[arg(long, default_value = "")]
        note: String,
        /// The event hash of the submission this one replaces.
        #[arg(long, value_name = "HASH")]
        supersedes: Option<String>,
    },
    /// `operator.registered` (authority).
    Operator {
        #[command(flatten)]
        common: HelperCommon,
        /// The operator id (a slug).
        #[arg(long)]
        operator: String,
        /// Its name.
        #[arg(long)]
        name: String,
    },
    /// `member.enrolled` (authority).
    Member {
        #[command(flatten)]
        common: HelperCommon,
        /// The member id (a slug).
        #[arg(long)]
        member: String,
        /// The member's name.
        #[arg(long)]
        name: String,
        /// A role (repeat for several).
        #[arg(long = "role", required = true, value_parser = vocabulary::<Role>())]
        roles: Vec<Role>,
        /// The operator the member belongs to (required for a CISO).
        #[arg(long)]
        operator: Option<String>,
        /// The member's public key (base64), or a PEM key file to take it from.
        #[arg(long = "member-key", value_name = "KEY|FILE")]
        member_key: String,
    },
    /// `kpi.defined` (authority, chair).
    DefineKpi {
        #[command(flatten)]
        common: HelperCommon,
        /// The KPI id, e.g. `CR-01`.
        #[arg(long)]
        kpi: String,
        /// The pillar.
        #[arg(long, value_parser = vocabulary::<Pillar>())]
        pillar: Pillar,
        /// The title.
        #[arg(long)]
        title: String,
        /// The unit, e.g. `%`.
        #[arg(long)]
        unit: String,
        /// Whether higher or lower values are better.
        #[arg(long, value_parser = vocabulary::<Direction>(), default_value = "higher_is_better")]
        direction: Direction,
        /// How often it is reported.
        #[arg(long, value_parser = vocabulary::<Cadence>(), default_value = "monthly")]
        cadence: Cadence,
        /// Whether submissions must carry evidence.
        #[arg(long)]
        evidence_required: bool,
    },
    /// `kpi.assigned` (authority, chair).
    Assign {
        #[command(flatten)]
        common: HelperCommon,
        /// The KPI.
        #[arg(long)]
        kpi: String,
        /// The operator.
        #[arg(long)]
        operator: String,
        /// The target, a decimal string.
        #[arg(long, allow_hyphen_values = true)]
        target: String,
        /// The baseline, a decimal string.
        #[arg(long, allow_hyphen_values = true)]
        baseline: Option<String>,
        /// The due date.
        #[arg(long, value_name = "DATE")]
        due: String,
        /// The first period to report, `YYYY-MM`.
        #[arg(long)]
        first_period: String,
    },
    /// `evaluation.recorded` (evaluator, chair, authority).
    Evaluate {
        #[command(flatten)]
        common: HelperCommon,
        /// The submission's event hash.
        #[arg(long, value_name = "HASH")]
        submission: String,
        /// The verdict.
        #[arg(long, value_parser = vocabulary::<Verdict>())]
        verdict: Verdict,
        /// The score, 0-100.
        #[arg(long)]
        score: u8,
        /// The rationale.
        #[arg(long)]
        rationale: String,
        /// The event hash of the evaluation this one replaces.
        #[arg(long, value_name = "HASH")]
        supersedes: Option<String>,
        /// Format 2: why the verdict differs from the one value, target and direction
        /// indicate (required then).
        #[arg(long)]
        reason: Option<String>,
    },
    /// `challenge.raised` (any member).
    Challenge {
        #[command(flatten)]
        common: HelperCommon,
        /// The challenge id (a slug).
        #[arg(long)]
        challenge: String,
        /// The pillar.
        #[arg(long, value_parser = vocabulary::<Pillar>())]
        pillar: Pillar,
        /// The operator concerned.
        #[arg(long)]
        operator: Option<String>,
        /// The KPI concerned.
        #[arg(long)]
        kpi: Option<String>,
        /// What the challenge is.
        #[arg(long)]
        description: String,
        /// Format 2: the member who answers for it (with --due).
        #[arg(long, conflicts_with = "owner_operator", requires = "due")]
        owner_member: Option<String>,
        /// Format 2: the operator who answers for it (with --due).
        #[arg(long, requires = "due")]
        owner_operator: Option<String>,
        /// Format 2: the date by which it is to be dealt with (with an owner).
        #[arg(long, value_name = "DATE")]
        due: Option<String>,
        /// Format 2: how grave it is.
        #[arg(long, value_parser = vocabulary::<Severity>())]
        severity: Option<Severity>,
    },
    /// `challenge.measure_recorded` (the challenge's owner, a chair or an authority; format
    /// 2): a measure taken against a challenge, and who took it.
    Measure {
        #[command(flatten)]
        common: HelperCommon,
        /// The challenge id.
        #[arg(long)]
        challenge: String,
        /// The member who took the measure.
        #[arg(
            long,
            conflicts_with = "by_operator",
            required_unless_present = "by_operator"
        )]
        by_member: Option<String>,
        /// The operator who took the measure.
        #[arg(long)]
        by_operator: Option<String>,
        /// What the measure was.
        #[arg(long)]
        measure: String,
    },
    /// `challenge.resolved` (chair, authority).
    ResolveChallenge {
        #[command(flatten)]
        common: HelperCommon,
        /// The challenge id.
        #[arg(long)]
        challenge: String,
        /// How it was resolved.
        #[arg(long)]
        resolution: String,
    },
    /// `commitment.made` (the CISO of that operator): what the operator will do, by when.
    Commitment {
        #[command(flatten)]
        common: HelperCommon,
        /// The commitment id (a slug).
        #[arg(long)]
        commitment: String,
        /// The operator.
        #[arg(long)]
        operator: String,
        /// The KPI it concerns (assigned to the operator).
        #[arg(long)]
        kpi: Option<String>,
        /// What will be done.
        #[arg(long)]
        action: String,
        /// By when.
        #[arg(long, value_name = "DATE")]
        due: String,
        /// The event hash of the evaluation or challenge it answers.
        #[arg(long, value_name = "HASH")]
        in_response_to: Option<String>,
    },
    /// `commitment.closed` (evaluator, chair, authority).
    CloseCommitment {
        #[command(flatten)]
        common: HelperCommon,
        /// The commitment id.
        #[arg(long)]
        commitment: String,
        /// The outcome.
        #[arg(long, value_parser = vocabulary::<CommitmentOutcome>())]
        outcome: CommitmentOutcome,
        /// A note.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// `action.assigned` (chair, authority; format 2): an action item of a recorded meeting's
    /// minutes, owned by a member or an operator.
    Action {
        #[command(flatten)]
        common: HelperCommon,
        /// The action id (a slug).
        #[arg(long)]
        action: String,
        /// The recorded meeting whose minutes decided it.
        #[arg(long)]
        meeting: String,
        /// The member who owns it.
        #[arg(
            long,
            conflicts_with = "owner_operator",
            required_unless_present = "owner_operator"
        )]
        owner_member: Option<String>,
        /// The operator who owns it (its CISOs act for it).
        #[arg(long)]
        owner_operator: Option<String>,
        /// By when.
        #[arg(long, value_name = "DATE")]
        due: String,
        /// What is to be done.
        #[arg(long)]
        text: String,
        /// A stakeholder it names (repeat for each).
        #[arg(long = "stakeholder", value_name = "ID")]
        stakeholders: Vec<String>,
    },
    /// `action.closed` or, with `--directive`, `directive.closed` (the owner, a chair or an
    /// authority; format 2).
    CloseAction {
        #[command(flatten)]
        common: HelperCommon,
        /// The action id (or, with `--directive`, the directive id).
        #[arg(long)]
        action: String,
        /// Close a directive rather than an action.
        #[arg(long)]
        directive: bool,
        /// The outcome.
        #[arg(long, value_parser = vocabulary::<ActionOutcome>())]
        outcome: ActionOutcome,
        /// A note.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// `directive.issued` (authority; format 2): an operator directed to act by a date.
    Directive {
        #[command(flatten)]
        common: HelperCommon,
        /// The directive id (a slug).
        #[arg(long)]
        directive: String,
        /// The operator directed.
        #[arg(long)]
        operator: String,
        /// By when.
        #[arg(long, value_name = "DATE")]
        due: String,
        /// What the operator is to do.
        #[arg(long)]
        text: String,
        /// A stakeholder it names (repeat for each).
        #[arg(long = "stakeholder", value_name = "ID")]
        stakeholders: Vec<String>,
    },
    /// `commitment.extended` (chair, authority; format 2): a later due date, with a reason.
    Extend {
        #[command(flatten)]
        common: HelperCommon,
        /// The commitment id.
        #[arg(long)]
        commitment: String,
        /// The new due date.
        #[arg(long, value_name = "DATE")]
        due: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// `escalation.recorded` (chair, authority; format 2): a missed commitment, directive or
    /// action escalated.
    Escalate {
        #[command(flatten)]
        common: HelperCommon,
        /// The escalation id (a slug).
        #[arg(long)]
        escalation: String,
        /// The commitment escalated.
        #[arg(long, group = "item")]
        commitment: Option<String>,
        /// The directive escalated.
        #[arg(long, group = "item")]
        directive: Option<String>,
        /// The action escalated.
        #[arg(long, group = "item")]
        action: Option<String>,
        /// Why, and to whom.
        #[arg(long)]
        reason: String,
    },
    /// `dispute.opened` / `dispute.resolved`.
    Dispute {
        /// Open or resolve.
        #[command(subcommand)]
        action: DisputeAction,
    },
    /// `meeting.recorded` (chair, authority): the minutes file is hashed here and stays local.
    Meeting {
        #[command(flatten)]
        common: HelperCommon,
        /// The meeting id (a slug).
        #[arg(long)]
        meeting: String,
        /// The day it was held.
        #[arg(long, value_name = "DATE")]
        held_on: String,
        /// An attendee's member id (repeat for each).
        #[arg(long = "attendee", required = true, value_name = "MEMBER")]
        attendees: Vec<String>,
        /// The minutes file; only its SHA-256 is recorded.
        #[arg(long, value_name = "FILE")]
        minutes: PathBuf,
        /// A decision taken (repeat for each).
        #[arg(long = "decision", value_name = "TEXT")]
        decisions: Vec<String>,
    },
    /// `meeting.attested` (a listed attendee): I was there, and the minutes are right.
    Attest {
        #[command(flatten)]
        common: HelperCommon,
        /// The meeting id.
        #[arg(long)]
        meeting: String,
    },
    /// `member.key_rotated` (that member with its current key, or authority).
    RotateKey {
        #[command(flatten)]
        common: HelperCommon,
        /// The member id.
        #[arg(long)]
        member: String,
        /// The new public key (base64), or a PEM key file to take it from.
        #[arg(long = "new-key", value_name = "KEY|FILE")]
        new_key: String,
    },
    /// `member.revoked` (authority).
    Revoke {
        #[command(flatten)]
        common: HelperCommon,
        /// The member id.
        #[arg(long)]
        member: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// `meeting.scheduled` (chair, authority; format 2): a meeting's date and agenda.
    Schedule {
        #[command(flatten)]
        common: HelperCommon,
        /// The meeting id (a slug).
        #[arg(long)]
        meeting: String,
        /// The day it is to be held.
        #[arg(long, value_name = "DATE")]
        date: String,
        /// An agenda item (repeat for each): its title, then what it names, as
        /// `TITLE|operator=ID|kpi=ID|dispute=ID|challenge=ID|stakeholder=ID` (each part
        /// after the title optional).
        #[arg(long = "item", value_name = "ITEM")]
        items: Vec<String>,
    },
    /// `rubric.set` (authority; format 2): the band of scores of each verdict.
    Rubric {
        #[command(flatten)]
        common: HelperCommon,
        /// A band, `VERDICT=MIN-MAX` (repeat for each verdict, at most four).
        #[arg(long = "band", required = true, value_name = "VERDICT=MIN-MAX")]
        bands: Vec<String>,
    },
    /// `kpi.retired` (chair, authority; format 2).
    RetireKpi {
        #[command(flatten)]
        common: HelperCommon,
        /// The KPI.
        #[arg(long)]
        kpi: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// `field.erased` (authority; format 2): erases sealed fields of an entry that should
    /// never have been written (SPEC §12.9); the ledger deletes their openings.
    Erase {
        #[command(flatten)]
        common: HelperCommon,
        /// The entry's event hash (as its receipt or `GET /v1/entries/{seq}` gives it).
        #[arg(long, value_name = "EVENT_HASH")]
        entry: String,
        /// A sealed field to erase (repeat for each): a note, evidence, rationale, text,
        /// reason or `ext`; never one the state is computed from.
        #[arg(long = "field", required = true, value_name = "FIELD")]
        fields: Vec<String>,
        /// Why it should never have been written (public).
        #[arg(long)]
        reason: String,
    },
    /// `report.published` (authority; format 2): the sector's aggregates per pillar (SPEC
    /// §12.12), computed here from the full state replayed at the server's size (the key must
    /// read every opening).
    Report {
        #[command(flatten)]
        common: HelperCommon,
        /// The first month the report covers.
        #[arg(long, value_name = "PERIOD")]
        from: String,
        /// The last month it covers.
        #[arg(long, value_name = "PERIOD")]
        to: String,
    },
    /// `assignment.withdrawn` (chair, authority; format 2): no more reports of a KPI owed by
    /// an operator.
    Withdraw {
        #[command(flatten)]
        common: HelperCommon,
        /// The operator.
        #[arg(long)]
        operator: String,
        /// The KPI.
        #[arg(long)]
        kpi: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// `operator.left` (authority; format 2): an operator leaves the task force.
    Leave {
        #[command(flatten)]
        common: HelperCommon,
        /// The operator.
        #[arg(long)]
        operator: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// `delegation.granted` (a CISO of the operator; format 2): a deputy signs for the
    /// operator until a date.
    Delegate {
        #[command(flatten)]
        common: HelperCommon,
        /// The operator.
        #[arg(long)]
        operator: String,
        /// The deputy, a member of the same operator.
        #[arg(long)]
        deputy: String,
        /// The last day the deputy may sign.
        #[arg(long, value_name = "DATE")]
        expires: String,
    },
    /// `member.suspended` (authority; format 2): the member signs nothing until reinstated.
    Suspend {
        #[command(flatten)]
        common: HelperCommon,
        /// The member id.
        #[arg(long)]
        member: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// `member.reinstated` (authority; format 2).
    Reinstate {
        #[command(flatten)]
        common: HelperCommon,
        /// The member id.
        #[arg(long)]
        member: String,
    },
    /// `stakeholder.registered` (authority; format 2): an outside body the task force works
    /// with.
    Stakeholder {
        #[command(flatten)]
        common: HelperCommon,
        /// The stakeholder id (a slug).
        #[arg(long)]
        stakeholder: String,
        /// Its name.
        #[arg(long)]
        name: String,
        /// What kind of body it is.
        #[arg(long = "type", value_parser = vocabulary::<StakeholderType>())]
        kind: StakeholderType,
    },
    /// Any kind: the body from a JSON file, signed and sent (like `sign` then `submit`).
    Raw {
        #[command(flatten)]
        common: HelperCommon,
        /// The kind.
        #[arg(long)]
        kind: String,
        /// The body, a JSON object (`-` reads stdin).
        #[arg(long, value_name = "FILE")]
        body: PathBuf,
    },
}

/// `submit dispute open|resolve`.
#[derive(Debug, Subcommand)]
pub(crate) enum DisputeAction {
    /// `dispute.opened` (the CISO of the evaluated operator).
    Open {
        #[command(flatten)]
        common: HelperCommon,
        /// The dispute id (a slug).
        #[arg(long)]
        dispute: String,
        /// The event hash of the evaluation disputed.
        #[arg(long, value_name = "HASH")]
        evaluation: String,
        /// The grounds.
        #[arg(long)]
        grounds: String,
    },
    /// `dispute.resolved` (authority): the state digest at --as-of is computed here, from the
    /// server's bundle replayed and verified locally (SPEC §4 rule 5, §5).
    Resolve {
        #[command(flatten)]
        common: HelperCommon,
        /// The dispute id.
        #[arg(long)]
        dispute: String,
        /// The outcome.
        #[arg(long, value_parser = vocabulary::<DisputeOutcome>())]
        outcome: DisputeOutcome,
        /// The rationale.
        #[arg(long)]
        rationale: String,
        /// The tree size the decision was taken on [default: the server's latest checkpoint].
        #[arg(long, value_name = "SIZE")]
        as_of: Option<u64>,
    },
}

/// A clap value parser for one of the model's vocabularies: the choices are the JSON texts of
/// `T::ALL`, so the command line offers exactly what the model accepts (SPEC §4).
fn vocabulary<T: Vocabulary>() -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(T::ALL.iter().map(|v| v.as_str()))
        .try_map(|text| T::try_from_str(&text).ok_or("not one of the possible values"))
}

/// `hisaab verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// A bundle file, a data directory or a server URL (http://…).
    #[arg(value_name = "TARGET")]
    pub(crate) target: String,
    /// For a server: only verify the latest checkpoint and its consistency with the last one
    /// seen, without downloading and replaying the whole bundle.
    #[arg(long)]
    pub(crate) checkpoint_only: bool,
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
    /// Pin the ledger id (the event hash of entry 0): anything else fails.
    #[arg(long, value_name = "ID")]
    pub(crate) ledger: Option<String>,
    /// A witness's cosignature key `<name>+<key id>+<base64(0x04||key)>`, as `hisaab pubkey
    /// --witness-name NAME` prints it (repeat for several; a server or a bundle only).
    #[arg(long = "witness", value_name = "VKEY")]
    pub(crate) witnesses: Vec<String>,
    /// How many of the --witness keys must have validly cosigned the checkpoint [default: all].
    #[arg(long, value_name = "K")]
    pub(crate) min_cosignatures: Option<usize>,
    #[command(flatten)]
    pub(crate) reader: ReaderArgs,
    /// For a bundle file: an openings file (SPEC §12.6, as `hisaab export --key` writes it):
    /// each opening is checked against its entry's commitment and the state is replayed over
    /// the opened bodies (the full state, and its digest of §12.8, when every field is opened).
    #[arg(long, value_name = "FILE")]
    pub(crate) openings: Option<PathBuf>,
    /// For a bundle file, with --openings (an operator's own) and --resolution: check this
    /// sub-state proof (SPEC §12.8, as `hisaab replay --sub-state-proof` prints it): the
    /// operator's sub-state and blinding, rebuilt from the bundle and its openings alone, are
    /// in the full-state digest the resolution names.
    #[arg(long, value_name = "FILE", requires_all = ["openings", "resolution"])]
    pub(crate) sub_state_proof: Option<PathBuf>,
    /// The seq of the `dispute.resolved` whose `state_digest`, of the state at its `as_of`,
    /// --sub-state-proof is checked against.
    #[arg(long, value_name = "SEQ", requires = "sub_state_proof")]
    pub(crate) resolution: Option<u64>,
    /// For a bundle file: a disclosure (SPEC §12.7, as `hisaab disclose` writes it) to check
    /// against the bundle alone; its values are printed.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["openings", "sub_state_proof"])]
    pub(crate) disclosure: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `hisaab disclose`.
#[derive(Debug, Args)]
pub(crate) struct DiscloseArgs {
    /// The openings file the fields are taken from (SPEC §12.6, as `hisaab export --key`
    /// writes it).
    #[arg(long, value_name = "FILE")]
    pub(crate) openings: PathBuf,
    /// An entry and the sealed fields of it to disclose, `SEQ:FIELD,FIELD…` (every field the
    /// openings file opens when only `SEQ`). Repeat for several entries.
    #[arg(long = "entry", value_name = "SEQ[:FIELD,...]", required = true)]
    pub(crate) entries: Vec<String>,
    /// Who the disclosure is for (a court, an auditor).
    #[arg(long, value_name = "TEXT")]
    pub(crate) to: String,
    /// Where to write the disclosure (canonical JSON).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// The ledger's bundle as it stands now, to leave out what was erased since the openings
    /// file was written (SPEC §12.9): a field named in --entry that was erased is refused,
    /// and one only implied (SEQ alone) is left out, said on stderr.
    #[arg(long, value_name = "FILE")]
    pub(crate) bundle: Option<PathBuf>,
}

/// `hisaab replay`.
#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// A bundle file, a data directory or a server URL (http://…).
    #[arg(value_name = "SOURCE")]
    pub(crate) source: String,
    /// The tree size to take the state at [default: all entries].
    #[arg(long, value_name = "SIZE", conflicts_with_all = ["diff", "as_of_date"])]
    pub(crate) as_of: Option<u64>,
    /// The ledger as recorded up to the end of this date (YYYY-MM-DD), with it as the clock
    /// unless --at says otherwise.
    #[arg(long, value_name = "DATE", conflicts_with = "diff")]
    pub(crate) as_of_date: Option<String>,
    /// The date that decides what is overdue [default: the date of the last entry replayed].
    #[arg(long, value_name = "DATE")]
    pub(crate) at: Option<String>,
    /// Show what changed between sizes A and B.
    #[arg(long, num_args = 2, value_names = ["A", "B"])]
    pub(crate) diff: Option<Vec<u64>>,
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
    #[command(flatten)]
    pub(crate) reader: ReaderArgs,
    /// For a bundle file: an openings file opening every sealed field (SPEC §12.6, as `hisaab
    /// export --key` writes it for a `full` reader), for --sub-state-proof.
    #[arg(long, value_name = "FILE", requires = "sub_state_proof")]
    pub(crate) openings: Option<PathBuf>,
    /// Print OPERATOR's sub-state proof (SPEC §12.8) in the full-state digest of the state at
    /// --as-of (default: the whole bundle), as JSON; the digest goes to stderr.
    #[arg(
        long,
        value_name = "OPERATOR",
        requires = "openings",
        conflicts_with_all = ["diff", "as_of_date", "at"]
    )]
    pub(crate) sub_state_proof: Option<String>,
    /// Print JSON (the state of SPEC §5, or the list of changes).
    #[arg(long)]
    pub(crate) json: bool,
}

/// `hisaab obligations`.
#[derive(Debug, Args)]
pub(crate) struct ObligationsArgs {
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// Only what concerns or is owed by this operator.
    #[arg(long, value_name = "OPERATOR")]
    pub(crate) operator: Option<String>,
    /// Only what this member owes.
    #[arg(long, value_name = "MEMBER")]
    pub(crate) member: Option<String>,
    /// The date that decides what is due and late [default: today, UTC].
    #[arg(long, value_name = "DATE")]
    pub(crate) at: Option<String>,
    /// The ledger as recorded up to the end of this date [default: every entry].
    #[arg(long, value_name = "DATE")]
    pub(crate) as_of_date: Option<String>,
    /// Print the server's JSON document.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `hisaab export`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The ledger's data directory (read only; a running server holds it locked).
    #[arg(long, value_name = "DIR")]
    pub(crate) data: PathBuf,
    /// The log key (PKCS#8 PEM): needed only to sign a checkpoint for a --tree-size the log
    /// never signed one for. Reading needs no private key.
    #[arg(long, value_name = "FILE")]
    pub(crate) log_key: Option<PathBuf>,
    /// The number of entries to export [default: all].
    #[arg(long, value_name = "SIZE")]
    pub(crate) tree_size: Option<u64>,
    /// The bundle file to write (`-` for stdout); an existing file is not overwritten.
    #[arg(long, short, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// Also write the openings file (SPEC §12.6) of what the member holding `--key` may read
    /// in full (SPEC §13.4), for `hisaab verify BUNDLE --openings FILE`. Needs `--log-key` and
    /// the ledger's master key.
    #[arg(long, value_name = "FILE", requires_all = ["key", "log_key"])]
    pub(crate) openings: Option<PathBuf>,
    /// The member key whose reading rights decide the openings written (with `--openings`).
    #[arg(long, value_name = "FILE", requires = "openings")]
    pub(crate) key: Option<PathBuf>,
    /// The ledger's master key [default: beside the log key, its name with the extension
    /// `.master`].
    #[arg(long, value_name = "FILE")]
    pub(crate) master_key: Option<PathBuf>,
}

/// `hisaab proof`.
#[derive(Debug, Args)]
pub(crate) struct ProofArgs {
    /// Which proof.
    #[command(subcommand)]
    pub(crate) which: ProofKind,
}

/// The proofs.
#[derive(Debug, Subcommand)]
pub(crate) enum ProofKind {
    /// That an entry (by seq or event hash) is in the log at the latest checkpoint.
    Inclusion {
        /// The entry's seq.
        #[arg(long, conflicts_with = "event", required_unless_present = "event")]
        index: Option<u64>,
        /// The entry's event hash.
        #[arg(long, value_name = "HASH")]
        event: Option<String>,
        #[command(flatten)]
        reader: ReaderArgs,
        #[command(flatten)]
        server: ServerArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// That the log at an earlier checkpoint (a note file you kept, or the one remembered for
    /// this server) is a prefix of the log at the latest checkpoint.
    Consistency {
        /// An earlier checkpoint note (its signature is checked) [default: the one remembered].
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        #[command(flatten)]
        reader: ReaderArgs,
        #[command(flatten)]
        server: ServerArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `hisaab witness`.
#[derive(Debug, Args)]
pub(crate) struct WitnessArgs {
    /// The witness's private key.
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// The witness's member id (its key name in cosignatures).
    #[arg(long, value_name = "MEMBER")]
    pub(crate) name: String,
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// Keep witnessing every this many seconds instead of once.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) every: Option<u64>,
    /// Where to write the evidence when the server shows a history inconsistent with what this
    /// witness cosigned (both checkpoint notes). Default: a new
    /// `hisaab-fork-evidence-<time>.txt` in the current directory.
    #[arg(long, value_name = "FILE")]
    pub(crate) evidence: Option<PathBuf>,
}

/// `hisaab load`.
#[derive(Debug, Args)]
pub(crate) struct LoadArgs {
    /// An authority's private key (it signs the `operator.registered` and `kpi.defined`
    /// statements, and for `--kind submission` the set-up: an operator, its CISO, KPIs and
    /// their assignments).
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// How many envelopes to send.
    #[arg(long, short = 'n', default_value_t = 5000)]
    pub(crate) count: u64,
    /// How many concurrent connections.
    #[arg(long, short = 'c', default_value_t = 16)]
    pub(crate) concurrency: usize,
    /// What to send.
    #[arg(long, value_enum, default_value = "operator")]
    pub(crate) kind: LoadKind,
    /// Offer this many statements a second (open loop): statement i is due i/RATE seconds
    /// after the start and its latency counts from then, so a server that falls behind shows
    /// in the latency rather than slowing the sender. Without it, each connection sends its
    /// next statement as soon as the last is answered (saturation).
    #[arg(long, value_name = "PER_SECOND", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub(crate) rate: Option<u32>,
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    /// The log key, to measure the in-process ingest floor: the same envelopes appended
    /// directly into a store in a temporary directory (a replica of the server's ledger).
    #[arg(long, value_name = "FILE")]
    pub(crate) log_key: Option<PathBuf>,
    /// Also measure the raw floor, after the run: the entries it appended, read back from the
    /// server's bundle, checked (JCS, `verify_strict`, SHA-256) on two threads and written to
    /// sled with a flush every CONCURRENCY entries, the same work with the same crates and
    /// none of Hisaab's code; the rate over HTTP is printed as a ratio of it. Its sled is in
    /// the temporary directory ($TMPDIR), which should be on the same disk as the server's
    /// data. Not with --rate (an offered rate is not a capacity).
    #[arg(long, conflicts_with = "rate")]
    pub(crate) floor: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

/// What the load generator sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LoadKind {
    /// `operator.registered`, one new operator each.
    Operator,
    /// `kpi.defined`, one new KPI each (at most 9,999 per run).
    Kpi,
    /// `submission.filed` by a new operator's CISO (a key made for the run), one per KPI and
    /// month, each with a value, a piece of evidence and a note: sealed on a format-2 ledger
    /// (SPEC §12.5), as its CISOs file them. The operator, its CISO, and the KPIs with their
    /// assignments are set up first, one statement at a time, outside the figures.
    Submission,
}

/// `hisaab demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Where to build the ledger [default: a new temporary directory]; must be empty or absent.
    #[arg(long, value_name = "DIR")]
    pub(crate) data: Option<PathBuf>,
    /// The address to serve on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    /// Exit after building and verifying, without serving.
    #[arg(long)]
    pub(crate) no_serve: bool,
    /// The scenario's seed, which also derives every key [default: random].
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Reporting months in the scenario (6-60).
    #[arg(long, default_value_t = hisaab_scenario::DEFAULT_MONTHS)]
    pub(crate) months: u32,
    /// The first reporting month's first day [default: so that the scenario ends last month,
    /// and statements signed now can be appended].
    #[arg(long, value_name = "DATE")]
    pub(crate) start: Option<String>,
}
