//! Helpers shared by the integration tests that run the built `hisaab` binary: a sandbox
//! directory, fixed keys written as PEM files, running commands, and a running server that is
//! killed when the guard drops (also when a test fails).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hisaab_log::key::encode_base64;
use hisaab_log::note::VerifierKey;
use hisaab_log::{
    Envelope, Hash, PublicKey, SealedEntry, SigningKey, Statement, StatementId, Timestamp,
};
use serde_json::{Map, Value};

/// How long a server may take to start (a debug build opening sled).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The built binary.
pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_hisaab")
}

/// A temporary directory for one test, with its own client state file.
pub(crate) struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    pub(crate) fn new() -> Self {
        Sandbox {
            dir: tempfile::Builder::new()
                .prefix("hisaab-it-")
                .tempdir()
                .unwrap(),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn join(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The client state file every command of this sandbox uses.
    pub(crate) fn state_file(&self) -> PathBuf {
        self.join("client-state.json")
    }

    /// A `hisaab` command isolated from the user's environment.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(bin());
        command
            .args(args)
            .env("HISAAB_STATE", self.state_file())
            .env_remove("HISAAB_SERVER")
            .env_remove("HISAAB_LOG_KEY")
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.join("config"))
            .stdin(Stdio::null());
        command
    }

    /// Runs `hisaab args…` and returns its output, whatever the exit status.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs `hisaab args…`, asserts success and returns stdout.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "hisaab {} failed ({}):\nstdout:\n{}\nstderr:\n{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs `hisaab args…`, asserts failure and returns stdout + stderr.
    pub(crate) fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            !output.status.success(),
            "hisaab {} should have failed:\nstdout:\n{}\nstderr:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    }
}

/// A fixed key: every test run signs with the same keys.
pub(crate) fn fixed_key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

/// Writes `key` as PKCS#8 PEM, as OpenSSL does.
pub(crate) fn write_pem(path: &Path, key: &SigningKey) {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(key.as_bytes());
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        encode_base64(&der)
    );
    std::fs::write(path, pem).unwrap();
}

pub(crate) fn public(key: &SigningKey) -> PublicKey {
    PublicKey::from_signing_key(key)
}

/// The verifier key of a log key under `origin`.
pub(crate) fn vkey(origin: &str, log_key: &SigningKey) -> VerifierKey {
    VerifierKey::new(origin, public(log_key)).unwrap()
}

/// Now, whole seconds (the server records with the wall clock, so statements must be recent).
pub(crate) fn now() -> Timestamp {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    Timestamp::from_unix_seconds(i64::try_from(seconds).unwrap()).unwrap()
}

/// The current month, `YYYY-MM`.
pub(crate) fn this_month() -> String {
    now().as_str()[..7].to_owned()
}

/// Signs a statement of `kind` with `key` for `ledger`, issued now, with a fresh id.
pub(crate) fn sign(key: &SigningKey, ledger: Hash, kind: &str, body: Value) -> Envelope {
    let Value::Object(body) = body else {
        panic!("a body is an object")
    };
    sign_with(key, Some(ledger), kind, body, now(), None)
}

pub(crate) fn sign_with(
    key: &SigningKey,
    ledger: Option<Hash>,
    kind: &str,
    body: Map<String, Value>,
    issued_at: Timestamp,
    id: Option<&str>,
) -> Envelope {
    let id = match id {
        Some(id) => StatementId::try_new(id).unwrap(),
        None => StatementId::try_new(&uuid::Uuid::now_v7().hyphenated().to_string()).unwrap(),
    };
    Envelope::sign(
        Statement {
            v: 1,
            ledger,
            id,
            kind: kind.to_owned(),
            signer: public(key),
            issued_at,
            body,
        },
        key,
    )
    .unwrap()
}

/// Parses leaf bytes (a line without its newline).
pub(crate) fn entry(bytes: &[u8]) -> SealedEntry {
    SealedEntry::try_from_leaf_bytes(bytes).unwrap()
}

/// A running `hisaab serve` (or `demo`), killed on drop.
pub(crate) struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    log: PathBuf,
}

impl Server {
    /// Starts `hisaab serve` on a free loopback port and waits until it listens.
    pub(crate) fn start(sandbox: &Sandbox, data: &Path, log_key: &Path) -> Server {
        Server::spawn(
            sandbox,
            &[
                "serve",
                "--data",
                data.to_str().unwrap(),
                "--log-key",
                log_key.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
            ],
        )
    }

    /// Spawns `hisaab args…`, which must print `listening on http://ADDR` on stdout.
    pub(crate) fn spawn(sandbox: &Sandbox, args: &[&str]) -> Server {
        let log = sandbox.join(&format!("server-{}.log", uuid::Uuid::now_v7()));
        let mut child = sandbox
            .command(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = mpsc::channel();
        // Reads the first line, then keeps draining stdout so the server never blocks on it.
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = sender.send(line);
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
        });
        let mut server = Server {
            child: Some(child),
            url: String::new(),
            log,
        };
        let line = receiver.recv_timeout(START_TIMEOUT).unwrap_or_default();
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            panic!(
                "the server did not start: {line:?}\n{}",
                std::fs::read_to_string(&server.log).unwrap_or_default()
            );
        };
        server.url = url.to_owned();
        server
    }

    /// Stops the server with SIGTERM and waits for a graceful exit, which must succeed.
    pub(crate) fn stop(mut self) {
        let mut child = self.child.take().unwrap();
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "the server exited with {status}:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
                return;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the server did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// An HTTP client for this server.
    pub(crate) fn http(&self) -> reqwest::blocking::Client {
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            if std::thread::panicking() {
                eprintln!(
                    "server log:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
        }
    }
}

/// Writes the fixed log key (`log.pem`, seed 1) and authority key (`pta.pem`, seed 2) into the
/// sandbox and runs `hisaab init` for a ledger of format 1 in `data` under `origin` (the
/// statements these tests sign by hand with [`sign`] are of format 1).
pub(crate) fn init_ledger(sb: &Sandbox, data: &Path, origin: &str, title: &str) {
    write_pem(&sb.join("log.pem"), &fixed_key(1));
    write_pem(&sb.join("pta.pem"), &fixed_key(2));
    sb.ok(&[
        "init",
        "--format",
        "1",
        "--data",
        data.to_str().unwrap(),
        "--log-key",
        sb.join("log.pem").to_str().unwrap(),
        "--authority-key",
        sb.join("pta.pem").to_str().unwrap(),
        "--origin",
        origin,
        "--title",
        title,
    ]);
}

/// Posts an envelope's canonical bytes to `POST /v1/statements`: the status and the body.
pub(crate) fn post_envelope(
    http: &reqwest::blocking::Client,
    url: &str,
    envelope: &Envelope,
) -> reqwest::Result<(u16, String)> {
    let response = http
        .post(format!("{url}/v1/statements"))
        .header("content-type", "application/json")
        .body(envelope.canonical_bytes().unwrap())
        .send()?;
    let status = response.status().as_u16();
    Ok((status, response.text()?))
}

/// `GET path`, which must answer 200; its body.
pub(crate) fn get_ok(server: &Server, path: &str) -> String {
    let response = server
        .http()
        .get(format!("{}{path}", server.url))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "GET {path}");
    response.text().unwrap()
}

/// A GET of `path` on `url` signed as member `member` with `key` (SPEC §13.1), with a fresh
/// nonce and the current time.
pub(crate) fn signed_get(
    http: &reqwest::blocking::Client,
    url: &str,
    path: &str,
    key: &SigningKey,
    member: &str,
) -> reqwest::blocking::RequestBuilder {
    let (only_path, query) = path.split_once('?').unwrap_or((path, ""));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let signed =
        hisaab_api::access::sign_request(key, member, "GET", only_path, query, now, &nonce);
    http.get(format!("{url}{path}"))
        .header("date", signed.date)
        .header("signature-input", signed.signature_input)
        .header("signature", signed.signature)
}

/// `GET path` as a full reader: signed with the authority that [`init_ledger`] enrols (member
/// `pta`, [`fixed_key`] 2); the body of a 200.
pub(crate) fn get_full_ok(server: &Server, path: &str) -> String {
    let response = signed_get(&server.http(), &server.url, path, &fixed_key(2), "pta")
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "GET {path} as pta");
    response.text().unwrap()
}

/// A format-2 ledger made by `hisaab init` in `<sandbox>/ledger`, with the keys `log.pem`,
/// `pta.pem` (the authority) and `ciso.pem` written beside it.
pub(crate) struct V2Ledger {
    /// The data directory.
    pub(crate) data: PathBuf,
    /// What `init` printed.
    pub(crate) init_out: String,
    /// The ledger id it printed.
    pub(crate) ledger: String,
    /// The log vkey it printed.
    pub(crate) vkey: String,
}

/// Makes a [`V2Ledger`] with origin `origin`.
pub(crate) fn init_v2_ledger(sb: &Sandbox, origin: &str) -> V2Ledger {
    for (name, seed) in [("log", 1), ("pta", 2), ("ciso", 3)] {
        write_pem(&sb.join(&format!("{name}.pem")), &fixed_key(seed));
    }
    let data = sb.join("ledger");
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let init_out = sb.ok(&[
        "init",
        "--data",
        &path(&data),
        "--log-key",
        &path(&sb.join("log.pem")),
        "--authority-key",
        &path(&sb.join("pta.pem")),
        "--origin",
        origin,
        "--title",
        "Sealed",
    ]);
    let printed = |prefix: &str| {
        init_out
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap()
            .to_owned()
    };
    V2Ledger {
        ledger: printed("ledger: "),
        vkey: printed("log vkey: "),
        data,
        init_out,
    }
}

/// Through `submit` (`hisaab submit ARGS…` against the server, answering its JSON): the
/// operator `ravi-tel` (with `registration_args` added to its `submit operator`), its CISO
/// `ciso-ravi` holding `ciso.pem`, and KPI `CR-01` defined and assigned to it from this month.
pub(crate) fn register_ravi(
    sb: &Sandbox,
    submit: &dyn Fn(&[&str]) -> Value,
    registration_args: &[&str],
) {
    let pta = sb.join("pta.pem").to_str().unwrap().to_owned();
    let ciso = sb.join("ciso.pem").to_str().unwrap().to_owned();
    let mut operator = vec![
        "operator",
        "--key",
        &pta,
        "--operator",
        "ravi-tel",
        "--name",
        "Ravi Telecom",
    ];
    operator.extend_from_slice(registration_args);
    submit(&operator);
    submit(&[
        "member",
        "--key",
        &pta,
        "--member",
        "ciso-ravi",
        "--name",
        "CISO of Ravi",
        "--role",
        "ciso",
        "--operator",
        "ravi-tel",
        "--member-key",
        &ciso,
    ]);
    submit(&[
        "define-kpi",
        "--key",
        &pta,
        "--kpi",
        "CR-01",
        "--pillar",
        "resilience",
        "--title",
        "Critical patches applied",
        "--unit",
        "%",
    ]);
    let month = this_month();
    submit(&[
        "assign",
        "--key",
        &pta,
        "--kpi",
        "CR-01",
        "--operator",
        "ravi-tel",
        "--target",
        "95",
        "--due",
        "2099-12-31",
        "--first-period",
        &month,
    ]);
}

/// The CISO of ravi-tel (registered by [`register_ravi`]) files this month's CR-01 report,
/// value 91.5, with `note`, through `hisaab submit kpi`: the receipt.
pub(crate) fn file_ravi_report(
    sb: &Sandbox,
    submit: &dyn Fn(&[&str]) -> Value,
    note: &str,
) -> Value {
    let ciso = sb.join("ciso.pem").to_str().unwrap().to_owned();
    let month = this_month();
    submit(&[
        "kpi",
        "--key",
        &ciso,
        "--operator",
        "ravi-tel",
        "--kpi",
        "CR-01",
        "--period",
        &month,
        "--value",
        "91.5",
        "--note",
        note,
    ])
}
