//! Who is reading (SPEC §13): a request signed with a member's key (RFC 9421, the subset of
//! [`hisaab_api::access`]), a browser session opened by signing a challenge, or no credentials
//! (the public). Decided per request from the members of the latest state the server holds:
//! a revoked member, or a key rotated away, reads nothing from the next request on.
//!
//! Bounded in memory: the nonces of signed requests are kept for twice the allowed skew (a
//! request signed longer ago is refused as stale anyway), at most [`NONCES_MAX`]; sessions and
//! challenges expire and are bounded too. When a bound is reached with nothing expired, new
//! signed requests, challenges or sessions are refused with 503 `overloaded` rather than
//! forgetting what guards against replay.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hisaab_log::PublicKey;
use rand::RngCore;

use crate::error::ApiError;

/// How far a signed request's `created` and `Date` may be from the server's clock, in seconds.
pub const SIGNATURE_SKEW_S: u64 = 300;
/// The most nonces of signed requests remembered at once.
pub const NONCES_MAX: usize = 100_000;
/// How long a challenge may be answered, in seconds.
pub const CHALLENGE_TTL_S: u64 = 120;
/// The most challenges outstanding at once.
pub const CHALLENGES_MAX: usize = 10_000;
/// The most sessions open at once.
pub const SESSIONS_MAX: usize = 10_000;
/// The default length of a session ([`crate::ServerConfig::session_ttl`]).
pub const SESSION_TTL_DEFAULT: Duration = Duration::from_secs(15 * 60);

/// What the server remembers for read access.
#[derive(Debug, Default)]
pub(crate) struct Access {
    nonces: Mutex<Nonces>,
    challenges: Mutex<HashMap<String, u64>>,
    sessions: Mutex<HashMap<String, Session>>,
}

#[derive(Debug, Default)]
struct Nonces {
    seen: HashMap<(String, String), u64>,
    /// In the order remembered, with their expiry, to forget the expired ones first.
    order: VecDeque<(u64, String, String)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) member: String,
    pub(crate) key: PublicKey,
    pub(crate) expires: u64,
}

/// Seconds since the Unix epoch now.
pub(crate) fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub(crate) fn unauthorized(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::Unauthorized {
        code,
        message: message.into(),
    }
}

fn random_token() -> String {
    let mut bytes = [0_u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Access {
    /// Remembers `nonce` of `keyid` until `expires`; `false` if it was seen already.
    pub(crate) fn remember_nonce(
        &self,
        keyid: &str,
        nonce: &str,
        now: u64,
    ) -> Result<bool, ApiError> {
        let mut nonces = self.nonces.lock().map_err(|_| ApiError::Internal)?;
        while let Some((expires, _, _)) = nonces.order.front() {
            if *expires > now {
                break;
            }
            if let Some((_, k, n)) = nonces.order.pop_front() {
                nonces.seen.remove(&(k, n));
            }
        }
        let key = (keyid.to_owned(), nonce.to_owned());
        if nonces.seen.contains_key(&key) {
            return Ok(false);
        }
        if nonces.seen.len() >= NONCES_MAX {
            tracing::warn!("overloaded: the nonce cache of signed requests is full");
            return Err(ApiError::Overloaded);
        }
        let expires = now + 2 * SIGNATURE_SKEW_S;
        nonces.seen.insert(key, expires);
        nonces
            .order
            .push_back((expires, keyid.to_owned(), nonce.to_owned()));
        Ok(true)
    }

    /// A new challenge, good for [`CHALLENGE_TTL_S`].
    pub(crate) fn new_challenge(&self, now: u64) -> Result<(String, u64), ApiError> {
        let mut challenges = self.challenges.lock().map_err(|_| ApiError::Internal)?;
        challenges.retain(|_, expires| *expires > now);
        if challenges.len() >= CHALLENGES_MAX {
            return Err(ApiError::Overloaded);
        }
        let challenge = random_token();
        let expires = now + CHALLENGE_TTL_S;
        challenges.insert(challenge.clone(), expires);
        Ok((challenge, expires))
    }

    /// Takes a challenge (once): whether it was outstanding and not expired.
    pub(crate) fn take_challenge(&self, challenge: &str, now: u64) -> Result<bool, ApiError> {
        let mut challenges = self.challenges.lock().map_err(|_| ApiError::Internal)?;
        Ok(challenges
            .remove(challenge)
            .is_some_and(|expires| expires > now))
    }

    /// Opens a session for `member` holding `key`, until `expires`.
    pub(crate) fn open_session(
        &self,
        member: &str,
        key: PublicKey,
        now: u64,
        expires: u64,
    ) -> Result<String, ApiError> {
        let mut sessions = self.sessions.lock().map_err(|_| ApiError::Internal)?;
        sessions.retain(|_, session| session.expires > now);
        if sessions.len() >= SESSIONS_MAX {
            return Err(ApiError::Overloaded);
        }
        let token = random_token();
        sessions.insert(
            token.clone(),
            Session {
                member: member.to_owned(),
                key,
                expires,
            },
        );
        Ok(token)
    }

    /// Ends the session of `token`: it is refused from now on. Whether it was open.
    pub(crate) fn end_session(&self, token: &str, now: u64) -> Result<bool, ApiError> {
        let mut sessions = self.sessions.lock().map_err(|_| ApiError::Internal)?;
        Ok(sessions
            .remove(token)
            .is_some_and(|session| session.expires > now))
    }

    pub(crate) fn session(&self, token: &str, now: u64) -> Result<Option<Session>, ApiError> {
        let mut sessions = self.sessions.lock().map_err(|_| ApiError::Internal)?;
        match sessions.get(token) {
            Some(session) if session.expires > now => Ok(Some(session.clone())),
            Some(_) => {
                sessions.remove(token);
                Ok(None)
            }
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn nonces_are_refused_twice_forgotten_after_twice_the_skew_and_bounded() {
        let access = Access::default();
        let now = 1_800_000_000;
        assert!(access.remember_nonce("pta", "n-1", now).unwrap());
        assert!(!access.remember_nonce("pta", "n-1", now + 1).unwrap());
        // Another member may use the same nonce.
        assert!(access.remember_nonce("chair", "n-1", now).unwrap());
        // Once a request with it would be stale anyway, it is forgotten.
        let later = now + 2 * SIGNATURE_SKEW_S;
        assert!(access.remember_nonce("pta", "n-1", later).unwrap());
        // Full of unexpired nonces: refused, not forgotten.
        let access = Access::default();
        for n in 0..NONCES_MAX {
            assert!(access.remember_nonce("pta", &n.to_string(), now).unwrap());
        }
        assert_eq!(
            access.remember_nonce("pta", "one-more", now),
            Err(ApiError::Overloaded)
        );
        assert!(access
            .remember_nonce("pta", "one-more", now + 2 * SIGNATURE_SKEW_S)
            .unwrap());
    }

    #[test]
    fn challenges_are_good_once_and_expire() {
        let access = Access::default();
        let now = 1_800_000_000;
        let (challenge, expires) = access.new_challenge(now).unwrap();
        assert_eq!(expires, now + CHALLENGE_TTL_S);
        assert_eq!(challenge.len(), 43);
        assert!(access.take_challenge(&challenge, now + 1).unwrap());
        assert!(!access.take_challenge(&challenge, now + 1).unwrap());
        let (late, _) = access.new_challenge(now).unwrap();
        assert!(!access.take_challenge(&late, now + CHALLENGE_TTL_S).unwrap());
    }
}
