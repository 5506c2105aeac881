"""What every re-derivation shares: the tally of checks, and Ed25519 verification (RFC 8032,
with the `cryptography` package, imported only by the scripts that verify signatures).
Imported by the rederive scripts, which run from this folder."""
import base64

failures = []
passes = []


def check(ok, what):
    """Counts one check; prints it when it fails."""
    if ok:
        passes.append(what)
    else:
        failures.append(what)
        print("FAIL", what)


def verifies(public_b64, signature_b64, message):
    """Whether the base64 Ed25519 signature verifies over `message` under the base64 key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64))
        key.verify(base64.b64decode(signature_b64), message)
        return True
    except (InvalidSignature, ValueError):
        return False
