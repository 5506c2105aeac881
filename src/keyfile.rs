//! Private key files: PKCS#8 PEM, exactly as `openssl genpkey -algorithm ed25519` writes them
//! (SPEC §8), or encrypted PKCS#8 (`openssl genpkey -algorithm ed25519 -aes256`: PBES2) whose
//! passphrase comes from `HISAAB_KEY_PASSPHRASE` or, on a terminal, a prompt. A key file is
//! created with mode 0600 and never overwritten; one that its group or others may read is
//! used with a warning; no function here prints a private key or a passphrase.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use hisaab_log::key::encode_base64;
use hisaab_log::{PublicKey, SigningKey};

/// The DER prefix of an Ed25519 PKCS#8 v1 `PrivateKeyInfo` (RFC 8410 §7) before the 32-byte seed:
/// SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING (32) } }.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// Generates a new key from the operating system's RNG.
pub(crate) fn generate() -> SigningKey {
    SigningKey::generate(&mut rand::rngs::OsRng)
}

/// The PEM text of `key`, byte for byte what OpenSSL writes for an Ed25519 key.
pub(crate) fn to_pem(key: &SigningKey) -> String {
    let mut der = Vec::with_capacity(48);
    der.extend_from_slice(&PKCS8_ED25519_PREFIX);
    der.extend_from_slice(key.as_bytes());
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        encode_base64(&der)
    )
}

/// Writes `key` to a new file `path` with mode 0600; refuses to overwrite anything.
pub(crate) fn write_new(path: &Path, key: &SigningKey) -> Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} already exists; refusing to overwrite a key",
                path.display()
            )
        } else {
            anyhow::Error::new(e).context(format!("cannot create {}", path.display()))
        }
    })?;
    file.write_all(to_pem(key).as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The environment variable that holds the passphrase of encrypted key files.
pub(crate) const PASSPHRASE_ENV: &str = "HISAAB_KEY_PASSPHRASE";

/// A warning when the group or others may read or write the key file at `path` (Unix).
pub(crate) fn permission_warning(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Some(format!(
                "warning: key file {} has mode {mode:04o}: its group or others may read it; \
                 run `chmod 600 {}`",
                path.display(),
                path.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    None
}

/// The passphrase of the encrypted key file at `path`: `HISAAB_KEY_PASSPHRASE`, else asked on
/// the terminal without echo.
fn passphrase(path: &Path) -> Result<zeroize::Zeroizing<String>> {
    if let Ok(passphrase) = std::env::var(PASSPHRASE_ENV) {
        return Ok(zeroize::Zeroizing::new(passphrase));
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        bail!(
            "{} is an encrypted key: set {PASSPHRASE_ENV} to its passphrase, or run on a \
             terminal to be asked for it",
            path.display()
        );
    }
    let prompt = format!("passphrase for {}: ", path.display());
    rpassword::prompt_password(prompt)
        .map(zeroize::Zeroizing::new)
        .context("cannot read the passphrase from the terminal")
}

/// Decrypts an `ENCRYPTED PRIVATE KEY` PEM (PKCS#8 PBES2) with `passphrase`.
fn decrypt_pem(text: &str, passphrase: &str, path: &Path) -> Result<SigningKey> {
    use pkcs8::der::Decode as _;
    let (label, document) = pkcs8::Document::from_pem(text.trim())
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("{} is not a PEM document", path.display()))?;
    if label != "ENCRYPTED PRIVATE KEY" {
        bail!(
            "{} is a PEM {label:?}, not an encrypted private key",
            path.display()
        );
    }
    let info = pkcs8::EncryptedPrivateKeyInfo::from_der(document.as_bytes())
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("{} is not an encrypted PKCS#8 key", path.display()))?;
    let secret = info.decrypt(passphrase.as_bytes()).map_err(|_| {
        anyhow::anyhow!(
            "cannot decrypt {}: wrong passphrase, or an encryption scheme other than PBES2 \
             (scrypt or PBKDF2 with AES-CBC)",
            path.display()
        )
    })?;
    SigningKey::from_pkcs8_der(secret.as_bytes())
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("{} does not hold an Ed25519 key", path.display()))
}

/// Reads a PKCS#8 PEM Ed25519 private key (v1 as OpenSSL writes, or v2 with the public key),
/// plain or encrypted; warns on stderr when the file's group or others may read it.
pub(crate) fn read(path: &Path) -> Result<SigningKey> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read key file {}", path.display()))?,
    );
    if let Some(warning) = permission_warning(path) {
        eprintln!("{warning}");
    }
    if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        let passphrase = passphrase(path)?;
        return decrypt_pem(&text, &passphrase, path);
    }
    if !text.contains("-----BEGIN PRIVATE KEY-----") {
        bail!(
            "{} is not a PKCS#8 PEM private key (expected `-----BEGIN PRIVATE KEY-----`, as \
             `hisaab keygen` or `openssl genpkey -algorithm ed25519` write)",
            path.display()
        );
    }
    // The decoder's error text never contains key material.
    SigningKey::from_pkcs8_pem(text.trim())
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("{} is not an Ed25519 PKCS#8 private key", path.display()))
}

/// The public key of `key`.
pub(crate) fn public(key: &SigningKey) -> PublicKey {
    PublicKey::from_signing_key(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trips_and_matches_openssl_layout() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let pem = to_pem(&key);
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI"));
        let back = SigningKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(back.as_bytes(), key.as_bytes());
    }

    /// An encrypted PEM of `key` under `passphrase`: made by OpenSSL when it is installed (as
    /// an operator would), else by the `pkcs8` crate (PBES2, scrypt and AES-256-CBC).
    fn encrypted_pem(dir: &Path, key: &SigningKey, passphrase: &str) -> String {
        let plain = dir.join("plain.pem");
        std::fs::write(&plain, to_pem(key)).unwrap();
        let out = dir.join("encrypted.pem");
        let made = std::process::Command::new("openssl")
            .args(["pkey", "-aes256", "-passout"])
            .arg(format!("pass:{passphrase}"))
            .arg("-in")
            .arg(&plain)
            .arg("-out")
            .arg(&out)
            .status()
            .is_ok_and(|status| status.success());
        if made {
            return std::fs::read_to_string(&out).unwrap();
        }
        use pkcs8::der::Decode as _;
        use pkcs8::EncodePrivateKey as _;
        let der = key.to_pkcs8_der().unwrap();
        let info = pkcs8::PrivateKeyInfo::from_der(der.as_bytes()).unwrap();
        let encrypted = info
            .encrypt(rand::rngs::OsRng, passphrase.as_bytes())
            .unwrap();
        encrypted
            .to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
            .unwrap()
            .to_string()
    }

    #[test]
    fn decrypts_an_encrypted_pkcs8_key_and_refuses_a_wrong_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let pem = encrypted_pem(dir.path(), &key, "correct horse");
        assert!(
            pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
            "{pem}"
        );
        let path = dir.path().join("k.pem");
        let back = decrypt_pem(&pem, "correct horse", &path).unwrap();
        assert_eq!(back.as_bytes(), key.as_bytes());
        let wrong = decrypt_pem(&pem, "wrong", &path).unwrap_err();
        assert!(wrong.to_string().contains("wrong passphrase"), "{wrong}");
        assert!(!format!("{wrong:#}").contains("correct horse"));
    }

    #[test]
    fn warns_when_group_or_others_may_read_a_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        write_new(&path, &generate()).unwrap();
        assert_eq!(permission_warning(&path), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let warning = permission_warning(&path).unwrap();
            assert!(
                warning.contains("mode 0644") && warning.contains("chmod 600"),
                "{warning}"
            );
            // Still used: a warning, not a refusal.
            read(&path).unwrap();
        }
    }

    #[test]
    fn refuses_to_overwrite_and_uses_mode_0600() {
        let dir = std::env::temp_dir().join(format!("hisaab-keyfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("k.pem");
        let _ = std::fs::remove_file(&path);
        write_new(&path, &generate()).unwrap();
        assert!(write_new(&path, &generate()).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        read(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
