//! Private key files: PKCS#8 PEM, exactly as `openssl genpkey -algorithm ed25519` writes them
//! (SPEC §8). A key file is created with mode 0600 and never overwritten, and no function here
//! prints a private key.

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

/// Reads a PKCS#8 PEM Ed25519 private key (v1 as OpenSSL writes, or v2 with the public key).
pub(crate) fn read(path: &Path) -> Result<SigningKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read key file {}", path.display()))?;
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
