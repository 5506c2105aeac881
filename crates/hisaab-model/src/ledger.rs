//! The replay state of a ledger and the rules of acceptance (SPEC §2 chain, §4 rules 1–5).
//!
//! [`Ledger::apply`] judges one entry at the ledger's current size and, if it passes, folds it
//! into the state in O(log n): every lookup is a map access, nothing rescans history. What the
//! state does not keep (statement ids, past state digests) it asks of a [`History`].

use std::collections::{BTreeMap, BTreeSet};

use hisaab_log::seal::{Blinding, FieldOpenings, Sealing};
use hisaab_log::statement::ENVELOPE_BYTES_MAX;
use hisaab_log::{Date, Hash, Period, PublicKey, SealedEntry, Statement, Timestamp, TrustedEntry};
use serde::{Deserialize, Serialize};

use crate::body::{Body, GenesisBody, Kind, Signers};
use crate::place::{self, Concern, Places, Scope};
use crate::rule::{History, HistoryError, Rule, Violation};
use crate::sealed::{self, Parsed};
use crate::value::{
    Cadence, CommitmentOutcome, Decimal, Direction, DisputeOutcome, KpiId, Pillar, Role, Score,
    Slug, Text, Verdict,
};

/// The format version of [`Ledger::to_snapshot`]; a snapshot of another version is refused.
pub const SNAPSHOT_FORMAT: &str = "hisaab-model/ledger-snapshot/v10";

/// What a store indexes an applied entry by ([`Ledger::apply_indexed`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The operator and KPI it concerns, for their history ([`Ledger::subject_of`]).
    pub subject: Option<(String, String)>,
    /// Its scope for read access (SPEC §13.4, [`Ledger::scope_of`]).
    pub scope: Scope,
    /// For a `field.erased`: the openings the store deletes with it (SPEC §12.9).
    pub erasure: Option<Erasure>,
}

/// The openings a `field.erased` erases: of these fields of the entry at `seq` (SPEC §12.9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Erasure {
    /// The seq of the entry whose fields are erased.
    pub seq: u64,
    /// Its event hash.
    pub event_hash: Hash,
    /// The fields erased.
    pub fields: Vec<String>,
}

/// The replay state of a ledger: everything the rules of SPEC §4 and the projection of §5 need,
/// built entry by entry. `Clone`, and serialisable so that a restart resumes from a snapshot.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ledger {
    pub(crate) size: u64,
    /// The ledger's format: the genesis statement's `v` (0 before the genesis).
    pub(crate) format: u64,
    pub(crate) ledger_id: Option<Hash>,
    pub(crate) last_event_hash: Hash,
    pub(crate) last_recorded_at: Option<Timestamp>,
    pub(crate) genesis: Option<GenesisBody>,
    pub(crate) operators: BTreeMap<Slug, OperatorRecord>,
    pub(crate) members: BTreeMap<Slug, MemberRecord>,
    /// Every key ever enrolled or rotated in, with its member: keys are never reused.
    pub(crate) keys: BTreeMap<PublicKey, KeyRecord>,
    pub(crate) kpis: BTreeMap<KpiId, KpiRecord>,
    /// Per operator and KPI: assignments (versioned) and the non-superseded submissions.
    pub(crate) tracks: BTreeMap<Slug, BTreeMap<KpiId, Track>>,
    #[serde(with = "in_seq_order")]
    pub(crate) submissions: BTreeMap<Hash, SubmissionRecord>,
    #[serde(with = "in_seq_order")]
    pub(crate) evaluations: BTreeMap<Hash, EvaluationRecord>,
    pub(crate) commitments: BTreeMap<Slug, CommitmentRecord>,
    pub(crate) challenges: BTreeMap<Slug, ChallengeRecord>,
    /// Event hashes of `challenge.raised` entries, for `in_response_to`.
    pub(crate) challenge_events: BTreeMap<Hash, Slug>,
    pub(crate) meetings: BTreeMap<Slug, MeetingRecord>,
    pub(crate) disputes: BTreeMap<Slug, DisputeRecord>,
    /// The operators some of whose entries were applied with a sealed field unopened (SPEC
    /// §12): the state shows them as the public view does.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub(crate) unopened: BTreeSet<Slug>,
    /// Whether an entry with a sealed field unopened concerned no single operator: the state
    /// then shows every operator as the public view does.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) unopened_unplaced: bool,
    /// Format 2: the task force's cycle (meetings scheduled, actions, directives, extensions,
    /// escalations).
    #[serde(default)]
    pub(crate) cycle: crate::record::CycleLedger,
    /// Format 2: every entry of a kind with an erasable field, by event hash (what a
    /// `field.erased` may name, SPEC §12.9).
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        with = "in_seq_order"
    )]
    pub(crate) erasable: BTreeMap<Hash, ErasableRecord>,
    /// Format 2: the fields erased from entries, by the entry's event hash (SPEC §12.9).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) erased: BTreeMap<Hash, ErasedRecord>,
}

/// A record of one entry, in a map keyed by the entry's event hash.
pub(crate) trait OfEntry {
    /// The entry's seq.
    fn seq(&self) -> u64;
}

/// The maps keyed by event hash (one record per entry) serialised as their `[hash, record]`
/// pairs in the order of the entries' seqs rather than of the hashes. Entries come in seq
/// order, so a snapshot then changes at its end as the log grows, where in hash order every
/// new record lands at a random place: the store keeps snapshots in content-defined chunks,
/// and only the chunks that changed cost a snapshot its bytes.
///
/// The pairs are cut into segments of [`SEGMENT_RECORDS`] (the last one shorter, none empty),
/// each a MessagePack `bin` holding the array of its pairs, so that a restart decodes the
/// segments on every core: at 10^6 submissions decoding this map was most of an open. Segments
/// cut otherwise, records out of seq order and a hash twice are refused.
mod in_seq_order {
    use std::borrow::Cow;
    use std::collections::BTreeMap;
    use std::fmt;

    use hisaab_log::Hash;
    use serde::de::{DeserializeOwned, Error as _};
    use serde::ser::{Error as _, SerializeSeq as _};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use zeroize::Zeroizing;

    use super::{msgpack_uint, msgpack_value_len, OfEntry};

    /// The pairs a segment holds, all but the last. A segment's bytes change only where its
    /// records do (a record appended to the last, an older one superseded or overturned).
    pub(crate) const SEGMENT_RECORDS: usize = 16_384;

    pub(crate) fn serialize<S: Serializer, V: Serialize + OfEntry>(
        map: &BTreeMap<Hash, V>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut pairs: Vec<(&Hash, &V)> = map.iter().collect();
        pairs.sort_by_key(|(_, record)| record.seq());
        // A segment's bytes hold opened values (SPEC §12): one buffer, wiped when dropped,
        // serves every segment in turn.
        let mut bytes = Zeroizing::new(Vec::new());
        let mut sequence = serializer.serialize_seq(Some(pairs.len().div_ceil(SEGMENT_RECORDS)))?;
        for segment in pairs.chunks(SEGMENT_RECORDS) {
            bytes.clear();
            segment
                .serialize(&mut rmp_serde::Serializer::new(&mut *bytes).with_struct_map())
                .map_err(S::Error::custom)?;
            sequence.serialize_element(&Segment(Cow::Borrowed(&bytes[..])))?;
        }
        sequence.end()
    }

    pub(crate) fn deserialize<'de, D, V>(deserializer: D) -> Result<BTreeMap<Hash, V>, D::Error>
    where
        D: Deserializer<'de>,
        V: DeserializeOwned + OfEntry + Send,
    {
        let segments = Vec::<Segment<'de>>::deserialize(deserializer)?;
        check_segments(&segments).map_err(D::Error::custom)?;
        let runs = sorted_runs::<V>(&segments).map_err(D::Error::custom)?;
        // In seq order across runs too, as written.
        if runs
            .windows(2)
            .any(|pair| pair[1].first_seq <= pair[0].last_seq)
        {
            return Err(D::Error::custom("the records are not in seq order"));
        }
        let mut runs = runs.into_iter().map(|run| run.pairs);
        let mut pairs = runs.next().unwrap_or_default();
        for run in runs {
            pairs.extend(run);
        }
        // The runs are sorted each: the stable sort finds them and merges them, and the map
        // takes the sorted vector as it is.
        pairs.sort_by_key(|(hash, _)| *hash);
        if pairs.windows(2).any(|pair| pair[0].0 == pair[1].0) {
            return Err(D::Error::custom("an event hash twice"));
        }
        Ok(pairs.into_iter().collect())
    }

    /// The segments cut into a run a core (runs of whole segments), each run decoded and sorted
    /// by hash on a thread of its own; a single run, and a run whose thread cannot start, on
    /// the calling thread. Every thread is joined before a result is read.
    fn sorted_runs<V: DeserializeOwned + OfEntry + Send>(
        segments: &[Segment<'_>],
    ) -> Result<Vec<Run<V>>, String> {
        let per_run = segments.len().div_ceil(crate::parallel::workers()).max(1);
        if segments.len() <= per_run {
            return segments.chunks(per_run).map(sorted_run).collect();
        }
        std::thread::scope(|scope| {
            let threads: Vec<_> = segments
                .chunks(per_run)
                .map(|run| {
                    let spawned = std::thread::Builder::new()
                        .spawn_scoped(scope, move || sorted_run::<V>(run))
                        .ok();
                    (run, spawned)
                })
                .collect();
            let runs: Vec<Result<Run<V>, String>> = threads
                .into_iter()
                .map(|(run, spawned)| match spawned {
                    Some(thread) => thread
                        .join()
                        .unwrap_or_else(|_| Err("a thread decoding the snapshot failed".into())),
                    None => sorted_run(run),
                })
                .collect();
            runs.into_iter().collect()
        })
    }

    /// Every segment but the last holds [`SEGMENT_RECORDS`] pairs, the last one at least one,
    /// and each is one MessagePack value.
    fn check_segments(segments: &[Segment<'_>]) -> Result<(), String> {
        let last = segments.len().saturating_sub(1);
        for (n, segment) in segments.iter().enumerate() {
            let expected = if n == last {
                1..=SEGMENT_RECORDS
            } else {
                SEGMENT_RECORDS..=SEGMENT_RECORDS
            };
            if msgpack_value_len(&segment.0) != Some(segment.0.len()) {
                return Err(format!("segment {n} is not one MessagePack value"));
            }
            if !expected.contains(&array_len(&segment.0).unwrap_or(0)) {
                return Err(format!("segment {n} does not hold {expected:?} records"));
            }
        }
        Ok(())
    }

    /// The fewest bytes a pair takes: an array of two (1), a hash as `bin` 8 (34), a record (1).
    const PAIR_BYTES_MIN: usize = 36;

    /// The pairs of a run of segments sorted by hash, with the first and the last seq of its
    /// records (which come in increasing seq order).
    struct Run<V> {
        pairs: Vec<(Hash, V)>,
        first_seq: u64,
        last_seq: u64,
    }

    /// A run's [`Run`].
    fn sorted_run<V: DeserializeOwned + OfEntry>(
        segments: &[Segment<'_>],
    ) -> Result<Run<V>, String> {
        // Room for what the bytes can hold, not for what a segment declares: a forged segment
        // of 16,384 one-byte values would otherwise reserve hundreds of times its size.
        let room: usize = segments.iter().map(|s| s.0.len() / PAIR_BYTES_MIN).sum();
        let mut pairs = Vec::with_capacity(room.min(segments.len() * SEGMENT_RECORDS));
        for segment in segments {
            let mut deserializer = rmp_serde::Deserializer::from_read_ref(&segment.0[..]);
            let decoded =
                Vec::<(Hash, V)>::deserialize(&mut deserializer).map_err(|e| e.to_string())?;
            pairs.extend(decoded);
        }
        if pairs
            .windows(2)
            .any(|pair| pair[0].1.seq() >= pair[1].1.seq())
        {
            return Err("the records are not in seq order".into());
        }
        let (Some(first), Some(last)) = (pairs.first(), pairs.last()) else {
            return Err("a run of no records".into());
        };
        let (first_seq, last_seq) = (first.1.seq(), last.1.seq());
        // The hashes are sorted with their places, not the records with them (a record is
        // many times a hash's size).
        let mut order: Vec<(Hash, usize)> = pairs
            .iter()
            .enumerate()
            .map(|(place, (hash, _))| (*hash, place))
            .collect();
        order.sort_unstable();
        let mut records: Vec<Option<V>> =
            pairs.into_iter().map(|(_, record)| Some(record)).collect();
        // Gathered into a vector of the exact size, not collected from an iterator of unknown
        // length, which grows by copies.
        let mut sorted = Vec::with_capacity(order.len());
        for (hash, place) in order {
            if let Some(record) = records.get_mut(place).and_then(Option::take) {
                sorted.push((hash, record));
            }
        }
        Ok(Run {
            pairs: sorted,
            first_seq,
            last_seq,
        })
    }

    /// The length a MessagePack array declares at the start of `bytes`.
    fn array_len(bytes: &[u8]) -> Option<usize> {
        match *bytes.first()? {
            marker @ 0x90..=0x9f => Some(usize::from(marker & 0x0f)),
            0xdc => msgpack_uint(bytes, 1, 2),
            0xdd => msgpack_uint(bytes, 1, 4),
            _ => None,
        }
    }

    /// One segment: a MessagePack `bin`, read in place where the deserializer lends its bytes.
    pub(super) struct Segment<'a>(pub(super) Cow<'a, [u8]>);

    impl Serialize for Segment<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(&self.0)
        }
    }

    impl<'de> Deserialize<'de> for Segment<'de> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Bytes;
            impl<'de> serde::de::Visitor<'de> for Bytes {
                type Value = Segment<'de>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a segment of records (bytes)")
                }
                fn visit_borrowed_bytes<E>(self, bytes: &'de [u8]) -> Result<Segment<'de>, E> {
                    Ok(Segment(Cow::Borrowed(bytes)))
                }
                fn visit_bytes<E>(self, bytes: &[u8]) -> Result<Segment<'de>, E> {
                    Ok(Segment(Cow::Owned(bytes.to_vec())))
                }
                fn visit_byte_buf<E>(self, bytes: Vec<u8>) -> Result<Segment<'de>, E> {
                    Ok(Segment(Cow::Owned(bytes)))
                }
            }
            deserializer.deserialize_bytes(Bytes)
        }
    }
}

impl OfEntry for SubmissionRecord {
    fn seq(&self) -> u64 {
        self.seq
    }
}

impl OfEntry for EvaluationRecord {
    fn seq(&self) -> u64 {
        self.seq
    }
}

impl OfEntry for ErasableRecord {
    fn seq(&self) -> u64 {
        self.seq
    }
}

/// Declares a record of which a snapshot may hold one per entry, serialised as the tuple of its
/// fields in their order (a MessagePack array) instead of a map with their names: the names
/// were most of a submission's 155 bytes in a snapshot, and of the time to decode it.
macro_rules! snapshot_record {
    (
        $(#[$meta:meta])*
        pub(crate) struct $record:ident {
            $($(#[$field_meta:meta])* pub(crate) $field:ident: $ty:ty,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub(crate) struct $record {
            $($(#[$field_meta])* pub(crate) $field: $ty,)+
        }

        impl Serialize for $record {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                ($(&self.$field,)+).serialize(serializer)
            }
        }

        impl<'de> Deserialize<'de> for $record {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let ($($field,)+) = <($($ty,)+)>::deserialize(deserializer)?;
                Ok($record { $($field,)+ })
            }
        }
    };
}

snapshot_record! {
    /// An entry whose fields a `field.erased` may name.
    pub(crate) struct ErasableRecord {
        pub(crate) seq: u64,
        pub(crate) kind: String,
    }
}

/// The erased fields of one entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct ErasedRecord {
    /// Each field erased, with the seq of the `field.erased` that erased it.
    pub(crate) fields: BTreeMap<String, u64>,
}

snapshot_record! {
    pub(crate) struct OperatorRecord {
        pub(crate) name: Text,
        pub(crate) seq: u64,
        /// The opened `blinding` of a format-2 registration (SPEC §12.8).
        pub(crate) blinding: Option<Blinding>,
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct MemberRecord {
    pub(crate) name: Text,
    pub(crate) roles: BTreeSet<Role>,
    pub(crate) operator: Option<Slug>,
    pub(crate) key: PublicKey,
    pub(crate) seq: u64,
    pub(crate) revoked_seq: Option<u64>,
}

impl MemberRecord {
    pub(crate) fn is_active(&self) -> bool {
        self.revoked_seq.is_none()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct KeyRecord {
    pub(crate) member: Slug,
    pub(crate) seq: u64,
    /// The seq of the rotation that retired it.
    pub(crate) rotated_seq: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct KpiRecord {
    pub(crate) pillar: Pillar,
    pub(crate) seq: u64,
    pub(crate) title: Text,
    pub(crate) unit: Text,
    pub(crate) direction: Direction,
    pub(crate) cadence: Cadence,
    pub(crate) evidence_required: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Track {
    /// Every assignment, oldest first; the last is in force.
    pub(crate) assignments: Vec<AssignmentRecord>,
    /// The non-superseded submission of each period.
    pub(crate) periods: BTreeMap<Period, Hash>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct AssignmentRecord {
    pub(crate) seq: u64,
    pub(crate) target: Decimal,
    pub(crate) baseline: Option<Decimal>,
    pub(crate) due: Date,
    pub(crate) first_period: Period,
}

snapshot_record! {
    pub(crate) struct SubmissionRecord {
        pub(crate) seq: u64,
        pub(crate) operator: Slug,
        pub(crate) kpi: KpiId,
        pub(crate) period: Period,
        /// `None` while sealed (SPEC §12).
        pub(crate) value: Option<Decimal>,
        /// The date it was recorded (for the evaluation it is due, SPEC §11).
        pub(crate) recorded: Date,
        pub(crate) superseded_seq: Option<u64>,
        pub(crate) effective_evaluation: Option<Hash>,
        /// Whether a dispute over its effective evaluation was resolved with a sealed outcome
        /// (SPEC §12): whether that evaluation still stands is unknown.
        pub(crate) effective_unknown: bool,
    }
}

snapshot_record! {
    pub(crate) struct EvaluationRecord {
        pub(crate) seq: u64,
        pub(crate) submission: Hash,
        /// `None` while sealed (SPEC §12), as `score`.
        pub(crate) verdict: Option<Verdict>,
        pub(crate) score: Option<Score>,
        pub(crate) superseded_seq: Option<u64>,
        pub(crate) overturned_seq: Option<u64>,
        pub(crate) open_dispute: Option<Slug>,
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct CommitmentRecord {
    pub(crate) seq: u64,
    pub(crate) operator: Slug,
    /// The KPI the commitment names, if any (for the history of an operator and KPI).
    pub(crate) kpi: Option<KpiId>,
    pub(crate) due: Date,
    /// The seq that closed it, and its outcome (`None` while sealed, SPEC §12).
    pub(crate) closed: Option<(u64, Option<CommitmentOutcome>)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ChallengeRecord {
    pub(crate) seq: u64,
    /// The date it was raised.
    pub(crate) raised: Date,
    /// The operator and KPI the challenge names, if any (for the history of a pair).
    pub(crate) operator: Option<Slug>,
    pub(crate) kpi: Option<KpiId>,
    pub(crate) resolved_seq: Option<u64>,
    /// Format 2 (SPEC §11.12): who answers for it, by when, and how grave it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) owner: Option<crate::record::ActionOwner>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) due: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) severity: Option<crate::value::Severity>,
    /// The measures taken against it, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) measures: Vec<crate::record::MeasureRecord>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct MeetingRecord {
    pub(crate) seq: u64,
    pub(crate) attendees: BTreeSet<Slug>,
    pub(crate) attested: BTreeSet<Slug>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct DisputeRecord {
    pub(crate) seq: u64,
    /// The date it was opened.
    pub(crate) opened: Date,
    pub(crate) evaluation: Hash,
    pub(crate) operator: Slug,
    pub(crate) kpi: KpiId,
    /// The seq that resolved it, and its outcome (`None` while sealed, SPEC §12).
    pub(crate) resolved: Option<(u64, Option<DisputeOutcome>)>,
}

/// A snapshot that cannot be resumed from.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The bytes are not a snapshot.
    #[error("not a ledger snapshot: {0}")]
    Decode(#[source] rmp_serde::decode::Error),
    /// The bytes after the version line are not one MessagePack value: cut short, or followed
    /// by more bytes.
    #[error("the snapshot's bytes are not one MessagePack value")]
    NotOneValue,
    /// A snapshot of another format version.
    #[error("snapshot format {found:?} is not {SNAPSHOT_FORMAT:?}")]
    Version {
        /// The version found.
        found: String,
    },
}

/// Whether `bytes` declare the snapshot format of this version ([`SNAPSHOT_FORMAT`]), read
/// from their first line alone: a snapshot of another version is neither resumed from nor
/// compared with the log.
pub fn snapshot_is_current(bytes: &[u8]) -> bool {
    split_snapshot_format(bytes).0 == SNAPSHOT_FORMAT.as_bytes()
}

/// A snapshot's first line (its format, without the newline) and the bytes after it; without a
/// newline in the first 128 bytes (a JSON snapshot of before v7, or no snapshot), the first
/// bytes as the format and nothing after.
fn split_snapshot_format(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().take(128).position(|&b| b == b'\n') {
        Some(end) => (&bytes[..end], &bytes[end + 1..]),
        None => (&bytes[..bytes.len().min(64)], &[]),
    }
}

/// The big-endian unsigned integer of `width` bytes at `at` (a MessagePack length); `None` when
/// cut short or beyond `usize`.
fn msgpack_uint(bytes: &[u8], at: usize, width: usize) -> Option<usize> {
    let field = bytes.get(at..at.checked_add(width)?)?;
    let value = field.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b));
    usize::try_from(value).ok()
}

/// The length of the MessagePack value at the start of `bytes` (its markers and lengths walked,
/// nothing decoded); `None` when it is cut short or a marker is not one MessagePack defines.
fn msgpack_value_len(bytes: &[u8]) -> Option<usize> {
    let be = msgpack_uint;
    // Values still to walk; a map of n pairs is 2n values.
    let mut pending: usize = 1;
    let mut at = 0usize;
    while pending > 0 {
        pending -= 1;
        let marker = *bytes.get(at)?;
        at += 1;
        // (bytes after the marker to pass over, values nested in this one)
        let (skip, nested) = match marker {
            0x00..=0x7f | 0xc0 | 0xc2 | 0xc3 | 0xe0..=0xff => (0, 0),
            0x80..=0x8f => (0, usize::from(marker & 0x0f) * 2),
            0x90..=0x9f => (0, usize::from(marker & 0x0f)),
            0xa0..=0xbf => (usize::from(marker & 0x1f), 0),
            0xc4 | 0xd9 => (be(bytes, at, 1)?.checked_add(1)?, 0),
            0xc5 | 0xda => (be(bytes, at, 2)?.checked_add(2)?, 0),
            0xc6 | 0xdb => (be(bytes, at, 4)?.checked_add(4)?, 0),
            0xc7 => (be(bytes, at, 1)?.checked_add(2)?, 0),
            0xc8 => (be(bytes, at, 2)?.checked_add(3)?, 0),
            0xc9 => (be(bytes, at, 4)?.checked_add(5)?, 0),
            0xca => (4, 0),
            0xcb => (8, 0),
            0xcc | 0xd0 => (1, 0),
            0xcd | 0xd1 => (2, 0),
            0xce | 0xd2 => (4, 0),
            0xcf | 0xd3 => (8, 0),
            0xd4 => (2, 0),
            0xd5 => (3, 0),
            0xd6 => (5, 0),
            0xd7 => (9, 0),
            0xd8 => (17, 0),
            0xdc => (2, be(bytes, at, 2)?),
            0xdd => (4, be(bytes, at, 4)?),
            0xde => (2, be(bytes, at, 2)?.checked_mul(2)?),
            0xdf => (4, be(bytes, at, 4)?.checked_mul(2)?),
            // 0xc1 is never used.
            _ => return None,
        };
        at = at.checked_add(skip)?;
        if at > bytes.len() {
            return None;
        }
        pending = pending.checked_add(nested)?;
        // Every nested value takes at least one byte: a count beyond what is left is cut short.
        if pending > bytes.len() - at {
            return None;
        }
    }
    Some(at)
}

/// The signer of a non-genesis statement, once rule 2's key check has passed.
pub(crate) struct Signer<'a> {
    /// The member's id.
    pub(crate) id: &'a Slug,
    /// The member.
    pub(crate) record: &'a MemberRecord,
    /// The date of the entry's `recorded_at`.
    pub(crate) date: Date,
}

impl Ledger {
    /// An empty ledger, before its genesis.
    pub fn new() -> Self {
        Ledger::default()
    }

    /// The number of entries applied.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The ledger's format, 1 or 2: its genesis statement's `v`, which every later statement
    /// carries too (SPEC §11). 0 before the genesis.
    pub fn format(&self) -> u64 {
        self.format
    }

    /// Whether the ledger is of format 2 (SPEC §11): its v2 kinds, rules and state.
    pub(crate) fn is_v2(&self) -> bool {
        self.format >= 2
    }

    /// Whether some entry was applied with a sealed field unopened (SPEC §12): the state is
    /// then not the full state, and the rules that compare with the full state's digest are
    /// not run.
    pub fn is_partial(&self) -> bool {
        self.unopened_unplaced || !self.unopened.is_empty()
    }

    /// The date of the last entry's `recorded_at` (while an entry commits, its own); the
    /// epoch before any.
    pub(crate) fn today(&self) -> Date {
        self.last_recorded_at
            .as_ref()
            .map_or_else(crate::value::epoch, Timestamp::date)
    }

    /// The ledger id (the event hash of entry 0), once the genesis is applied.
    pub fn ledger_id(&self) -> Option<Hash> {
        self.ledger_id
    }

    /// The operator and KPI an accepted statement concerns, following its references, for a
    /// history of that pair: an assignment, a submission, a commitment with a KPI, a challenge
    /// naming both (their bodies name them); an evaluation (through its submission); a dispute
    /// opened or resolved (through the evaluation it names). `None` for every other statement.
    /// Call it on the ledger that has applied `statement`.
    pub fn subject_of(&self, statement: &Statement) -> Option<(String, String)> {
        let body = Body::try_parse(&statement.kind, &statement.body).ok()?;
        self.subject_of_body(&body)
    }

    /// [`Ledger::subject_of`] for a parsed body.
    fn subject_of_body(&self, body: &Body) -> Option<(String, String)> {
        // The kinds that name both themselves; `Body::subject` is the one list of them.
        if let (Some(operator), Some(kpi)) = body.subject() {
            return Some((operator.as_str().to_owned(), kpi.as_str().to_owned()));
        }
        let submission = |hash: &Hash| {
            self.submissions
                .get(hash)
                .map(|s| (s.operator.as_str().to_owned(), s.kpi.as_str().to_owned()))
        };
        match body {
            Body::EvaluationRecorded(b) => submission(&b.submission),
            Body::DisputeOpened(b) => self
                .evaluations
                .get(&b.evaluation)
                .and_then(|e| submission(&e.submission)),
            Body::DisputeResolved(b) => self
                .disputes
                .get(&b.dispute)
                .map(|d| (d.operator.as_str().to_owned(), d.kpi.as_str().to_owned())),
            Body::CommitmentClosed(b) => self.commitments.get(&b.commitment).and_then(|c| {
                Some((
                    c.operator.as_str().to_owned(),
                    c.kpi.as_ref()?.as_str().to_owned(),
                ))
            }),
            Body::ChallengeResolved(b) => self.challenge_subject(&b.challenge),
            Body::ChallengeMeasureRecorded(b) => self.challenge_subject(&b.challenge),
            _ => None,
        }
    }

    /// The operator and KPI a challenge names, when it names both.
    fn challenge_subject(&self, challenge: &Slug) -> Option<(String, String)> {
        self.challenges.get(challenge).and_then(|c| {
            Some((
                c.operator.as_ref()?.as_str().to_owned(),
                c.kpi.as_ref()?.as_str().to_owned(),
            ))
        })
    }

    /// The genesis body, once applied.
    pub fn genesis(&self) -> Option<&GenesisBody> {
        self.genesis.as_ref()
    }

    /// The event hash of the last entry; [`Hash::ZERO`] when empty (the `prev` of entry 0).
    pub fn last_event_hash(&self) -> Hash {
        self.last_event_hash
    }

    /// The `recorded_at` of the last entry.
    pub fn last_recorded_at(&self) -> Option<&Timestamp> {
        self.last_recorded_at.as_ref()
    }

    /// The member this key belongs or belonged to (keys are never reused, so there is at most
    /// one), whether or not it is still their current key.
    pub fn member_for_key(&self, key: &PublicKey) -> Option<&str> {
        self.keys.get(key).map(|k| k.member.as_str())
    }

    /// The member whose *current* key this is, if they are active: who may sign with it now.
    pub fn active_member_for_key(&self, key: &PublicKey) -> Option<&str> {
        let record = self.keys.get(key)?;
        let member = self.members.get(&record.member)?;
        (member.key == *key && member.is_active()).then_some(record.member.as_str())
    }

    /// The current key of an active member holding `role`, by member id: e.g. the witnesses
    /// who may cosign checkpoints (SPEC §3).
    pub fn active_keys_with_role(&self, role: Role) -> Vec<(&str, PublicKey)> {
        self.members
            .iter()
            .filter(|(_, m)| m.is_active() && m.roles.contains(&role))
            .map(|(id, m)| (id.as_str(), m.key))
            .collect()
    }

    /// Checks `entry` against every rule of SPEC §4 (and the chain of §2) at position
    /// [`Ledger::size`], and folds it into the state if it passes.
    ///
    /// Does **not** verify the Ed25519 signature: callers verify it beforehand (in parallel,
    /// outside the sequencer). The checks run in SPEC §7's order of precedence: the chain,
    /// form (400), signer key (401), role and conflict of interest (403), statement id (409),
    /// then ledger id, time and references (422); the first that fails is reported.
    ///
    /// # Errors
    /// The [`Violation`] of the first failing check; on error `self` is unchanged.
    pub fn apply(&mut self, entry: &SealedEntry, history: &dyn History) -> Result<(), Violation> {
        self.apply_with(entry, None, history)
    }

    /// [`Ledger::apply_with`], returning what a store indexes the entry by, read from the
    /// body the rules parsed rather than parsing the statement again: the same answers as
    /// [`Ledger::subject_of`] and [`Ledger::scope_of`] on the ledger that has applied it.
    ///
    /// # Errors
    /// As [`Ledger::apply_with`]; on error `self` is unchanged.
    pub fn apply_indexed(
        &mut self,
        entry: &SealedEntry,
        openings: Option<&FieldOpenings>,
        history: &dyn History,
    ) -> Result<Applied, Violation> {
        let parsed = self.check(entry, openings, history)?;
        // What a body names is an earlier entry's, which this entry's commit does not move:
        // looked up now, it is what the ledger that has applied the entry would find.
        let erasure = match &parsed.body {
            Body::FieldErased(b) => self.erasable.get(&b.entry).map(|named| Erasure {
                seq: named.seq,
                event_hash: b.entry,
                fields: b.fields.clone(),
            }),
            _ => None,
        };
        let applied = Applied {
            subject: self.subject_of_body(&parsed.body),
            scope: place::scope_of_body(&parsed.body, self),
            erasure,
        };
        self.commit(entry, parsed);
        Ok(applied)
    }

    /// [`Ledger::apply`] for an entry whose body may be sealed (format 2, SPEC §12), with the
    /// openings of some or all of its sealed fields. Each opening must match its commitment
    /// (else rule 1). With every opening, every rule runs on the opened body; a sealed field
    /// left unopened is unknown: the rules that read it are not run, and the state shows the
    /// operator the entry concerns as the public view does.
    ///
    /// # Errors
    /// The [`Violation`] of the first failing check; on error `self` is unchanged.
    pub fn apply_with(
        &mut self,
        entry: &SealedEntry,
        openings: Option<&FieldOpenings>,
        history: &dyn History,
    ) -> Result<(), Violation> {
        let parsed = self.check(entry, openings, history)?;
        self.commit(entry, parsed);
        Ok(())
    }

    /// The append-time check of a statement's sealing (SPEC §12.5), before the rules run on
    /// the opened body: the openings the ledger keeps for the entry at `seq`, or `None` for a
    /// plain body sent without a sealing. A sealed body needs its sealing, a sealing needs a
    /// sealed body of a format-2 ledger, and every commitment must match the value and salt
    /// the sealing gives; anything else is refused under rule 1 and changes nothing.
    ///
    /// # Errors
    /// A [`Violation`] of rule 1 ([`Rule::Form`]) naming what is wrong.
    pub fn check_sealing(
        &self,
        seq: u64,
        statement: &Statement,
        sealing: Option<&Sealing>,
    ) -> Result<Option<FieldOpenings>, Violation> {
        let kind = statement.kind.as_str();
        let form = |detail: String| Violation::new(seq, Rule::Form, detail);
        let sealed = sealed::is_sealed_form(kind, &statement.body);
        // The ledger's format: the genesis names it (SPEC §10), before it the statement's own.
        let format = if seq == 0 { statement.v } else { self.format() };
        match sealing {
            None if sealed => Err(form(format!(
                "the {kind} body is in sealed form but no sealing was sent with it; a sealed \
                 statement is posted as {{\"envelope\":…,\"sealing\":…}} (SPEC §12.5)"
            ))),
            None => Ok(None),
            Some(_) if format < 2 => Err(form(format!(
                "a sealing was sent to a format-{format} ledger, whose bodies are plain; \
                 sealed fields are format 2's (SPEC §12)"
            ))),
            Some(_) if hisaab_log::seal::sealed_fields(kind).is_empty() => Err(form(format!(
                "a sealing was sent with a {kind} statement, a kind that seals no field \
                 (SPEC §12.1); post the envelope alone"
            ))),
            Some(_) if !sealed => Err(form(format!(
                "a sealing was sent with a {kind} body in the clear; the signer signs the \
                 sealed form of the body (SPEC §12.4, §12.5)"
            ))),
            Some(sealing) => {
                let checked = hisaab_log::seal::check_sealing(
                    kind,
                    hisaab_log::seal::sealed_fields(kind),
                    &statement.body,
                    sealing,
                )
                .map_err(|e| form(format!("the sealing does not open the body: {e}")))?;
                Ok(Some(checked.openings))
            }
        }
    }

    /// Folds an entry that was already accepted (by this code, earlier) into the state,
    /// checking only the chain and form. For replay from trusted storage.
    ///
    /// # Errors
    /// A [`Violation`] of the chain or of form.
    pub fn apply_trusted(&mut self, entry: &SealedEntry) -> Result<(), Violation> {
        self.apply_trusted_with(entry, None)
    }

    /// [`Ledger::apply_trusted`] with the entry's openings, as [`Ledger::apply_with`].
    ///
    /// # Errors
    /// A [`Violation`] of the chain or of form (an opening that does not match included).
    pub fn apply_trusted_with(
        &mut self,
        entry: &SealedEntry,
        openings: Option<&FieldOpenings>,
    ) -> Result<(), Violation> {
        let parsed = self.check_chain_and_form(entry, openings)?;
        self.commit(entry, parsed);
        Ok(())
    }

    /// [`Ledger::apply_trusted_with`] for the leaf bytes of an entry this ledger's store
    /// verified when it appended them, read in one pass ([`TrustedEntry`]): no check that the
    /// bytes are canonical, no decompression of the signer's key, the body deserialised once
    /// into its kind's type (a sealed body, or one given openings, through the same opening as
    /// [`Ledger::apply_trusted_with`]). The chain and every rule of form are checked as there.
    ///
    /// Returns `true` when the entry was applied, with the state
    /// [`Ledger::apply_trusted_with`] gives for the same entry. Returns `false`, the ledger
    /// unchanged, when the bytes do not read this way or a check fails: the caller then parses
    /// them with [`SealedEntry::try_from_leaf_bytes`] and applies them with
    /// [`Ledger::apply_trusted_with`], which says what is wrong.
    pub fn apply_trusted_leaf(&mut self, leaf: &[u8], openings: Option<&FieldOpenings>) -> bool {
        // The envelope is part of the leaf bytes: within the limit whenever they are.
        if leaf.len() > ENVELOPE_BYTES_MAX {
            return false;
        }
        let Some(entry) = TrustedEntry::parse(leaf) else {
            return false;
        };
        let head = Head {
            seq: entry.seq,
            prev: &entry.prev,
            recorded_at: &entry.recorded_at,
            v: entry.v,
            kind: entry.kind,
            has_ledger: entry.ledger.is_some(),
        };
        if self.check_chain(&head).is_err()
            || hisaab_log::statement::signing_context(entry.v).is_none()
            || entry.kind.is_empty()
        {
            return false;
        }
        let format = self.format_for(&head);
        let Some(parsed) =
            sealed::parse_trusted(format, entry.kind, entry.body, openings, self.size)
        else {
            return false;
        };
        if self.check_parsed(&head, format, &parsed).is_err() {
            return false;
        }
        self.commit_parts(
            entry.kind,
            entry.v,
            entry.event_hash,
            &entry.recorded_at,
            entry.signer,
            parsed,
        );
        true
    }

    /// The state's bytes, to resume from with [`Ledger::from_snapshot`] without replaying
    /// everything: the line `SNAPSHOT_FORMAT` ‖ `\n`, then the ledger in MessagePack (maps
    /// with their field names, except the records of which there is one per entry, which are
    /// arrays of their fields; hashes as their 32 bytes). Deterministic for a given state.
    pub fn to_snapshot(&self) -> Vec<u8> {
        let estimate = usize::try_from(self.size).map_or(0, |size| size.saturating_mul(64));
        let mut bytes = Vec::with_capacity(SNAPSHOT_FORMAT.len() + 1 + estimate);
        bytes.extend_from_slice(SNAPSHOT_FORMAT.as_bytes());
        bytes.push(b'\n');
        // Every type of the ledger serialises without error (no float, no map whose keys a
        // format cannot hold), so this cannot fail; an empty vector (refused by
        // `from_snapshot`) stands for the impossible error. The store's sealed restart test
        // resumes from snapshots of a ledger with every record kind.
        let mut serializer = rmp_serde::Serializer::new(&mut bytes).with_struct_map();
        if self.serialize(&mut serializer).is_err() {
            return Vec::new();
        }
        bytes
    }

    /// Resumes from [`Ledger::to_snapshot`]'s bytes.
    ///
    /// # Errors
    /// [`SnapshotError`] when the bytes are not a snapshot of this format version.
    pub fn from_snapshot(bytes: &[u8]) -> Result<Ledger, SnapshotError> {
        let (format, rest) = split_snapshot_format(bytes);
        if format != SNAPSHOT_FORMAT.as_bytes() {
            return Err(SnapshotError::Version {
                found: String::from_utf8_lossy(format).into_owned(),
            });
        }
        // The ledger must be the whole of the rest: one MessagePack value, nothing after it.
        if msgpack_value_len(rest) != Some(rest.len()) {
            return Err(SnapshotError::NotOneValue);
        }
        let mut deserializer = rmp_serde::Deserializer::from_read_ref(rest);
        Ledger::deserialize(&mut deserializer).map_err(SnapshotError::Decode)
    }

    // ----- checks -----

    fn check(
        &self,
        entry: &SealedEntry,
        openings: Option<&FieldOpenings>,
        history: &dyn History,
    ) -> Result<Parsed, Violation> {
        let parsed = self.check_chain_and_form(entry, openings)?;
        let body = &parsed.body;
        let e = entry.entry();
        let seq = e.seq;
        let statement = &e.statement;
        if let (Body::Genesis(genesis), 0) = (body, seq) {
            // The genesis signer is its own authority. A genesis anywhere else goes on to the
            // signer and permission checks, which refuse it.
            self.check_time(seq, statement, &e.recorded_at, &genesis.policy)?;
            return Ok(parsed);
        }
        let signer = self.check_signer_key(seq, &statement.signer, e.recorded_at.date())?;
        self.check_permission(seq, body, &signer)?;
        self.check_conflict_of_interest(seq, body, &signer)?;
        match history.statement_seq(&statement.id) {
            Ok(Some(used)) => {
                return Err(Violation::new(
                    seq,
                    Rule::DuplicateId,
                    format!(
                    "statement id {} was already used at seq {used}; a statement id is used once",
                    statement.id
                ),
                ))
            }
            Ok(None) => {}
            Err(error) => return Err(unavailable(seq, &error)),
        }
        if statement.ledger != self.ledger_id {
            let found = statement.ledger.map(|h| h.to_hex()).unwrap_or_default();
            let expected = self.ledger_id.map(|h| h.to_hex()).unwrap_or_default();
            return Err(Violation::new(
                seq,
                Rule::Identity,
                format!("the statement is for ledger {found}, but this ledger's id is {expected}"),
            ));
        }
        if let Some(genesis) = &self.genesis {
            self.check_time(seq, statement, &e.recorded_at, &genesis.policy)?;
        }
        self.check_references(seq, entry, body, &signer, history)?;
        Ok(parsed)
    }

    fn check_chain_and_form(
        &self,
        entry: &SealedEntry,
        openings: Option<&FieldOpenings>,
    ) -> Result<Parsed, Violation> {
        let e = entry.entry();
        let statement = &e.statement;
        let head = Head {
            seq: e.seq,
            prev: &e.prev,
            recorded_at: &e.recorded_at,
            v: statement.v,
            kind: &statement.kind,
            has_ledger: statement.ledger.is_some(),
        };
        self.check_chain(&head)?;
        // Violations name the position the entry was offered at, which is what a verifier
        // walking a bundle reports.
        let seq = self.size;
        let form = |detail: String| Violation::new(seq, Rule::Form, detail);
        statement
            .check_form()
            .map_err(|error| form(error.to_string()))?;
        // The canonical envelope is inside the entry's leaf bytes: its length is read off
        // them rather than canonicalising the statement again.
        let envelope_bytes = entry
            .envelope_canonical_len()
            .map_err(|error| form(error.to_string()))?;
        if envelope_bytes > ENVELOPE_BYTES_MAX {
            return Err(form(format!(
                "the envelope is {envelope_bytes} bytes of canonical JSON, over the limit of \
                 {ENVELOPE_BYTES_MAX}"
            )));
        }
        // The ledger's format is its genesis statement's `v`; every later statement carries
        // the same (SPEC §11). Entry 0 that is no genesis is reported below as a chain error.
        let format = self.format_for(&head);
        let parsed =
            sealed::parse(format, &statement.kind, &statement.body, openings, seq).map_err(form)?;
        self.check_parsed(&head, format, &parsed)?;
        Ok(parsed)
    }

    /// The ledger's format as entry `head` must carry it: its own `v` for entry 0 (the genesis
    /// names it, SPEC §10), the genesis statement's after.
    fn format_for(&self, head: &Head<'_>) -> u64 {
        if self.size == 0 {
            head.v
        } else {
            self.format
        }
    }

    /// The chain of SPEC §2: the entry stands at the ledger's size, names the last event hash
    /// and was not recorded before the last entry.
    fn check_chain(&self, head: &Head<'_>) -> Result<(), Violation> {
        let seq = self.size;
        if head.seq != seq {
            return Err(Violation::new(
                seq,
                Rule::Chain,
                format!(
                    "the entry says seq {}, but it stands at position {seq}",
                    head.seq
                ),
            ));
        }
        if *head.prev != self.last_event_hash {
            return Err(Violation::new(
                seq,
                Rule::Chain,
                format!(
                    "prev is {}, but the event hash of the entry before is {}",
                    head.prev, self.last_event_hash
                ),
            ));
        }
        if let Some(last) = &self.last_recorded_at {
            // Compare instants: `…:00.5Z` and `…:00.50Z` are the same moment.
            if head.recorded_at.unix_nanos() < last.unix_nanos() {
                return Err(Violation::new(
                    seq,
                    Rule::Chain,
                    format!(
                        "recorded_at {} is before the previous entry's {last} (seq {} or {seq}: \
                         one of the two was changed, the chain cannot tell which); recording \
                         time never goes back",
                        head.recorded_at,
                        seq.saturating_sub(1)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Rule 1 for a parsed body against the statement that carries it and the ledger's format.
    fn check_parsed(&self, head: &Head<'_>, format: u64, parsed: &Parsed) -> Result<(), Violation> {
        let seq = self.size;
        let form = |detail: String| Violation::new(seq, Rule::Form, detail);
        let body = &parsed.body;
        if head.v != format {
            return Err(form(format!(
                "the statement has v {}, but this ledger is of format {format}: every statement \
                 carries its ledger's format, the v of its genesis statement",
                head.v
            )));
        }
        let since = body.kind().since();
        if since > format {
            return Err(form(format!(
                "{} is a kind of format {since}; this ledger is of format {format} and keeps \
                 that format's kinds",
                body.kind()
            )));
        }
        body.check_format(format)
            .map_err(|reason| form(format!("the body of a {} statement: {reason}", body.kind())))?;
        let is_genesis = body.kind() == Kind::LedgerGenesis;
        match (is_genesis, head.has_ledger) {
            (true, true) => {
                return Err(form(
                    "the genesis statement has no `ledger` field: the ledger id is its own event \
                     hash"
                        .into(),
                ))
            }
            (false, false) => {
                return Err(form(
                    "the `ledger` field is missing; only the genesis statement omits it".into(),
                ))
            }
            _ => {}
        }
        if seq == 0 && !is_genesis {
            return Err(Violation::new(
                seq,
                Rule::Chain,
                format!(
                    "entry 0 must hold the ledger.genesis statement, found a {}",
                    head.kind
                ),
            ));
        }
        Ok(())
    }

    fn check_signer_key(
        &self,
        seq: u64,
        key: &PublicKey,
        date: Date,
    ) -> Result<Signer<'_>, Violation> {
        let denied = |detail: String| Violation::new(seq, Rule::Signer, detail);
        let Some(record) = self.keys.get(key) else {
            return Err(denied(format!(
                "the key {key} is not enrolled: it is no member's key"
            )));
        };
        let Some((id, member)) = self.members.get_key_value(&record.member) else {
            return Err(denied(format!("the key {key} belongs to no known member")));
        };
        if member.key != *key {
            let when = record
                .rotated_seq
                .map_or_else(String::new, |s| format!(" at seq {s}"));
            return Err(denied(format!(
                "the key was member `{id}`'s until it was rotated away{when}; it may no longer sign"
            )));
        }
        if let Some(revoked) = member.revoked_seq {
            return Err(denied(format!(
                "member `{id}` was revoked at seq {revoked}; their key may no longer sign"
            )));
        }
        if let Some(suspended) = self.cycle.suspended.get(id) {
            return Err(denied(format!(
                "member `{id}` was suspended at seq {suspended}; a suspended member signs \
                 nothing until reinstated"
            )));
        }
        if let Some((operator, (left, _))) = member
            .operator
            .as_ref()
            .and_then(|o| Some((o, self.cycle.left.get(o)?)))
        {
            return Err(denied(format!(
                "member `{id}` belongs to operator `{operator}`, which left the task force at \
                 seq {left}; its members sign nothing"
            )));
        }
        Ok(Signer {
            id,
            record: member,
            date,
        })
    }

    fn check_permission(
        &self,
        seq: u64,
        body: &Body,
        signer: &Signer<'_>,
    ) -> Result<(), Violation> {
        body.check_permission(self, seq, signer)
    }

    /// Rule 2 by role, for a kind whose [`Signers`] decide alone; `Ok` for the kinds whose
    /// signer the body decides (they check it themselves, in their [`crate::kind`] module).
    pub(crate) fn check_roles(
        &self,
        seq: u64,
        kind: Kind,
        signers: Signers,
        signer: &Signer<'_>,
    ) -> Result<(), Violation> {
        let roles = roles_text(&signer.record.roles);
        let denied = |detail: String| Err(Violation::new(seq, Rule::Permission, detail));
        match signers {
            Signers::Genesis => denied(format!(
                "a ledger has exactly one ledger.genesis, at seq 0; member `{}` may not sign \
                 another",
                signer.id
            )),
            Signers::Roles(allowed) => {
                if allowed.iter().any(|r| signer.record.roles.contains(r)) {
                    Ok(())
                } else {
                    denied(format!(
                        "member `{}` ({roles}) may not sign {kind}: only {} may",
                        signer.id,
                        allowed
                            .iter()
                            .map(|r| r.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }
            }
            Signers::SelfOrAuthority
            | Signers::OwnerOrChair
            | Signers::CisoOfOperator
            | Signers::AnyMember
            | Signers::Attendee => Ok(()),
        }
    }

    /// Rule 2 for [`Signers::CisoOfOperator`]: the signer is a ciso of `operator`. `None` (an
    /// unknown reference) passes here and is reported under rule 5.
    pub(crate) fn check_ciso_of(
        &self,
        seq: u64,
        kind: Kind,
        signer: &Signer<'_>,
        operator: Option<&Slug>,
    ) -> Result<(), Violation> {
        // An unknown evaluation is a reference error, reported under rule 5.
        let Some(operator) = operator else {
            return Ok(());
        };
        let is_ciso = signer.record.roles.contains(&Role::Ciso)
            && signer.record.operator.as_ref() == Some(operator);
        // Format 2: a deputy acts for the operator's ciso until the delegation expires.
        let is_deputy = self
            .cycle
            .delegations
            .get(signer.id)
            .is_some_and(|d| &d.operator == operator && signer.date <= d.expires);
        if is_ciso || is_deputy {
            Ok(())
        } else {
            Err(Violation::new(
                seq,
                Rule::Permission,
                format!(
                    "only a ciso of operator `{operator}` may sign {kind}; member `{}` is {}",
                    signer.id,
                    describe_member(signer.record)
                ),
            ))
        }
    }

    fn check_conflict_of_interest(
        &self,
        seq: u64,
        body: &Body,
        signer: &Signer<'_>,
    ) -> Result<(), Violation> {
        let Some(own) = &signer.record.operator else {
            return Ok(());
        };
        let (concerned, what) = body.concerns(self).unwrap_or((None, ""));
        match concerned {
            Some(operator) if operator == own => Err(Violation::new(
                seq,
                Rule::ConflictOfInterest,
                format!(
                    "member `{}` belongs to operator `{own}` and may not sign {what} concerning \
                     it: nobody judges their own operator",
                    signer.id
                ),
            )),
            _ => Ok(()),
        }
    }

    fn check_time(
        &self,
        seq: u64,
        statement: &Statement,
        recorded_at: &Timestamp,
        policy: &crate::body::Policy,
    ) -> Result<(), Violation> {
        const NANOS: i128 = 1_000_000_000;
        let issued = statement.issued_at.unix_nanos();
        let recorded = recorded_at.unix_nanos();
        let max_age = i128::from(policy.max_age_s) * NANOS;
        let max_skew = i128::from(policy.max_future_skew_s) * NANOS;
        if issued < recorded - max_age {
            return Err(Violation::new(
                seq,
                Rule::Time,
                format!(
                    "issued_at {} is more than max_age_s = {} seconds before recorded_at {}",
                    statement.issued_at, policy.max_age_s, recorded_at
                ),
            ));
        }
        if issued > recorded + max_skew {
            return Err(Violation::new(
                seq,
                Rule::Time,
                format!(
                    "issued_at {} is more than max_future_skew_s = {} seconds after recorded_at {}",
                    statement.issued_at, policy.max_future_skew_s, recorded_at
                ),
            ));
        }
        Ok(())
    }

    fn check_references(
        &self,
        seq: u64,
        entry: &SealedEntry,
        body: &Body,
        signer: &Signer<'_>,
        history: &dyn History,
    ) -> Result<(), Violation> {
        body.check_references(self, seq, entry, signer, history)
    }

    /// Rule 5: `operator` is registered.
    pub(crate) fn check_operator(&self, seq: u64, operator: &Slug) -> Result<(), Violation> {
        if self.operators.contains_key(operator) {
            Ok(())
        } else {
            Err(Violation::new(
                seq,
                Rule::Reference,
                format!("operator `{operator}` is not registered"),
            ))
        }
    }

    /// Rule 5 for new work naming `operator` (format 2, SPEC §11.12): it is registered and has
    /// not left the task force.
    pub(crate) fn check_operator_present(
        &self,
        seq: u64,
        operator: &Slug,
    ) -> Result<(), Violation> {
        self.check_operator(seq, operator)?;
        match self.cycle.left.get(operator) {
            Some((left, _)) => Err(Violation::new(
                seq,
                Rule::Reference,
                format!("operator `{operator}` left the task force at seq {left}"),
            )),
            None => Ok(()),
        }
    }

    /// Rule 5: `owner` (of an action or a challenge, or who took a measure) is an active
    /// member or an operator registered and present.
    pub(crate) fn check_owner(
        &self,
        seq: u64,
        owner: &crate::record::ActionOwner,
        verb: &str,
    ) -> Result<(), Violation> {
        match owner {
            crate::record::ActionOwner::Member(member) => {
                self.check_active_member(seq, member, verb).map(|_| ())
            }
            crate::record::ActionOwner::Operator(operator) => {
                self.check_operator_present(seq, operator)
            }
        }
    }

    /// Rule 5: each of `stakeholders` is registered (SPEC §11.12).
    pub(crate) fn check_stakeholders<'a>(
        &self,
        seq: u64,
        stakeholders: impl IntoIterator<Item = &'a Slug>,
    ) -> Result<(), Violation> {
        match stakeholders
            .into_iter()
            .find(|s| !self.cycle.stakeholders.contains_key(*s))
        {
            Some(unknown) => Err(Violation::new(
                seq,
                Rule::Reference,
                format!("stakeholder `{unknown}` is not registered"),
            )),
            None => Ok(()),
        }
    }

    /// Rule 5: `member` exists and is not revoked (`verb` says for what).
    pub(crate) fn check_active_member(
        &self,
        seq: u64,
        member: &Slug,
        verb: &str,
    ) -> Result<&MemberRecord, Violation> {
        let fail = |detail: String| Violation::new(seq, Rule::Reference, detail);
        let record = self
            .members
            .get(member)
            .ok_or_else(|| fail(format!("there is no member `{member}`")))?;
        if let Some(revoked) = record.revoked_seq {
            return Err(fail(format!(
                "member `{member}` was revoked at seq {revoked}; only active members are {verb}"
            )));
        }
        Ok(record)
    }

    /// Rule 5: `key` was never any member's.
    pub(crate) fn check_fresh_key(&self, seq: u64, key: &PublicKey) -> Result<(), Violation> {
        match self.keys.get(key) {
            Some(used) => Err(Violation::new(
                seq,
                Rule::Reference,
                format!(
                    "the key {key} was already member `{}`'s (from seq {}); a key once used is \
                     never enrolled or rotated in again",
                    used.member, used.seq
                ),
            )),
            None => Ok(()),
        }
    }

    // ----- commit -----

    /// Folds a checked entry into the state. Lookups that the checks guarantee are written
    /// as `if let`, so a broken invariant loses an update rather than panicking.
    fn commit(&mut self, entry: &SealedEntry, parsed: Parsed) {
        let e = entry.entry();
        self.commit_parts(
            &e.statement.kind,
            e.statement.v,
            entry.event_hash(),
            &e.recorded_at,
            e.statement.signer,
            parsed,
        );
    }

    /// Folds the entry at [`Ledger::size`] into the state: of kind `kind` and format `v`,
    /// with event hash `event_hash`, recorded at `recorded_at` and signed by `signer`.
    fn commit_parts(
        &mut self,
        kind: &str,
        v: u64,
        event_hash: Hash,
        recorded_at: &Timestamp,
        signer: PublicKey,
        parsed: Parsed,
    ) {
        let Parsed { body, unopened } = parsed;
        let seq = self.size;
        // Only a sealed field the state is computed from leaves the state unknown; the words
        // (notes, rationales, texts, `ext`), withheld or erased, do not (SPEC §12.8, §12.9).
        if unopened
            .iter()
            .any(|field| hisaab_log::seal::is_state_field(field))
        {
            match place::concerned_operator(&body, self) {
                Concern::Operator(operator) => {
                    self.unopened.insert(operator);
                }
                Concern::Nothing => {}
                Concern::Unknown => self.unopened_unplaced = true,
            }
        }
        if seq == 0 {
            self.format = v;
        }
        let has_erasable = hisaab_log::seal::sealed_fields(kind)
            .iter()
            .any(|f| hisaab_log::seal::is_erasable(kind, f.name));
        if has_erasable && self.is_v2() {
            self.erasable.insert(
                event_hash,
                ErasableRecord {
                    seq,
                    kind: kind.to_owned(),
                },
            );
        }
        // The entry's own time is the ledger's last while its kind commits (`today`).
        self.last_recorded_at = Some(recorded_at.clone());
        body.commit(self, seq, event_hash, signer);
        self.size = self.size.saturating_add(1);
        self.last_event_hash = event_hash;
        self.last_recorded_at = Some(recorded_at.clone());
    }
}

/// What the chain and the rules of form read of an entry besides its body.
struct Head<'a> {
    seq: u64,
    prev: &'a Hash,
    recorded_at: &'a Timestamp,
    v: u64,
    kind: &'a str,
    has_ledger: bool,
}

impl Places for Ledger {
    fn of_event(&self, hash: &Hash) -> Option<Scope> {
        let submission = match self.evaluations.get(hash) {
            Some(evaluation) => &evaluation.submission,
            None => hash,
        };
        let operator = &self.submissions.get(submission)?.operator;
        Some(Scope::Operator(operator.clone()))
    }
    fn of_commitment(&self, id: &Slug) -> Option<Scope> {
        let operator = &self.commitments.get(id)?.operator;
        Some(Scope::Operator(operator.clone()))
    }
    fn of_dispute(&self, id: &Slug) -> Option<Scope> {
        let operator = &self.disputes.get(id)?.operator;
        Some(Scope::Operator(operator.clone()))
    }
    fn of_challenge(&self, id: &Slug) -> Option<Scope> {
        let challenge = self.challenges.get(id)?;
        Some(
            challenge
                .operator
                .as_ref()
                .map_or(Scope::Sector, |operator| Scope::Operator(operator.clone())),
        )
    }
    fn of_action(&self, id: &Slug) -> Option<Scope> {
        Some(place::owner_scope(&self.cycle.actions.get(id)?.owner))
    }
    fn of_directive(&self, id: &Slug) -> Option<Scope> {
        let operator = &self.cycle.directives.get(id)?.operator;
        Some(Scope::Operator(operator.clone()))
    }
}

impl Ledger {
    /// The scope (SPEC §13.4) of an accepted statement, what it names looked up in this
    /// ledger's records: call it on the ledger that has applied `statement`. The same rule as
    /// [`crate::view::Scopes`], so that a store can keep each entry's scope as it appends instead of folding
    /// the log again after every restart.
    pub fn scope_of(&self, statement: &Statement) -> Scope {
        match Body::try_parse(&statement.kind, &statement.body) {
            Ok(body) => place::scope_of_body(&body, self),
            Err(_) => Scope::Sector,
        }
    }

    /// Whose state an entry with this body concerns (SPEC §12.8), as the ledger applies it
    /// with a sealed field unopened: by the one rule of [`place`], what the body names looked
    /// up in this ledger's records. Call it on the ledger about to apply the entry.
    pub fn concern_of(&self, body: &Body) -> Concern {
        place::concerned_operator(body, self)
    }
}

impl Ledger {
    /// The commitment `id`, for a statement that acts on an open one (its closing, an
    /// extension): rule 5 refuses one that does not exist, or, in the words `closed` gives
    /// (from the closing's seq and outcome), one already closed.
    pub(crate) fn open_commitment(
        &self,
        seq: u64,
        id: &Slug,
        closed: impl FnOnce(u64, Option<CommitmentOutcome>) -> String,
    ) -> Result<&CommitmentRecord, Violation> {
        match self.commitments.get(id) {
            None => Err(Violation::new(
                seq,
                Rule::Reference,
                format!("there is no commitment `{id}`"),
            )),
            Some(CommitmentRecord {
                closed: Some((at, outcome)),
                ..
            }) => Err(Violation::new(seq, Rule::Reference, closed(*at, *outcome))),
            Some(commitment) => Ok(commitment),
        }
    }
}

/// A [`Rule::HistoryUnavailable`] violation at `seq`.
pub(crate) fn unavailable(seq: u64, error: &HistoryError) -> Violation {
    Violation::new(seq, Rule::HistoryUnavailable, error.to_string())
}

/// `roles: a, b`, for messages.
pub(crate) fn roles_text(roles: &BTreeSet<Role>) -> String {
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    format!("roles: {}", names.join(", "))
}

/// A member's roles and operator, for messages.
pub(crate) fn describe_member(member: &MemberRecord) -> String {
    match &member.operator {
        Some(operator) => format!("{} of operator `{operator}`", roles_text(&member.roles)),
        None => format!("{}, of no operator", roles_text(&member.roles)),
    }
}

#[cfg(test)]
mod tests {
    use hisaab_testkit::{seed, Builder};
    use serde_json::json;

    use super::*;

    /// The walk of MessagePack values measures each encoding MessagePack has (the lengths of
    /// every width, maps, arrays, binaries, extensions), refuses every cut, and stops at the
    /// end of the value whatever follows.
    #[test]
    fn msgpack_value_len_measures_one_value() {
        #[derive(Serialize)]
        struct Bytes<'a>(#[serde(with = "serde_bytes_like")] &'a [u8]);
        mod serde_bytes_like {
            pub(super) fn serialize<S: serde::Serializer>(
                bytes: &&[u8],
                serializer: S,
            ) -> Result<S::Ok, S::Error> {
                serializer.serialize_bytes(bytes)
            }
        }
        let long = "x".repeat(70_000);
        let blob = vec![7u8; 300];
        let big_blob = vec![9u8; 70_000];
        let values: Vec<Vec<u8>> = vec![
            rmp_serde::to_vec(&json!(null)).unwrap(),
            rmp_serde::to_vec(&json!([true, false, 1, -1, -100, 200, 70_000, -70_000])).unwrap(),
            rmp_serde::to_vec(&json!([u64::MAX, i64::MIN, 4_294_967_296u64])).unwrap(),
            rmp_serde::to_vec(&json!(["", "a", "x".repeat(40), "y".repeat(300), long])).unwrap(),
            rmp_serde::to_vec_named(&json!({"a": {"b": [1, {"c": []}]}, "d": {}})).unwrap(),
            rmp_serde::to_vec(&(0..20).collect::<Vec<u32>>()).unwrap(),
            rmp_serde::to_vec(&(0..70_000).collect::<Vec<u32>>()).unwrap(),
            rmp_serde::to_vec(&(0..20).map(|n| (n, n)).collect::<BTreeMap<u32, u32>>()).unwrap(),
            rmp_serde::to_vec(&Bytes(&blob)).unwrap(),
            rmp_serde::to_vec(&Bytes(&big_blob)).unwrap(),
            rmp_serde::to_vec(&Bytes(&[])).unwrap(),
            vec![0xd4, 1, 2],
            vec![0xd8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            vec![0xc7, 2, 5, 0xaa, 0xbb],
            vec![0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0],
        ];
        for value in &values {
            assert_eq!(msgpack_value_len(value), Some(value.len()), "{value:02x?}");
            let step = (value.len() / 500).max(1);
            for cut in (0..value.len()).step_by(step) {
                assert_eq!(msgpack_value_len(&value[..cut]), None, "cut at {cut}");
            }
            let mut followed = value.clone();
            followed.extend_from_slice(&[0xc0, 0x01]);
            assert_eq!(msgpack_value_len(&followed), Some(value.len()));
        }
        // The one marker MessagePack never uses, and a count larger than the bytes left.
        assert_eq!(msgpack_value_len(&[0xc1]), None);
        assert_eq!(
            msgpack_value_len(&[0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]),
            None
        );
        assert_eq!(msgpack_value_len(&[0xdf, 0xff, 0xff, 0xff, 0xff]), None);
    }

    proptest::proptest! {
        /// On any bytes, the walk measures what a MessagePack decoder reads as one value, and
        /// refuses what it cannot read. (The never-used marker 0xc1, which this decoder reads
        /// as nil and the walk refuses, is left out.)
        #[test]
        fn msgpack_value_len_agrees_with_a_decoder(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)
        ) {
            let bytes: Vec<u8> = bytes.into_iter().map(|b| if b == 0xc1 { 0xc0 } else { b }).collect();
            let mut rest = bytes.as_slice();
            let read = rmpv::decode::read_value(&mut rest).ok().map(|_| bytes.len() - rest.len());
            proptest::prop_assert_eq!(msgpack_value_len(&bytes), read);
        }
    }

    /// This crate's own [`Ledger`] over the entries of a testkit builder (whose ledger is of
    /// the testkit's copy of this crate).
    fn own(b: &Builder) -> Ledger {
        let mut ledger = Ledger::new();
        for entry in b.ledger.entries() {
            ledger.apply_trusted(entry).unwrap();
        }
        ledger
    }

    #[test]
    fn a_later_snapshot_of_resubmissions_changes_at_its_end_and_reads_back() {
        // Submissions are kept by event hash; serialised in seq order, the records of 64 more
        // resubmissions (each superseding the last) land after those already there.
        let mut b = Builder::standard();
        let mut latest = None;
        let mut snapshots = Vec::new();
        for i in 0..320 {
            let mut body =
                hisaab_testkit::submission("indus", "CR-01", "2026-10", &format!("{i}.5"));
            if let Some(previous) = latest {
                body["supersedes"] = serde_json::json!(previous);
            }
            latest = Some(b.append(seed::CISO_INDUS, "submission.filed", body));
            if i == 255 || i == 319 {
                snapshots.push(own(&b).to_snapshot());
            }
        }
        let (before, after) = (&snapshots[0], &snapshots[1]);
        let shared = before.iter().zip(after).take_while(|(x, y)| x == y).count();
        // What differs before the submissions' records: the size, the last hash and time.
        let last = own(&b);
        assert_eq!(Ledger::from_snapshot(after).unwrap(), last);
        let submissions = after.windows(11).position(|w| w == b"submissions").unwrap();
        assert!(shared < submissions, "the header changes");
        // After the key, the array of one segment (0x91), the segment's `bin` length (0xc5
        // and two bytes, which grow) and its array's length (0xdc and two bytes), the records
        // of the first 256 submissions (all but the last of them, which the next one
        // superseded) are the same bytes.
        let at = submissions + 11;
        for snapshot in [before, after] {
            assert_eq!(
                [snapshot[at], snapshot[at + 1], snapshot[at + 4]],
                [0x91, 0xc5, 0xdc]
            );
        }
        let records = at + 7..before.len() - before.len() / 4;
        let differing = records
            .clone()
            .filter(|&at| before[at] != after[at])
            .count();
        assert_eq!(
            differing,
            0,
            "{differing} of {} bytes differ",
            records.len()
        );
    }

    /// A record of the map by event hash that a test makes up: the entry at `seq`.
    fn made_up(seq: u64) -> (Hash, ErasableRecord) {
        let record = ErasableRecord {
            seq,
            kind: "action.opened".to_string(),
        };
        (Hash::sha256(&seq.to_be_bytes()), record)
    }

    #[test]
    fn a_map_of_many_segments_reads_back_on_every_core() {
        // Two full segments and a short one, decoded on threads of their own: the same map,
        // and the same bytes when written again.
        let mut ledger = Ledger::new();
        let count = 2 * in_seq_order::SEGMENT_RECORDS + 5;
        ledger.erasable = (0..count as u64).map(made_up).collect();
        let bytes = ledger.to_snapshot();
        let back = Ledger::from_snapshot(&bytes).unwrap();
        assert_eq!(back.erasable.len(), count);
        assert_eq!(back, ledger);
        assert_eq!(back.to_snapshot(), bytes);
        // The log grows by one: the full segments are the same bytes, only the last changes.
        let mut longer = ledger.clone();
        longer.erasable.extend([made_up(count as u64)]);
        let grown = longer.to_snapshot();
        let shared = bytes.iter().zip(&grown).take_while(|(x, y)| x == y).count();
        assert!(
            shared > bytes.len() - bytes.len() / 3,
            "{shared} of {}",
            bytes.len()
        );
    }

    #[test]
    fn segments_cut_otherwise_than_written_are_refused() {
        #[derive(Debug, Serialize, Deserialize)]
        struct Map {
            #[serde(with = "in_seq_order")]
            map: BTreeMap<Hash, ErasableRecord>,
        }
        let full = in_seq_order::SEGMENT_RECORDS as u64;
        let of_pairs = |pairs: Vec<(Hash, ErasableRecord)>| {
            in_seq_order::Segment(std::borrow::Cow::Owned(rmp_serde::to_vec(&pairs).unwrap()))
        };
        let segment = |seqs: std::ops::Range<u64>| of_pairs(seqs.map(made_up).collect());
        let read = |segments: Vec<in_seq_order::Segment<'static>>| {
            let bytes = rmp_serde::to_vec(&(segments,)).unwrap();
            rmp_serde::from_slice::<Map>(&bytes).map(|m| m.map.len())
        };
        // As written: full segments, then a shorter one.
        assert_eq!(
            read(vec![segment(0..full), segment(full..full + 3)]).unwrap(),
            in_seq_order::SEGMENT_RECORDS + 3
        );
        // The hash of seq 0 again, on a later seq.
        let again = |seq: u64| (made_up(0).0, made_up(seq).1);
        let refused = [
            // A short segment before the last, an empty last one, one that is not one value.
            (
                vec![segment(0..3), segment(3..5)],
                "segment 0 does not hold",
            ),
            (
                vec![segment(0..full), segment(full..full)],
                "segment 1 does not hold",
            ),
            (
                vec![in_seq_order::Segment(std::borrow::Cow::Owned(vec![0x91]))],
                "segment 0 is not one MessagePack value",
            ),
            // Records out of seq order, in a segment and from one segment to the next (on
            // threads of their own where there are two cores).
            (
                vec![of_pairs(vec![made_up(1), made_up(0)])],
                "not in seq order",
            ),
            (
                vec![segment(full..2 * full), segment(0..1)],
                "not in seq order",
            ),
            // An event hash twice, in a segment and in two.
            (
                vec![of_pairs(vec![made_up(0), again(1)])],
                "an event hash twice",
            ),
            (
                vec![segment(0..full), of_pairs(vec![again(full)])],
                "an event hash twice",
            ),
        ];
        for (segments, why) in refused {
            let error = read(segments).unwrap_err().to_string();
            assert!(error.contains(why), "{why}: {error}");
        }
    }

    #[test]
    fn an_empty_ledger_has_no_id_and_a_zero_last_hash() {
        let ledger = Ledger::new();
        assert_eq!(ledger.size(), 0);
        assert_eq!(ledger.ledger_id(), None);
        assert_eq!(ledger.last_event_hash(), Hash::ZERO);
        assert!(ledger.genesis().is_none());
        assert!(ledger.last_recorded_at().is_none());
    }

    #[test]
    fn genesis_makes_its_signer_the_first_authority() {
        let b = Builder::with_genesis();
        let ledger = own(&b);
        assert_eq!(ledger.size(), 1);
        assert_eq!(ledger.ledger_id(), Some(b.ledger.entries()[0].event_hash()));
        let authority = hisaab_testkit::public(seed::AUTHORITY);
        assert_eq!(ledger.active_member_for_key(&authority), Some("pta"));
        assert_eq!(
            ledger.active_keys_with_role(Role::Authority),
            vec![("pta", authority)]
        );
        assert_eq!(ledger.genesis().map(|g| g.policy.max_age_s), Some(86_400));
    }

    #[test]
    fn apply_trusted_folds_without_asking_history() {
        let mut b = Builder::standard();
        b.append(
            seed::CHAIR,
            "challenge.raised",
            json!({"challenge": "c", "pillar": "legal",
            "description": "d"}),
        );
        // Folded with the full rules by the builder, then without history here: the same
        // bytes of snapshot (the two ledgers are of two copies of this crate).
        let replayed = own(&b);
        assert_eq!(replayed.to_snapshot(), b.ledger.ledger().to_snapshot());
    }
}
