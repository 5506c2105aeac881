//! SPEC §8: key files, and no private key material in any output.

use super::*;

#[test]
fn keygen_writes_pkcs8_with_mode_0600_and_prints_no_private_key() {
    let sb = Sandbox::new();
    let path = sb.join("k.pem");
    // Under a permissive umask, too.
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 000; exec \"$0\" keygen \"$1\" --log-name conformance.test/hisaab")
        .arg(common::bin())
        .arg(&path)
        .env("HISAAB_STATE", sb.state_file())
        .env("HOME", sb.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let pem = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = pem.lines().collect();
    assert_eq!(lines.len(), 3, "{pem}");
    assert_eq!(
        (lines[0], lines[2]),
        ("-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----")
    );
    let der = b64_decode(lines[1]);
    assert_eq!(der.len(), 48);
    assert_eq!(
        hex::encode(&der[..16]),
        "302e020100300506032b657004220420",
        "PKCS#8 v1 Ed25519"
    );
    let seed: [u8; 32] = der[16..].try_into().unwrap();
    let public = SigningKey::from_bytes(&seed).verifying_key();
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    assert!(stdout.contains(&b64(public.as_bytes())), "{stdout}");
    assert!(stdout.contains(&vkey_string(&public)), "{stdout}");
    assert_no_private_key(
        &format!("{stdout}{}", String::from_utf8_lossy(&output.stderr)),
        &[seed],
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // OpenSSL reads it as an Ed25519 private key, when it is installed.
    if let Ok(out) = std::process::Command::new("openssl")
        .args(["pkey", "-in"])
        .arg(&path)
        .args(["-noout", "-text_pub"])
        .stdin(std::process::Stdio::null())
        .output()
    {
        assert!(
            out.status.success(),
            "openssl pkey: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
        assert!(text.contains("ed25519"), "{text}");
    }
    // A log key's name is a C2SP key name: 1–255 bytes, no whitespace, no `+`.
    for name in ["has+plus", "has space", "", &"a".repeat(256)] {
        let out = sb.run(&[
            "keygen",
            sb.join("bad-name.pem").to_str().unwrap(),
            "--log-name",
            name,
        ]);
        assert!(
            !out.status.success(),
            "keygen --log-name {name:?} was accepted"
        );
        assert!(!sb.join("bad-name.pem").exists() || !out.status.success());
        let _ = std::fs::remove_file(sb.join("bad-name.pem"));
        let out = sb.run(&["pubkey", path.to_str().unwrap(), "--log-name", name]);
        assert!(
            !out.status.success(),
            "pubkey --log-name {name:?} was accepted"
        );
    }
    // pubkey prints the public key only.
    let out = sb.run(&["pubkey", path.to_str().unwrap()]);
    assert!(out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains(&b64(public.as_bytes())), "{all}");
    assert_no_private_key(&all, &[seed]);
    // sign: an envelope on stdout, no key.
    std::fs::write(sb.join("body.json"), r#"{"operator":"x","name":"X"}"#).unwrap();
    let out = sb.run(&[
        "sign",
        "--key",
        path.to_str().unwrap(),
        "--kind",
        "operator.registered",
        "--body",
        sb.join("body.json").to_str().unwrap(),
        "--ledger",
        &hex::encode([1u8; 32]),
    ]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{all}");
    assert_no_private_key(&all, &[seed]);
}

#[test]
fn demo_prints_no_private_key_and_writes_keys_0600() {
    let sb = Sandbox::new();
    let data = sb.join("demo");
    let out = sb.run(&["demo", "--no-serve", "--data", data.to_str().unwrap()]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{all}");
    let mut seeds = Vec::new();
    for file in std::fs::read_dir(data.join("keys")).unwrap() {
        let path = file.unwrap().path();
        let pem = std::fs::read_to_string(&path).unwrap();
        let Some(body) = pem.lines().nth(1).filter(|_| pem.contains("PRIVATE KEY")) else {
            continue;
        };
        assert!(!all.contains(body), "{} printed", path.display());
        seeds.push(<[u8; 32]>::try_from(&b64_decode(body)[16..]).unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", path.display());
        }
    }
    assert!(seeds.len() > 3);
    assert_no_private_key(&all, &seeds);
}
