//! Reports for people over the replay state: the registers behind the projection's counts
//! (KPI definitions, commitments, disputes, challenges, meetings, each with the seq of the
//! entry that opened it and of the one that closed it), a KPI's trend over its periods, and
//! the sector's pillar scores at each month's end.
//!
//! Everything here is read off the [`Ledger`] by the same rules as the projection of SPEC §5
//! (a commitment is overdue when it is not closed and the date is after its due date; a
//! dispute is open until resolved; an evaluation counts while it is effective), so a page
//! that shows these registers computes nothing of its own. None of it is part of the state
//! digest.

use std::cmp::Ordering;

use hisaab_log::seal::FieldOpenings;
use hisaab_log::{Date, Hash, Period, SealedEntry};

use crate::ledger::Ledger;
use crate::rule::Violation;
use crate::state::{KpiStatus, PillarScores};
use crate::value::{
    epoch, CommitmentOutcome, Decimal, DisputeOutcome, KpiId, Pillar, Role, Score, Slug, Text,
    Verdict,
};

impl KpiStatus {
    /// Whether the task force should look at this KPI: every status but `met`.
    pub fn needs_attention(self) -> bool {
        self != KpiStatus::Met
    }
}

impl Pillar {
    /// The pillar's title in the Cyber Security Strategy for the Telecom Sector.
    pub fn title(self) -> &'static str {
        match self {
            Pillar::Legal => "Legal Framework",
            Pillar::Resilience => "Cyber Resilience",
            Pillar::Monitoring => "Proactive Monitoring and Incident Response",
            Pillar::Capacity => "Capacity Building",
            Pillar::Cooperation => "Cooperation and Collaboration",
            Pillar::Awareness => "Public Awareness",
        }
    }
}

/// The registers of a ledger at a date: what the projection counts, item by item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Register {
    /// The date that decides what is overdue.
    pub at: Date,
    /// Every operator with its name, by id.
    pub operators: Vec<(Slug, Text)>,
    /// Every member, the genesis authority included, by id.
    pub members: Vec<MemberItem>,
    /// Every KPI defined, by id.
    pub kpis: Vec<KpiDefinition>,
    /// Every commitment: overdue first (most overdue first), then open by due date, then
    /// closed ones, most recently closed first.
    pub commitments: Vec<CommitmentItem>,
    /// Every dispute: open first, then resolved, each in log order.
    pub disputes: Vec<DisputeItem>,
    /// Every challenge: open first, then resolved, each in log order.
    pub challenges: Vec<ChallengeItem>,
    /// Every meeting, in log order.
    pub meetings: Vec<MeetingItem>,
}

/// A member in the register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberItem {
    /// The member's id.
    pub member: Slug,
    /// Their name.
    pub name: Text,
    /// Their roles, sorted.
    pub roles: Vec<Role>,
    /// Their operator.
    pub operator: Option<Slug>,
    /// Whether they may still sign.
    pub active: bool,
}

/// A red-amber-green band of a score 0–100, for dashboards: green from 80, amber from 50,
/// red below, and none without a score. Shown with the number and the band's word, never by
/// colour alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Band {
    /// 80–100.
    Green,
    /// 50–79.
    Amber,
    /// 0–49.
    Red,
    /// No score yet.
    None,
}

impl Band {
    /// The lowest score in the green band.
    pub const GREEN_FROM: u8 = 80;
    /// The lowest score in the amber band.
    pub const AMBER_FROM: u8 = 50;

    /// The band of `score`.
    pub fn of(score: Option<u8>) -> Band {
        match score {
            Some(s) if s >= Band::GREEN_FROM => Band::Green,
            Some(s) if s >= Band::AMBER_FROM => Band::Amber,
            Some(_) => Band::Red,
            None => Band::None,
        }
    }

    /// The band's name, as a CSS class and a word.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Green => "green",
            Band::Amber => "amber",
            Band::Red => "red",
            Band::None => "none",
        }
    }

    /// What the band means, in words.
    pub fn meaning(self) -> &'static str {
        match self {
            Band::Green => "on track",
            Band::Amber => "needs attention",
            Band::Red => "off track",
            Band::None => "no score",
        }
    }
}

/// A KPI's definition: its pillar and the entry that defined it (whose body has the title,
/// unit and direction).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KpiDefinition {
    /// The KPI.
    pub kpi: KpiId,
    /// Its pillar.
    pub pillar: Pillar,
    /// The seq of its `kpi.defined` entry.
    pub seq: u64,
}

/// Where a commitment stands at the register's date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CommitmentStatus {
    /// Not closed, the date is after its due date.
    Overdue,
    /// Not closed, not yet due.
    Open,
    /// Closed as fulfilled.
    Fulfilled,
    /// Closed as missed.
    Missed,
    /// Closed as withdrawn.
    Withdrawn,
    /// Closed, with an outcome sealed from this replay (format 2, SPEC §12).
    Sealed,
}

impl CommitmentStatus {
    /// The status as a word.
    pub fn as_str(self) -> &'static str {
        match self {
            CommitmentStatus::Overdue => "overdue",
            CommitmentStatus::Open => "open",
            CommitmentStatus::Fulfilled => "fulfilled",
            CommitmentStatus::Missed => "missed",
            CommitmentStatus::Withdrawn => "withdrawn",
            CommitmentStatus::Sealed => "closed",
        }
    }

    /// Whether the commitment is still to be met (open or overdue).
    pub fn is_pending(self) -> bool {
        matches!(self, CommitmentStatus::Overdue | CommitmentStatus::Open)
    }
}

/// A commitment in the register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitmentItem {
    /// Its id.
    pub commitment: Slug,
    /// The operator committed.
    pub operator: Slug,
    /// The KPI it names, if any.
    pub kpi: Option<KpiId>,
    /// When it is due.
    pub due: Date,
    /// Where it stands.
    pub status: CommitmentStatus,
    /// Days past the due date, for an overdue commitment.
    pub days_overdue: Option<i64>,
    /// The seq of its `commitment.made` entry (the body has the action).
    pub seq: u64,
    /// The seq of its `commitment.closed` entry.
    pub closed_seq: Option<u64>,
}

/// Where a dispute stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisputeStatus {
    /// Not yet resolved.
    Open,
    /// Resolved: the evaluation stands.
    Upheld,
    /// Resolved: the evaluation is void.
    Overturned,
    /// Resolved, with an outcome sealed from this replay (format 2, SPEC §12).
    Sealed,
}

impl DisputeStatus {
    /// The status as a word.
    pub fn as_str(self) -> &'static str {
        match self {
            DisputeStatus::Open => "open",
            DisputeStatus::Upheld => "upheld",
            DisputeStatus::Overturned => "overturned",
            DisputeStatus::Sealed => "resolved",
        }
    }
}

/// A dispute in the register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisputeItem {
    /// Its id.
    pub dispute: Slug,
    /// The operator whose evaluation is disputed.
    pub operator: Slug,
    /// The KPI evaluated.
    pub kpi: KpiId,
    /// The evaluation disputed.
    pub evaluation: Hash,
    /// Where it stands.
    pub status: DisputeStatus,
    /// The seq of its `dispute.opened` entry.
    pub seq: u64,
    /// The seq of its `dispute.resolved` entry.
    pub resolved_seq: Option<u64>,
}

/// A challenge in the register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChallengeItem {
    /// Its id.
    pub challenge: Slug,
    /// The operator it names, if any.
    pub operator: Option<Slug>,
    /// The KPI it names, if any.
    pub kpi: Option<KpiId>,
    /// The seq of its `challenge.raised` entry (the body has the description).
    pub seq: u64,
    /// The seq of its `challenge.resolved` entry.
    pub resolved_seq: Option<u64>,
}

impl ChallengeItem {
    /// Whether it is still open.
    pub fn is_open(&self) -> bool {
        self.resolved_seq.is_none()
    }
}

/// A meeting in the register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeetingItem {
    /// Its id.
    pub meeting: Slug,
    /// The seq of its `meeting.recorded` entry (the body has the date, minutes and decisions).
    pub seq: u64,
    /// The members recorded as attending, sorted.
    pub attendees: Vec<Slug>,
    /// The attendees who attested the record, sorted.
    pub attested: Vec<Slug>,
}

/// One period of a KPI's trend: the non-superseded submission of that period and its
/// effective evaluation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrendPoint {
    /// The period reported.
    pub period: Period,
    /// The value reported.
    pub value: Decimal,
    /// The submission's event hash.
    pub submission: Hash,
    /// The submission's seq.
    pub seq: u64,
    /// The effective evaluation's verdict and score, if it has one.
    pub evaluation: Option<(Verdict, u8)>,
}

/// The sector's pillar scores once a month's entries are all in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthPoint {
    /// The month (of the entries' `recorded_at`).
    pub month: Period,
    /// The tree size at the end of the month.
    pub size: u64,
    /// The sector's pillar scores at that size.
    pub sector: PillarScores,
}

impl Ledger {
    /// The registers at date `at` (default, as for [`Ledger::state`]: the date of the last
    /// entry's `recorded_at`).
    pub fn register(&self, at: Option<Date>) -> Register {
        let at = at
            .or_else(|| self.last_recorded_at.as_ref().map(|t| t.date()))
            .unwrap_or_else(epoch);
        let operators = self
            .operators
            .iter()
            .map(|(id, record)| (id.clone(), record.name.clone()))
            .collect();
        let members = self
            .members
            .iter()
            .map(|(id, record)| MemberItem {
                member: id.clone(),
                name: record.name.clone(),
                roles: record.roles.iter().copied().collect(),
                operator: record.operator.clone(),
                active: record.is_active(),
            })
            .collect();
        let kpis = self
            .kpis
            .iter()
            .map(|(kpi, record)| KpiDefinition {
                kpi: kpi.clone(),
                pillar: record.pillar,
                seq: record.seq,
            })
            .collect();
        let mut commitments: Vec<CommitmentItem> = self
            .commitments
            .iter()
            .map(|(id, record)| {
                let status = match record.closed {
                    Some((_, Some(CommitmentOutcome::Fulfilled))) => CommitmentStatus::Fulfilled,
                    Some((_, Some(CommitmentOutcome::Missed))) => CommitmentStatus::Missed,
                    Some((_, Some(CommitmentOutcome::Withdrawn))) => CommitmentStatus::Withdrawn,
                    Some((_, None)) => CommitmentStatus::Sealed,
                    None if at > record.due => CommitmentStatus::Overdue,
                    None => CommitmentStatus::Open,
                };
                CommitmentItem {
                    commitment: id.clone(),
                    operator: record.operator.clone(),
                    kpi: record.kpi.clone(),
                    due: record.due,
                    status,
                    days_overdue: (status == CommitmentStatus::Overdue)
                        .then(|| at.days_since_epoch() - record.due.days_since_epoch()),
                    seq: record.seq,
                    closed_seq: record.closed.map(|(seq, _)| seq),
                }
            })
            .collect();
        commitments.sort_by(commitment_order);
        let mut disputes: Vec<DisputeItem> = self
            .disputes
            .iter()
            .map(|(id, record)| DisputeItem {
                dispute: id.clone(),
                operator: record.operator.clone(),
                kpi: record.kpi.clone(),
                evaluation: record.evaluation,
                status: match record.resolved {
                    None => DisputeStatus::Open,
                    Some((_, Some(DisputeOutcome::Upheld))) => DisputeStatus::Upheld,
                    Some((_, Some(DisputeOutcome::Overturned))) => DisputeStatus::Overturned,
                    Some((_, None)) => DisputeStatus::Sealed,
                },
                seq: record.seq,
                resolved_seq: record.resolved.map(|(seq, _)| seq),
            })
            .collect();
        disputes.sort_by_key(|d| (d.status != DisputeStatus::Open, d.seq));
        let mut challenges: Vec<ChallengeItem> = self
            .challenges
            .iter()
            .map(|(id, record)| ChallengeItem {
                challenge: id.clone(),
                operator: record.operator.clone(),
                kpi: record.kpi.clone(),
                seq: record.seq,
                resolved_seq: record.resolved_seq,
            })
            .collect();
        challenges.sort_by_key(|c| (!c.is_open(), c.seq));
        let mut meetings: Vec<MeetingItem> = self
            .meetings
            .iter()
            .map(|(id, record)| MeetingItem {
                meeting: id.clone(),
                seq: record.seq,
                attendees: record.attendees.iter().cloned().collect(),
                attested: record.attested.iter().cloned().collect(),
            })
            .collect();
        meetings.sort_by_key(|m| m.seq);
        Register {
            at,
            operators,
            members,
            kpis,
            commitments,
            disputes,
            challenges,
            meetings,
        }
    }

    /// The trend of `operator`'s `kpi`: the non-superseded submission of each period, oldest
    /// first, with its effective evaluation. Empty for an unknown pair.
    pub fn kpi_trend(&self, operator: &str, kpi: &str) -> Vec<TrendPoint> {
        let (Ok(operator), Ok(kpi)) = (Slug::try_new(operator), KpiId::try_new(kpi)) else {
            return Vec::new();
        };
        let Some(track) = self.tracks.get(&operator).and_then(|t| t.get(&kpi)) else {
            return Vec::new();
        };
        track
            .periods
            .iter()
            .filter_map(|(period, hash)| {
                let submission = self.submissions.get(hash)?;
                let evaluation = submission
                    .effective_evaluation
                    .and_then(|e| self.evaluations.get(&e))
                    .and_then(|e| e.verdict.zip(e.score.map(Score::get)));
                // A point whose value is sealed from this replay is left out (SPEC §12).
                Some(TrendPoint {
                    period: *period,
                    value: submission.value.clone()?,
                    submission: *hash,
                    seq: submission.seq,
                    evaluation,
                })
            })
            .collect()
    }
}

/// Overdue first (most days overdue first), then open by due date, then closed, most recently
/// closed first; ties by id.
fn commitment_order(a: &CommitmentItem, b: &CommitmentItem) -> Ordering {
    a.status
        .is_pending()
        .cmp(&b.status.is_pending())
        .reverse()
        .then_with(|| match (a.status, b.status) {
            (CommitmentStatus::Overdue, CommitmentStatus::Overdue) => {
                b.days_overdue.cmp(&a.days_overdue)
            }
            (CommitmentStatus::Overdue, _) if b.status.is_pending() => Ordering::Less,
            (_, CommitmentStatus::Overdue) if a.status.is_pending() => Ordering::Greater,
            (x, y) if x.is_pending() && y.is_pending() => a.due.cmp(&b.due),
            _ => b.closed_seq.cmp(&a.closed_seq),
        })
        .then_with(|| a.commitment.cmp(&b.commitment))
}

/// The sector's pillar scores at each month's end, built by feeding the log's entries in
/// order, once: each entry costs one trusted apply, and each month boundary one projection
/// (O(operators × KPIs)). Kept between requests, it grows with the log in O(new entries), and
/// answers for any earlier size without replaying again ([`MonthlySeries::series`]).
#[derive(Clone, Debug, Default)]
pub struct MonthlySeries {
    ledger: Ledger,
    closed: Vec<MonthPoint>,
}

impl MonthlySeries {
    /// An empty series, before the genesis.
    pub fn new() -> Self {
        MonthlySeries::default()
    }

    /// How many entries were fed.
    pub fn size(&self) -> u64 {
        self.ledger.size()
    }

    /// The replay state after the entries fed so far (a caller may keep copies of it along
    /// the way, to resume from later than the genesis).
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Feeds the next entry (as stored, so applied as trusted: chain and form only) with its
    /// openings when the series is a full reader's (SPEC §12.6: a sealed entry fed without
    /// them counts as the public sees it, its values unknown). An entry recorded in a later
    /// month than the one before closes that month.
    ///
    /// # Errors
    /// A [`Violation`] of the chain or of form; the series is unchanged then.
    pub fn push(
        &mut self,
        entry: &SealedEntry,
        openings: Option<&FieldOpenings>,
    ) -> Result<(), Violation> {
        let closing = self.closing(entry.entry().recorded_at.date().period());
        self.ledger.apply_trusted_with(entry, openings)?;
        self.closed.extend(closing);
        Ok(())
    }

    /// [`MonthlySeries::push`] for the leaf bytes of an entry as its store verified them,
    /// applied through [`Ledger::apply_trusted_leaf`] (read in one pass, no canonical
    /// re-check, no key decompression). Returns `false`, the series unchanged, when they do
    /// not read that way: the caller then parses them and calls [`MonthlySeries::push`],
    /// which says what is wrong.
    pub fn push_leaf(&mut self, leaf: &[u8], openings: Option<&FieldOpenings>) -> bool {
        let Some(month) = hisaab_log::statement::TrustedEntry::parse(leaf)
            .map(|entry| entry.recorded_at.date().period())
        else {
            return false;
        };
        let closing = self.closing(month);
        if !self.ledger.apply_trusted_leaf(leaf, openings) {
            return false;
        }
        self.closed.extend(closing);
        true
    }

    /// The point that closes the last month fed, when an entry of `month` (a later one)
    /// comes next: that month, the size so far and the sector's scores at it.
    fn closing(&self, month: Period) -> Option<MonthPoint> {
        let previous = self.ledger.last_recorded_at()?.date().period();
        (month > previous).then(|| MonthPoint {
            month: previous,
            size: self.ledger.size(),
            sector: self.ledger.sector_scores(None),
        })
    }

    /// The series as of tree size `size` (no larger than [`MonthlySeries::size`]), given the
    /// month of that size's last entry and the sector's scores at that size (from its state):
    /// every month closed by then, then that month as it stands.
    pub fn series(&self, month: Period, size: u64, sector: PillarScores) -> Vec<MonthPoint> {
        let mut points: Vec<MonthPoint> = self
            .closed
            .iter()
            .filter(|p| p.size <= size && p.month < month)
            .cloned()
            .collect();
        if size > 0 {
            points.push(MonthPoint {
                month,
                size,
                sector,
            });
        }
        points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug(s: &str) -> Slug {
        Slug::try_new(s).unwrap()
    }

    fn date(s: &str) -> Date {
        Date::try_parse(s).unwrap()
    }

    fn item(id: &str, due: &str, status: CommitmentStatus, closed: Option<u64>) -> CommitmentItem {
        CommitmentItem {
            commitment: slug(id),
            operator: slug("op"),
            kpi: None,
            due: date(due),
            status,
            days_overdue: (status == CommitmentStatus::Overdue)
                .then(|| date("2026-06-30").days_since_epoch() - date(due).days_since_epoch()),
            seq: 1,
            closed_seq: closed,
        }
    }

    #[test]
    fn commitments_are_ordered_overdue_first_then_open_then_recently_closed() {
        let mut items = [
            item(
                "closed-old",
                "2026-01-01",
                CommitmentStatus::Fulfilled,
                Some(3),
            ),
            item("open-late", "2026-09-01", CommitmentStatus::Open, None),
            item(
                "overdue-little",
                "2026-06-01",
                CommitmentStatus::Overdue,
                None,
            ),
            item(
                "closed-new",
                "2026-01-01",
                CommitmentStatus::Missed,
                Some(9),
            ),
            item("open-soon", "2026-07-01", CommitmentStatus::Open, None),
            item(
                "overdue-much",
                "2026-02-01",
                CommitmentStatus::Overdue,
                None,
            ),
        ];
        items.sort_by(commitment_order);
        let order: Vec<&str> = items.iter().map(|i| i.commitment.as_str()).collect();
        assert_eq!(
            order,
            [
                "overdue-much",
                "overdue-little",
                "open-soon",
                "open-late",
                "closed-new",
                "closed-old"
            ]
        );
    }

    #[test]
    fn bands_split_at_50_and_80() {
        let bands: Vec<Band> = [
            None,
            Some(0),
            Some(49),
            Some(50),
            Some(79),
            Some(80),
            Some(100),
        ]
        .into_iter()
        .map(Band::of)
        .collect();
        assert_eq!(
            bands,
            [
                Band::None,
                Band::Red,
                Band::Red,
                Band::Amber,
                Band::Amber,
                Band::Green,
                Band::Green
            ]
        );
    }

    #[test]
    fn pillar_titles_are_the_strategy_s_six() {
        let titles: Vec<&str> = Pillar::ALL.iter().map(|p| p.title()).collect();
        assert_eq!(titles.len(), 6);
        assert!(titles.contains(&"Proactive Monitoring and Incident Response"));
    }
}
