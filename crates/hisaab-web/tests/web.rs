//! The web app over a real store of the demo ledger: what the pages show agrees with the
//! state of SPEC §5, earlier sizes are what replay gives, and bad input gets a 400 or 404
//! page, never a 500.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hisaab_model::report::{CommitmentStatus, DisputeStatus, MonthlySeries};
use hisaab_web::Web;
use tower::ServiceExt as _;

struct Fixture {
    _dir: tempfile::TempDir,
    web: Arc<Web>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = support::demo_store(&dir.path().join("ledger"), 6);
    Fixture {
        web: Web::new(store),
        _dir: dir,
    }
}

struct Page {
    status: StatusCode,
    content_type: String,
    cache: String,
    text: String,
}

/// `GET path` as a full reader (the server's access layer puts the reader of a request in its
/// extensions; here it is put there by hand).
async fn get(web: &Arc<Web>, path: &str) -> Page {
    get_as(web, path, hisaab_model::view::Reader::Full).await
}

async fn get_as(web: &Arc<Web>, path: &str, class: hisaab_model::view::Reader) -> Page {
    let router: axum::Router = hisaab_web::router(Arc::clone(web));
    let mut request = Request::get(path).body(Body::empty()).unwrap();
    request
        .extensions_mut()
        .insert(hisaab_web::Reader::new(class));
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let content_type = header("content-type");
    let cache = header("cache-control");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Page {
        status,
        content_type,
        cache,
        text: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

#[test]
fn the_registers_agree_with_the_state_counts() {
    let f = fixture();
    let view = f.web.view(None).unwrap();
    assert_eq!(*view.state, f.web.store().state(None, None).unwrap());
    for (id, operator) in &view.state.operators {
        let mine: Vec<_> = view
            .register
            .commitments
            .iter()
            .filter(|c| &c.operator == id)
            .collect();
        let count = |status| mine.iter().filter(|c| c.status == status).count() as u64;
        assert_eq!(
            count(CommitmentStatus::Open),
            operator.commitments.open,
            "{id}"
        );
        assert_eq!(
            count(CommitmentStatus::Overdue),
            operator.commitments.overdue,
            "{id}"
        );
        assert_eq!(
            count(CommitmentStatus::Fulfilled),
            operator.commitments.fulfilled,
            "{id}"
        );
        assert_eq!(
            count(CommitmentStatus::Missed),
            operator.commitments.missed,
            "{id}"
        );
        let disputes: Vec<_> = view
            .register
            .disputes
            .iter()
            .filter(|d| &d.operator == id)
            .collect();
        let open = disputes
            .iter()
            .filter(|d| d.status == DisputeStatus::Open)
            .count() as u64;
        assert_eq!(open, operator.disputes.open, "{id}");
        // The trend's last period is the state's latest submission.
        for (kpi, state) in &operator.kpis {
            let trend = view.ledger.kpi_trend(id.as_str(), kpi.as_str());
            assert_eq!(
                trend.last().map(|p| p.submission),
                state.latest_submission,
                "{id} {kpi}"
            );
            assert_eq!(
                trend.last().map(|p| p.value.clone()),
                state.value,
                "{id} {kpi}"
            );
        }
    }
    // Overdue commitments come first.
    let first_closed = view
        .register
        .commitments
        .iter()
        .position(|c| !c.status.is_pending());
    if let Some(at) = first_closed {
        assert!(view.register.commitments[at..]
            .iter()
            .all(|c| !c.status.is_pending()));
    }
    assert!(view
        .register
        .commitments
        .iter()
        .any(|c| c.status == CommitmentStatus::Overdue));
    // Every assigned KPI has its definition's title.
    for operator in view.state.operators.values() {
        for kpi in operator.kpis.keys() {
            assert!(view.kpis.contains_key(kpi.as_str()), "{kpi}");
        }
    }
}

#[test]
fn the_month_end_series_is_what_a_replay_of_each_prefix_gives() {
    let f = fixture();
    month_end_series_agrees_with_replays(&f.web);
}

/// On a sealed ledger the series is fed with the openings, as the store replays: the sector's
/// scores of every month are the full state's, not the public's (which has no values).
#[test]
fn the_month_end_series_of_a_sealed_ledger_has_the_full_state_s_scores() {
    let dir = tempfile::tempdir().unwrap();
    let store = support::sealed_demo_store(&dir.path().join("ledger"), 6);
    let web = Web::with_rungs(store, 16, 0);
    let latest = month_end_series_agrees_with_replays(&web);
    let scored = latest
        .series
        .iter()
        .filter(|point| point.sector != Default::default())
        .count();
    assert!(
        scored >= 4,
        "only {scored} months have sector scores: {:?}",
        latest.series
    );
}

/// Checks the latest view's month-end series against the store's replay of each prefix, and
/// the view as of an earlier size; answers the latest view.
fn month_end_series_agrees_with_replays(web: &Web) -> Arc<hisaab_web::View> {
    let store = web.store();
    let latest = web.view(None).unwrap();
    assert!(latest.series.len() >= 6, "{:?}", latest.series);
    assert_eq!(latest.series.last().unwrap().sector, latest.state.sector);
    assert_eq!(latest.series.last().unwrap().size, latest.size);
    for point in &latest.series {
        assert_eq!(
            point.sector,
            store.state(Some(point.size), None).unwrap().sector,
            "{point:?}"
        );
    }
    // As of an earlier size: the same months closed by then, then that size's state.
    let mid = latest.series[2].size + 3;
    let earlier = web.view(Some(mid)).unwrap();
    assert_eq!(*earlier.state, store.state(Some(mid), None).unwrap());
    assert_eq!(earlier.series[..3], latest.series[..3]);
    assert_eq!(earlier.series.last().unwrap().size, mid);
    // A series fed only the first `mid` entries (with their openings) agrees.
    let mut fresh = MonthlySeries::new();
    for entry in store.entries(0, mid).unwrap() {
        let openings = store.kept_openings(&entry).unwrap();
        fresh
            .push(&entry, openings.as_ref().map(|o| &o.fields))
            .unwrap();
    }
    let month = earlier.ledger.last_recorded_at().unwrap().date().period();
    assert_eq!(
        fresh.series(month, mid, earlier.state.sector),
        earlier.series
    );
    latest
}

#[tokio::test]
async fn every_page_renders_from_the_projections() {
    let f = fixture();
    let view = f.web.view(None).unwrap();
    let digest = view.state.digest.to_hex();
    let overview = get(&f.web, "/").await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(overview.content_type.starts_with("text/html"));
    for operator in view.state.operators.values() {
        assert!(
            overview.text.contains(operator.name.as_str()),
            "{}",
            operator.name
        );
    }
    assert!(overview.text.contains(&digest));
    assert!(overview.text.contains(&view.root.to_hex()));
    // The public reader is shown the public view, whose digest is its own (SPEC §13.3).
    let public = get_as(&f.web, "/", hisaab_model::view::Reader::Public).await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(public.text.contains("Public view"));
    let public_digest =
        hisaab_model::view::view_state(&view.state, &hisaab_model::view::Reader::Public)
            .digest
            .to_hex();
    assert!(public.text.contains(&public_digest));
    assert!(!public.text.contains(&digest));
    // Each class's view of the state is computed once per view, then shared.
    let operator_class =
        hisaab_model::view::Reader::Operator(view.state.operators.keys().next().unwrap().clone());
    for class in [hisaab_model::view::Reader::Public, operator_class] {
        let first = view.for_reader(&class);
        let again = view.for_reader(&class);
        assert!(Arc::ptr_eq(&first.state, &again.state));
        assert_eq!(
            *first.state,
            hisaab_model::view::view_state(&view.state, &class)
        );
    }
    let (id, operator) = view.state.operators.iter().next().unwrap();
    let kpi = operator.kpis.keys().next().unwrap();
    for path in [
        format!("/app/operators/{id}"),
        format!("/app/operators/{id}/kpis/{kpi}"),
        "/app/commitments".to_owned(),
        format!("/app/commitments?operator={id}&status=overdue"),
        "/app/meetings".to_owned(),
        "/app/pack".to_owned(),
        "/app/directives".to_owned(),
        format!("/app/directives?operator={id}"),
        "/app/disputes".to_owned(),
        "/app/challenges".to_owned(),
        "/app/ledger".to_owned(),
        "/app/ledger?start=10".to_owned(),
        "/app/entries/0".to_owned(),
        "/app/verify".to_owned(),
    ] {
        let page = get(&f.web, &path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.text);
        assert!(page.text.contains(&digest), "{path}");
    }
    let scorecard = get(&f.web, &format!("/app/operators/{id}")).await;
    assert!(
        scorecard.text.contains(kpi.as_str())
            && scorecard.text.contains(view.kpi_title(kpi.as_str()))
    );

    // The CSV tables are stamped with the checkpoint and the digest.
    for table in [
        "scores",
        "kpis",
        "commitments",
        "disputes",
        "challenges",
        "meetings",
        "actions",
        "directives",
    ] {
        let csv = get(&f.web, &format!("/app/pack/{table}.csv")).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.content_type.starts_with("text/csv"));
        let stamp = format!(
            "# checkpoint origin={} size={} root={}\r\n# state digest={digest}",
            view.origin,
            view.size,
            view.root.to_hex()
        );
        assert!(csv.text.starts_with(&stamp), "{table}: {}", csv.text);
    }

    // The assets are named by content and cached for good.
    let start = overview.text.find("/app/assets/app.").unwrap();
    let end = start + overview.text[start..].find('"').unwrap();
    let css = get(&f.web, &overview.text[start..end]).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.content_type.starts_with("text/css"));
    assert!(css.cache.contains("immutable"));
}

#[tokio::test]
async fn a_page_as_of_an_earlier_size_is_that_size_s_state() {
    let f = fixture();
    let earlier = f.web.store().state(Some(40), None).unwrap();
    let page = get(&f.web, "/?as_of=40").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains(&earlier.digest.to_hex()));
    assert!(page.text.contains("As of tree size <strong>40</strong>"));
    assert!(page.text.contains("id=\"see-present\" href=\"/\""));
    // Links keep the size.
    assert!(page
        .text
        .contains("/app/commitments?status=overdue&amp;as_of=40"));
}

#[tokio::test]
async fn a_page_as_of_a_date_is_the_ledger_as_recorded_by_its_end() {
    let f = fixture();
    let store = f.web.store();
    // A day in the middle of the log, and a size recorded by its end.
    let day = store
        .entry(store.size() / 2)
        .unwrap()
        .unwrap()
        .entry()
        .recorded_at
        .date();
    let size = store.size_at_date(day).unwrap();
    assert!(size > 0 && size < store.size());
    let expected = store.state(Some(size), Some(day)).unwrap();
    let page = get(&f.web, &format!("/?as_of_date={day}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains(&expected.digest.to_hex()));
    assert!(page.text.contains(&format!(
        "As recorded on <strong>{day}</strong> (size {size})"
    )));
    // The date control says which day is shown; links keep the point.
    assert!(page
        .text
        .contains(&format!("name=\"as_of_date\" required value=\"{day}\"")));
    assert!(page.text.contains(&format!(
        "/app/commitments?status=overdue&amp;as_of={size}&amp;as_of_date={day}"
    )));
    // The day is the clock of what is owed.
    let owed = get(
        &f.web,
        &format!("/app/commitments?status=overdue&as_of_date={day}"),
    )
    .await;
    assert_eq!(owed.status, StatusCode::OK);
    assert!(owed.text.contains(&format!("Everything owed on {day}")));
    assert!(owed
        .text
        .contains("id=\"see-present\" href=\"/app/commitments?status=overdue\""));
    // With as_of too: the first min(as_of, N) entries, still with the day as the clock.
    let both = get(&f.web, &format!("/?as_of_date={day}&as_of=10")).await;
    let expected = store.state(Some(10), Some(day)).unwrap();
    assert!(both.text.contains(&expected.digest.to_hex()));
    assert!(both.text.contains("(size 10)"));
    let beyond = get(
        &f.web,
        &format!("/?as_of_date={day}&as_of={}", store.size()),
    )
    .await;
    assert!(beyond.text.contains(&format!("(size {size})")));
}

#[tokio::test]
async fn bad_input_gets_a_clear_400_or_404_page() {
    let f = fixture();
    let size = f.web.store().size();
    for (path, status, says) in [
        (
            "/?as_of=abc".to_owned(),
            StatusCode::BAD_REQUEST,
            "as_of must be a tree size",
        ),
        (
            "/?as_of=0".to_owned(),
            StatusCode::BAD_REQUEST,
            "as_of must be a tree size",
        ),
        (
            format!("/?as_of={}", size + 1),
            StatusCode::NOT_FOUND,
            "beyond the log",
        ),
        (
            "/?as_of_date=2026-13-01".to_owned(),
            StatusCode::BAD_REQUEST,
            "as_of_date must be a real date YYYY-MM-DD",
        ),
        (
            "/app/commitments?as_of_date=yesterday".to_owned(),
            StatusCode::BAD_REQUEST,
            "as_of_date must be a real date YYYY-MM-DD",
        ),
        (
            "/app/ledger?as_of_date=2026-02-30".to_owned(),
            StatusCode::BAD_REQUEST,
            "as_of_date must be a real date YYYY-MM-DD",
        ),
        (
            "/?as_of_date=1999-01-01".to_owned(),
            StatusCode::NOT_FOUND,
            "nothing was recorded by the end of 1999-01-01",
        ),
        (
            "/app/operators/nobody".to_owned(),
            StatusCode::NOT_FOUND,
            "no operator",
        ),
        (
            "/app/operators/nobody/kpis/CB-01".to_owned(),
            StatusCode::NOT_FOUND,
            "no operator",
        ),
        (
            "/app/entries/x".to_owned(),
            StatusCode::BAD_REQUEST,
            "whole number",
        ),
        (
            format!("/app/entries/{size}"),
            StatusCode::NOT_FOUND,
            "no entry",
        ),
        (
            "/app/pack/nothing.csv".to_owned(),
            StatusCode::NOT_FOUND,
            "no table",
        ),
        (
            "/app/commitments?status=late".to_owned(),
            StatusCode::BAD_REQUEST,
            "status must be",
        ),
        (
            "/app/commitments?operator=nobody".to_owned(),
            StatusCode::NOT_FOUND,
            "no operator",
        ),
        (
            "/app/directives?operator=nobody".to_owned(),
            StatusCode::NOT_FOUND,
            "no operator",
        ),
        (
            "/app/disputes/nothing".to_owned(),
            StatusCode::NOT_FOUND,
            "no dispute &quot;nothing&quot;",
        ),
        (
            "/app/challenges/nothing".to_owned(),
            StatusCode::NOT_FOUND,
            "no challenge &quot;nothing&quot;",
        ),
        (
            "/app/disputes?as_of=x".to_owned(),
            StatusCode::BAD_REQUEST,
            "as_of must be a tree size",
        ),
        (
            "/app/ledger?start=-1".to_owned(),
            StatusCode::BAD_REQUEST,
            "whole number",
        ),
        (
            "/app/assets/nothing.css".to_owned(),
            StatusCode::NOT_FOUND,
            "no such asset",
        ),
    ] {
        let page = get(&f.web, &path).await;
        assert_eq!(page.status, status, "{path}: {}", page.text);
        assert!(page.content_type.starts_with("text/html"), "{path}");
        assert!(page.text.contains(says), "{path}: {}", page.text);
    }
}

#[tokio::test]
async fn a_view_resumed_from_a_rung_of_the_series_is_that_size_s_state() {
    let dir = tempfile::tempdir().unwrap();
    // The plain ledger, and the sealed one whose rungs hold the opened values.
    for store in [
        support::demo_store(&dir.path().join("plain"), 6),
        support::sealed_demo_store(&dir.path().join("sealed"), 6),
    ] {
        // A rung every 16 entries, used for every size below the log's.
        let web = Web::with_rungs(store.clone(), 16, 0);
        // The series (and its rungs) is fed by the first view at the latest size.
        let latest = web.view(None).unwrap();
        for size in [1, 15, 16, 17, 40, 100, latest.size - 1] {
            let earlier = web.view(Some(size)).unwrap();
            assert_eq!(
                *earlier.state,
                store.state(Some(size), None).unwrap(),
                "size {size}"
            );
            assert_eq!(earlier.ledger.size(), size);
        }
    }
}

#[test]
fn one_build_of_a_view_serves_everyone_who_asks_for_it_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let store = support::demo_store(&dir.path().join("ledger"), 6);
    // Right after a start: the warm-up is building the latest view while eight requests ask
    // for it and eight for an earlier size at once.
    let web = Web::new(store.clone());
    let views: Vec<_> = std::thread::scope(|scope| {
        let asks: Vec<_> = (0..16)
            .map(|i| {
                let web = &web;
                scope.spawn(move || web.view((i % 2 == 1).then_some(40)).unwrap())
            })
            .collect();
        asks.into_iter().map(|a| a.join().unwrap()).collect()
    });
    for view in &views {
        let size = if view.size == 40 { Some(40) } else { None };
        assert_eq!(*view.state, store.state(size, None).unwrap());
        assert!(!view.series_pending, "a view waited for has its series");
    }
    // The latest view once (by the warm-up or the first request) and the earlier one once.
    assert_eq!(web.views_built(), 2);
}

/// The page's text with its markup removed and its whitespace collapsed: what a reader reads.
fn words(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn the_meetings_page_shows_the_cycle_s_meetings_quorum_actions_and_members() {
    let f = fixture();
    let view = f.web.view(None).unwrap();
    let cycle = view.state.cycle.as_ref().expect("the demo is of format 2");
    let page = get(&f.web, "/app/meetings").await;
    assert_eq!(page.status, StatusCode::OK);
    let text = words(&page.text);
    assert!(!cycle.meetings.is_empty());
    let mut not_quorate = 0;
    for (id, m) in &cycle.meetings {
        assert!(page.text.contains(&format!("id=\"meeting-{id}\"")), "{id}");
        let quorum = format!(
            "{} of {} operators represented, quorum {} %",
            m.represented, m.operators, cycle.quorum_percent
        );
        let expected = match m.quorate {
            Some(true) => format!("quorate: {quorum}"),
            Some(false) => {
                not_quorate += 1;
                format!("NOT quorate: {quorum}")
            }
            None => continue,
        };
        assert!(text.contains(&expected), "{id}: {expected}");
        // Each agenda item naming an operator and a KPI links to that KPI's history.
        for item in &m.agenda {
            assert!(text.contains(item.title.as_str()), "{}", item.title);
            if let (Some(o), Some(k)) = (&item.operator, &item.kpi) {
                assert!(page.text.contains(&format!("/app/operators/{o}/kpis/{k}")));
            }
        }
    }
    assert_eq!(
        not_quorate, 1,
        "the demo has one meeting without its quorum"
    );
    // Every action item is listed under its meeting with its owner, due date, status and
    // escalation.
    let escalated: Vec<_> = cycle
        .actions
        .iter()
        .filter(|(_, a)| a.escalation.is_some())
        .collect();
    assert!(!escalated.is_empty());
    for (id, a) in &cycle.actions {
        let row = format!(
            "{id} {} {}",
            a.meeting,
            match &a.owner {
                hisaab_model::cycle::ActionOwner::Member(m) =>
                    format!("{} (member)", view.member_name(m.as_str())),
                hisaab_model::cycle::ActionOwner::Operator(o) =>
                    format!("{} (operator)", view.operator_name(o.as_str())),
            }
        );
        let status = match &a.escalation {
            Some(e) => format!("{} {} escalated ( {e} )", a.due, a.status),
            None => format!("{} {} –", a.due, a.status),
        };
        assert!(text.contains(&format!("{row} {status}")), "{row} {status}");
    }
    // The members' accountability, one row per member.
    assert!(text.contains("Members' accountability"));
    for (member, r) in &cycle.members {
        let row = format!(
            "{} {member} {} {} {} {} {} {} {} {} {} {}",
            view.member_name(member.as_str()),
            r.attended,
            r.absent,
            r.actions_open,
            r.actions_overdue,
            r.actions_done,
            r.actions_missed,
            r.challenges_open,
            r.challenges_overdue,
            r.measures,
            if r.suspended { "suspended" } else { "no" }
        );
        assert!(text.contains(&row), "{row}");
    }
    // The decisions of a recorded meeting are read from its record.
    let recorded = view.register.meetings.last().unwrap();
    if let Some(hisaab_model::Body::MeetingRecorded(b)) = hisaab_web_body(&f.web, recorded.seq) {
        for d in &b.decisions {
            assert!(text.contains(d.as_str()), "{d}");
        }
    }
    // The public reader is shown the cycle of the public view.
    let public = get_as(&f.web, "/app/meetings", hisaab_model::view::Reader::Public).await;
    assert_eq!(public.status, StatusCode::OK);
    let public_view = view.for_reader(&hisaab_model::view::Reader::Public);
    let public_cycle = public_view.state.cycle.as_ref().unwrap();
    for id in public_cycle.meetings.keys() {
        assert!(public.text.contains(&format!("id=\"meeting-{id}\"")));
    }
}

fn hisaab_web_body(web: &Arc<Web>, seq: u64) -> Option<hisaab_model::Body> {
    let sealed = web.store().entry(seq).unwrap()?;
    let statement = &sealed.entry().statement;
    hisaab_model::Body::try_parse(&statement.kind, &statement.body).ok()
}

#[tokio::test]
async fn the_overview_counts_overdue_actions_and_directives_and_names_the_next_meeting() {
    use hisaab_model::cycle::TaskStatus;
    let f = fixture();
    let store = f.web.store();
    let view = f.web.view(None).unwrap();
    let cycle = view.state.cycle.as_ref().unwrap();
    let overdue_actions = cycle
        .actions
        .values()
        .filter(|a| a.status == TaskStatus::Overdue)
        .count();
    let overdue_directives = cycle
        .directives
        .values()
        .filter(|d| d.status == TaskStatus::Overdue)
        .count();
    assert!(overdue_actions > 0 && overdue_directives > 0);
    let page = get(&f.web, "/").await;
    assert!(page
        .text
        .contains(&format!("id=\"count-overdue-actions\">{overdue_actions}<")));
    assert!(page.text.contains(&format!(
        "id=\"count-overdue-directives\">{overdue_directives}<"
    )));
    // Every meeting of the demo is held by its end: none is scheduled.
    assert!(cycle.meetings.values().all(|m| m.held_on.is_some()));
    assert!(words(&page.text).contains("Next meeting: none scheduled"));
    // On the day a meeting was scheduled, when that is before the day it was held, it was
    // the next one, linked to.
    let mut scheduled = None;
    for seq in 0..store.size() {
        let sealed = store.entry(seq).unwrap().unwrap();
        let entry = sealed.entry();
        if entry.statement.kind != "meeting.scheduled" {
            continue;
        }
        let id = entry.statement.body["meeting"].as_str().unwrap().to_owned();
        let day = entry.recorded_at.date();
        if cycle
            .meetings
            .iter()
            .any(|(m, s)| m.as_str() == id && s.held_on.is_some_and(|h| h > day))
        {
            scheduled = Some((id, day));
        }
    }
    let (id, day) = scheduled.expect("a meeting scheduled before the day it is held");
    let id = hisaab_model::Slug::try_new(&id).unwrap();
    let size = store.size_at_date(day).unwrap();
    let then = store.state(Some(size), Some(day)).unwrap();
    let then_meeting = &then.cycle.as_ref().unwrap().meetings[&id];
    assert_eq!(then_meeting.held_on, None);
    let scheduled_for = then_meeting.scheduled_for.unwrap();
    assert!(scheduled_for >= day);
    let earlier = get(&f.web, &format!("/?as_of_date={day}")).await;
    assert_eq!(earlier.status, StatusCode::OK);
    assert!(words(&earlier.text).contains(&format!(
        "Next meeting: {id} , scheduled for {scheduled_for}"
    )));
    assert!(earlier.text.contains(&format!(
        "/app/meetings?as_of={size}&amp;as_of_date={day}#meeting-{id}"
    )));
}

#[tokio::test]
async fn the_scorecard_shows_the_operator_s_actions_directives_extensions_and_escalations() {
    use hisaab_model::cycle::ActionOwner;
    let f = fixture();
    let view = f.web.view(None).unwrap();
    let cycle = view.state.cycle.as_ref().unwrap();
    assert!(!cycle.directives.is_empty() && !cycle.extended.is_empty());
    assert!(!cycle.escalations.is_empty());
    for (operator, state) in &view.state.operators {
        let page = get(&f.web, &format!("/app/operators/{operator}")).await;
        assert_eq!(page.status, StatusCode::OK);
        let text = words(&page.text);
        for (id, a) in &cycle.actions {
            let row = format!(
                "{id} {} {} (operator) {} {}",
                a.meeting, state.name, a.due, a.status
            );
            let mine = a.owner == ActionOwner::Operator(operator.clone());
            assert_eq!(text.contains(&row), mine, "{operator}: {row}");
        }
        for (id, d) in &cycle.directives {
            let escalation = match &d.escalation {
                Some(e) => format!("escalated ( {e} )"),
                None => "–".to_owned(),
            };
            let row = format!(
                "{id} {} (operator) {} {} {} {escalation}",
                state.name, d.issued, d.due, d.status
            );
            assert_eq!(text.contains(&row), d.operator == *operator, "{row}");
        }
        for (id, e) in &cycle.extended {
            let row = format!("{id} {} → {}", e.original_due, e.due);
            assert_eq!(text.contains(&row), e.operator == *operator, "{row}");
        }
        for (id, e) in &cycle.escalations {
            let item = match &e.item {
                hisaab_model::cycle::EscalatedItem::Commitment(c) => format!("commitment {c}"),
                hisaab_model::cycle::EscalatedItem::Directive(d) => format!("directive {d}"),
                hisaab_model::cycle::EscalatedItem::Action(x) => format!("action item {x}"),
            };
            let row = format!("{id} {item} {} {}", e.on, e.status);
            let mine = e.operator.as_ref() == Some(operator);
            assert_eq!(text.contains(&row), mine, "{row}");
        }
    }
}

/// The rows of a CSV table (after its two stamp lines and its header), split on commas (the
/// demo's ids and dates have none).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn the_pack_carries_quorum_action_items_and_directives_with_their_csv() {
    use hisaab_model::cycle::{ActionOwner, TaskStatus};
    let f = fixture();
    let view = f.web.view(None).unwrap();
    let cycle = view.state.cycle.as_ref().unwrap();
    let page = get(&f.web, "/app/pack").await;
    assert_eq!(page.status, StatusCode::OK);
    let text = words(&page.text);
    assert!(text.contains("Meetings and quorum"));
    for (id, m) in &cycle.meetings {
        let quorum = format!(
            "{} of {} operators represented, quorum {} %",
            m.represented, m.operators, cycle.quorum_percent
        );
        assert!(text.contains(&format!("{id} ")), "{id}");
        assert!(text.contains(&quorum), "{id}: {quorum}");
    }
    for (id, a) in &cycle.actions {
        let owner = match &a.owner {
            ActionOwner::Member(m) => format!("{} (member)", view.member_name(m.as_str())),
            ActionOwner::Operator(o) => format!("{} (operator)", view.operator_name(o.as_str())),
        };
        let row = format!("{id} {} {owner} {} {}", a.meeting, a.due, a.status);
        assert!(text.contains(&row), "{row}");
    }
    for (id, d) in &cycle.directives {
        let row = format!(
            "{id} {} (operator) {} {} {}",
            view.operator_name(d.operator.as_str()),
            d.issued,
            d.due,
            d.status
        );
        assert!(text.contains(&row), "{row}");
    }
    // Overdue first in the pack's table of action items.
    let actions_start = page.text.find("id=\"pack-actions\"").unwrap();
    let actions_end = page.text.find("id=\"pack-directives\"").unwrap();
    let section = &page.text[actions_start..actions_end];
    let last_overdue = section.rfind("status-overdue").expect("overdue actions");
    for other in ["status-open", "status-done", "status-missed"] {
        if let Some(first) = section.find(other) {
            assert!(
                last_overdue < first,
                "an overdue action after a {other} one"
            );
        }
    }
    // Each table as CSV: stamped, and one row per item with what the page shows.
    let stamp = format!(
        "# checkpoint origin={} size={} root={}\r\n# state digest={} at={}\r\n",
        view.origin,
        view.size,
        view.root.to_hex(),
        view.state.digest.to_hex(),
        view.state.at
    );
    for table in ["meetings", "actions", "directives"] {
        assert!(
            page.text.contains(&format!("/app/pack/{table}.csv")),
            "{table}"
        );
    }
    let meetings = get(&f.web, "/app/pack/meetings.csv").await;
    assert!(meetings.text.starts_with(&stamp), "{}", meetings.text);
    assert!(meetings.text.contains(
        "meeting,scheduled_for,held_on,attended,absent,attested,operators,represented,quorum_percent,quorate\r\n"
    ));
    let rows = csv_rows(&meetings.text);
    assert_eq!(rows.len(), cycle.meetings.len());
    for row in &rows {
        let m = &cycle.meetings[&hisaab_model::Slug::try_new(&row[0]).unwrap()];
        assert_eq!(row[7], m.represented.to_string());
        assert_eq!(row[8], cycle.quorum_percent.to_string());
        assert_eq!(row[9], m.quorate.map(|q| q.to_string()).unwrap_or_default());
    }
    assert!(
        rows.iter().any(|r| r[9] == "false"),
        "the demo's meeting without quorum"
    );
    let actions = get(&f.web, "/app/pack/actions.csv").await;
    assert!(actions.text.starts_with(&stamp));
    let rows = csv_rows(&actions.text);
    assert_eq!(rows.len(), cycle.actions.len());
    let mut seen_not_overdue = false;
    for row in &rows {
        let a = &cycle.actions[&hisaab_model::Slug::try_new(&row[0]).unwrap()];
        assert_eq!(row[1], a.meeting.as_str());
        assert_eq!(row[5], a.due.to_string());
        assert_eq!(row[6], a.status.as_str());
        let overdue = a.status == TaskStatus::Overdue;
        assert!(!(overdue && seen_not_overdue), "overdue first: {row:?}");
        seen_not_overdue |= !overdue;
    }
    let directives = get(&f.web, "/app/pack/directives.csv").await;
    assert!(directives.text.starts_with(&stamp));
    let rows = csv_rows(&directives.text);
    assert_eq!(rows.len(), cycle.directives.len());
    for row in &rows {
        let d = &cycle.directives[&hisaab_model::Slug::try_new(&row[0]).unwrap()];
        assert_eq!(
            row[1..],
            [
                d.operator.to_string(),
                d.issued.to_string(),
                d.due.to_string(),
                d.status.to_string(),
                d.escalation
                    .as_ref()
                    .map(|e| e.to_string())
                    .unwrap_or_default()
            ]
        );
    }
    // The challenges with who answers for each, how grave and by when, as the page shows.
    let challenges = get(&f.web, "/app/pack/challenges.csv").await;
    assert!(challenges.text.starts_with(&stamp));
    assert!(challenges.text.contains(
        "challenge,operator,kpi,owner_kind,owner,severity,raised,due,status,seq,resolved_seq\r\n"
    ));
    let rows = csv_rows(&challenges.text);
    assert_eq!(rows.len(), cycle.challenges.len());
    for row in &rows {
        let c = &cycle.challenges[&hisaab_model::Slug::try_new(&row[0]).unwrap()];
        let (kind, owner) = match &c.owner {
            Some(hisaab_model::cycle::ActionOwner::Member(m)) => ("member", m.to_string()),
            Some(hisaab_model::cycle::ActionOwner::Operator(o)) => ("operator", o.to_string()),
            None => ("", String::new()),
        };
        assert_eq!(
            row[3..9],
            [
                kind.to_owned(),
                owner,
                c.severity
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                c.raised.to_string(),
                c.due.map(|d| d.to_string()).unwrap_or_default(),
                c.status.as_str().to_owned(),
            ]
        );
    }
    assert!(
        rows.iter()
            .any(|r| !r[4].is_empty() && !r[5].is_empty() && !r[7].is_empty()),
        "the demo has a challenge with an owner, a severity and a due date: {rows:?}"
    );
}

#[tokio::test]
async fn the_directives_page_lists_every_directive_and_action_overdue_first_by_operator() {
    use hisaab_model::cycle::{ActionOwner, TaskStatus};
    let f = fixture();
    let view = f.web.view(None).unwrap();
    let cycle = view.state.cycle.as_ref().unwrap();
    let page = get(&f.web, "/app/directives").await;
    assert_eq!(page.status, StatusCode::OK);
    let rows: Vec<usize> = cycle
        .actions
        .keys()
        .chain(cycle.directives.keys())
        .map(|id| {
            page.text
                .find(&format!("id=\"task-{id}\""))
                .unwrap_or_else(|| panic!("{id} is listed"))
        })
        .collect();
    assert_eq!(rows.len(), cycle.actions.len() + cycle.directives.len());
    // Every overdue item comes before every other one.
    let status_of = |id: &hisaab_model::Slug| {
        cycle
            .actions
            .get(id)
            .map(|a| a.status)
            .or_else(|| cycle.directives.get(id).map(|d| d.status))
            .unwrap()
    };
    let ids: Vec<&hisaab_model::Slug> = cycle
        .actions
        .keys()
        .chain(cycle.directives.keys())
        .collect();
    let last_overdue = ids
        .iter()
        .zip(&rows)
        .filter(|(id, _)| status_of(id) == TaskStatus::Overdue)
        .map(|(_, at)| *at)
        .max()
        .expect("the demo has overdue items");
    let first_other = ids
        .iter()
        .zip(&rows)
        .filter(|(id, _)| status_of(id) != TaskStatus::Overdue)
        .map(|(_, at)| *at)
        .min()
        .expect("the demo has items not overdue");
    assert!(last_overdue < first_other);
    let overdue = ids
        .iter()
        .filter(|id| status_of(id) == TaskStatus::Overdue)
        .count();
    assert!(words(&page.text).contains(&format!("{} item(s): {overdue} overdue", ids.len())));
    // Filtered by operator: its directives and the action items it (or one of its members)
    // owns, nothing else.
    for operator in view.state.operators.keys() {
        let page = get(&f.web, &format!("/app/directives?operator={operator}")).await;
        assert_eq!(page.status, StatusCode::OK);
        for (id, d) in &cycle.directives {
            assert_eq!(
                page.text.contains(&format!("id=\"task-{id}\"")),
                d.operator == *operator,
                "{operator}: {id}"
            );
        }
        for (id, a) in &cycle.actions {
            let concerns = match &a.owner {
                ActionOwner::Operator(o) => o == operator,
                ActionOwner::Member(m) => view
                    .register
                    .members
                    .iter()
                    .any(|x| x.member == *m && x.operator.as_ref() == Some(operator)),
            };
            assert_eq!(
                page.text.contains(&format!("id=\"task-{id}\"")),
                concerns,
                "{operator}: {id}"
            );
        }
        assert!(page
            .text
            .contains(&format!("<option value=\"{operator}\" selected>")));
    }
    // The same for the public: the cycle is workflow facts.
    let public = get_as(
        &f.web,
        "/app/directives",
        hisaab_model::view::Reader::Public,
    )
    .await;
    assert_eq!(public.status, StatusCode::OK);
    for id in &ids {
        assert!(public.text.contains(&format!("id=\"task-{id}\"")));
    }
}

#[tokio::test]
async fn the_disputes_and_challenges_registers_show_each_one_as_the_reader_may_see_it() {
    let f = fixture();
    let view = f.web.view(None).unwrap();
    let store = f.web.store();
    assert!(!view.register.disputes.is_empty() && !view.register.challenges.is_empty());
    let page = get(&f.web, "/app/disputes").await;
    assert_eq!(page.status, StatusCode::OK);
    let text = words(&page.text);
    let date_of = |seq: u64| {
        store
            .entry(seq)
            .unwrap()
            .unwrap()
            .entry()
            .recorded_at
            .date()
    };
    for d in &view.register.disputes {
        assert!(page.text.contains(&format!("id=\"dispute-{}\"", d.dispute)));
        let row = format!(
            "{} {} , KPI {} {} {}",
            d.dispute,
            view.operator_name(d.operator.as_str()),
            d.kpi,
            d.status.as_str(),
            date_of(d.seq)
        );
        assert!(text.contains(&row), "{row}");
        if let Some(resolved) = d.resolved_seq {
            assert!(page.text.contains(&format!("/app/entries/{resolved}\"")));
        }
        // Its own page: the fields, and both entries' cards.
        let detail = get(&f.web, &format!("/app/disputes/{}", d.dispute)).await;
        assert_eq!(detail.status, StatusCode::OK);
        let detail_text = words(&detail.text);
        assert!(detail_text.contains(&format!("Dispute {}", d.dispute)));
        assert!(detail_text.contains(&format!("Status {}", d.status.as_str())));
        assert!(detail.text.contains(&d.evaluation.to_hex()));
        assert!(detail.text.contains(&format!("/app/entries/{}\"", d.seq)));
        assert!(detail_text.contains(&format!("Dispute {} opened:", d.dispute)));
        match d.resolved_seq {
            Some(_) => assert!(detail_text.contains(&format!("Dispute {} resolved:", d.dispute))),
            None => assert!(detail_text.contains("Resolved not yet")),
        }
    }
    // A reader who does not see the operator sees a resolved dispute's outcome as sealed
    // (format 2), and the entries' texts withheld.
    let resolved = view
        .register
        .disputes
        .iter()
        .find(|d| matches!(d.status, DisputeStatus::Upheld | DisputeStatus::Overturned))
        .expect("the demo resolves a dispute");
    let public = get_as(
        &f.web,
        &format!("/app/disputes/{}", resolved.dispute),
        hisaab_model::view::Reader::Public,
    )
    .await;
    assert_eq!(public.status, StatusCode::OK);
    let public_text = words(&public.text);
    assert!(public_text.contains("Status resolved"), "{public_text}");
    assert!(!public_text.contains(&format!("Dispute {} opened:", resolved.dispute)));
    assert!(public_text.contains("Withheld"));
    let register = get_as(&f.web, "/app/disputes", hisaab_model::view::Reader::Public).await;
    assert!(
        !register.text.contains("status-upheld-dispute")
            && !register.text.contains("status-overturned-dispute")
    );
    assert!(register.text.contains("status-resolved-dispute"));
    let csv = get_as(
        &f.web,
        "/app/pack/disputes.csv",
        hisaab_model::view::Reader::Public,
    )
    .await;
    assert!(!csv.text.contains(",upheld,") && !csv.text.contains(",overturned,"));
    // The operator's own members see its outcome.
    let own = get_as(
        &f.web,
        &format!("/app/disputes/{}", resolved.dispute),
        hisaab_model::view::Reader::Operator(resolved.operator.clone()),
    )
    .await;
    assert!(words(&own.text).contains(&format!("Status {}", resolved.status.as_str())));

    let page = get(&f.web, "/app/challenges").await;
    assert_eq!(page.status, StatusCode::OK);
    let text = words(&page.text);
    // The register of format 2 (SPEC §11.12): each challenge's status on the view's date,
    // owner, severity and due date, from the cycle's state.
    let cycle = view.state.cycle.as_ref().unwrap();
    let overdue = cycle
        .challenges
        .values()
        .filter(|c| c.status == hisaab_model::ChallengeStatus::Overdue)
        .count();
    assert!(page.text.contains(&format!(
        "id=\"challenges-overdue\">{overdue} past their due date<"
    )));
    let overview = get(&f.web, "/").await;
    assert!(overview
        .text
        .contains(&format!("id=\"count-overdue-challenges\">{overdue}<")));
    for c in &view.register.challenges {
        let r = &cycle.challenges[&c.challenge];
        let status = r.status.as_str();
        let owner = match r.owner.as_ref().unwrap() {
            hisaab_model::cycle::ActionOwner::Member(m) => {
                format!("{} (member)", view.member_name(m.as_str()))
            }
            hisaab_model::cycle::ActionOwner::Operator(o) => {
                format!("{} (operator)", view.operator_name(o.as_str()))
            }
        };
        let row = format!(
            "{status} {owner} {} {} {}",
            r.severity.unwrap().as_str(),
            r.due.unwrap(),
            date_of(c.seq)
        );
        assert!(text.contains(&row), "{row}");
        let about = c
            .operator
            .as_ref()
            .map_or("the sector", |o| view.operator_name(o.as_str()));
        assert!(
            text.contains(&format!("{} {about}", c.challenge)),
            "{} {about}",
            c.challenge
        );
        let detail = get(&f.web, &format!("/app/challenges/{}", c.challenge)).await;
        assert_eq!(detail.status, StatusCode::OK);
        let detail_text = words(&detail.text);
        assert!(detail_text.contains(&format!("Status {status}")));
        assert!(
            detail_text.contains(&format!("Owner {owner}")),
            "{detail_text}"
        );
        assert!(detail_text.contains(&format!("Severity {}", r.severity.unwrap().as_str())));
        assert!(detail_text.contains(&format!("Challenge {} raised:", c.challenge)));
        // Each measure taken links to its entry.
        for m in &r.measures {
            assert!(detail
                .text
                .contains(&format!("/app/entries/{}\">{}</a>", m.seq, m.on)));
        }
    }
}

#[tokio::test]
async fn the_pages_show_delegations_stakeholders_operators_that_left_and_withdrawn_assignments() {
    let f = fixture();
    let view = f.web.view(None).unwrap();
    let cycle = view.state.cycle.as_ref().unwrap();
    assert!(!cycle.delegations.is_empty() && !cycle.stakeholders.is_empty());
    assert!(!cycle.left.is_empty() && !cycle.withdrawn.is_empty());

    // The meetings page: who acts for whom until when, and the stakeholders.
    let meetings = get(&f.web, "/app/meetings").await;
    let text = words(&meetings.text);
    for (deputy, d) in &cycle.delegations {
        let row = format!(
            "{} {deputy} {} {} {}",
            view.member_name(deputy.as_str()),
            view.operator_name(d.operator.as_str()),
            d.expires,
            d.status.as_str().replace('_', " ")
        );
        assert!(text.contains(&row), "{row}");
    }
    for (id, k) in &cycle.stakeholders {
        assert!(meetings.text.contains(&format!("id=\"stakeholder-{id}\"")));
        let row = format!(
            "{id} {} {} {}",
            k.name,
            k.kind.as_str().replace('_', " "),
            k.registered
        );
        assert!(text.contains(&row), "{row}");
    }

    // The operator that left: marked in the heat map and on its scorecard, not dropped.
    let overview = get(&f.web, "/").await;
    for (operator, left) in &cycle.left {
        let name = view.operator_name(operator.as_str());
        assert!(
            words(&overview.text).contains(&format!("{name} (left {})", left.on)),
            "{operator}"
        );
        assert!(overview.text.contains("id=\"left-legend\""));
        // In the pack, its KPIs needing attention say that it left.
        let pack = get(&f.web, "/app/pack").await;
        let state = &view.state.operators[operator];
        if state.kpis.values().any(|k| k.status.needs_attention()) {
            assert!(words(&pack.text).contains(&format!("{name} left {}", left.on)));
        }
        let scorecard = get(&f.web, &format!("/app/operators/{operator}")).await;
        assert!(
            words(&scorecard.text).contains(&format!("{name} left the task force on {}.", left.on))
        );
    }
    let stayed = view
        .state
        .operators
        .keys()
        .find(|o| !cycle.left.contains_key(*o))
        .unwrap();
    let scorecard = get(&f.web, &format!("/app/operators/{stayed}")).await;
    assert!(!scorecard.text.contains("id=\"operator-left\""));

    // Withdrawn assignments and deputies on the operator's scorecard only.
    for w in &cycle.withdrawn {
        let page = get(&f.web, &format!("/app/operators/{}", w.operator)).await;
        assert!(words(&page.text).contains(&format!(
            "{} {} {}",
            w.kpi,
            view.kpi_title(w.kpi.as_str()),
            w.on
        )));
        // Its row among the KPIs says so too.
        assert!(words(&page.text).contains(&format!(
            "{} withdrawn {} {}",
            w.kpi,
            w.on,
            view.kpi_title(w.kpi.as_str())
        )));
    }
    for (deputy, d) in &cycle.delegations {
        let page = get(&f.web, &format!("/app/operators/{}", d.operator)).await;
        assert!(words(&page.text).contains(&format!(
            "{} ( {deputy} ) acts for {} until {}",
            view.member_name(deputy.as_str()),
            view.operator_name(d.operator.as_str()),
            d.expires
        )));
    }
    assert!(
        words(&scorecard.text).contains("No deputy acts for")
            || cycle.delegations.values().any(|d| d.operator == *stayed)
    );
}

#[tokio::test]
async fn every_directive_and_action_item_links_to_the_entry_that_made_it() {
    let f = fixture();
    let view = f.web.view(None).unwrap();
    let store = f.web.store();
    let cycle = view.state.cycle.as_ref().unwrap();
    // The entry a link names for an item: the one that made it.
    let made = |html: &str, id: &str, kind: &str| {
        let code = format!("><code>{id}</code></a>");
        let at = html
            .find(&code)
            .unwrap_or_else(|| panic!("{id} is not linked"));
        let href = &html[..at];
        let start = href.rfind("/app/entries/").unwrap() + "/app/entries/".len();
        let seq: u64 = href[start..].split('"').next().unwrap().parse().unwrap();
        let sealed = store.entry(seq).unwrap().unwrap();
        let statement = &sealed.entry().statement;
        assert_eq!(statement.kind, kind, "{id}");
        let field = kind.split('.').next().unwrap();
        assert_eq!(statement.body[field].as_str(), Some(id), "{id}");
    };
    let directives = get(&f.web, "/app/directives").await;
    let pack = get(&f.web, "/app/pack").await;
    let meetings = get(&f.web, "/app/meetings").await;
    for id in cycle.actions.keys() {
        made(&directives.text, id.as_str(), "action.assigned");
        made(&pack.text, id.as_str(), "action.assigned");
        made(&meetings.text, id.as_str(), "action.assigned");
    }
    for (id, d) in &cycle.directives {
        made(&directives.text, id.as_str(), "directive.issued");
        made(&pack.text, id.as_str(), "directive.issued");
        let scorecard = get(&f.web, &format!("/app/operators/{}", d.operator)).await;
        made(&scorecard.text, id.as_str(), "directive.issued");
    }
    for (id, e) in &cycle.escalations {
        if let Some(operator) = &e.operator {
            let scorecard = get(&f.web, &format!("/app/operators/{operator}")).await;
            made(&scorecard.text, id.as_str(), "escalation.recorded");
        }
    }
    // An entry's card links to its inclusion proof.
    let ledger = get(&f.web, "/app/ledger").await;
    let last = store.size() - 1;
    assert!(ledger
        .text
        .contains(&format!("/app/entries/{last}#inclusion-proof\"")));
    let entry = get(&f.web, &format!("/app/entries/{last}")).await;
    assert!(entry.text.contains("id=\"inclusion-proof\""));
}

#[tokio::test]
async fn an_entry_with_an_erased_field_says_which_and_by_which_entry() {
    let f = fixture();
    let view = f.web.view(None).unwrap();
    let erased = view
        .state
        .erased
        .first()
        .expect("the demo erases the note of the first report filed");
    let (field, by) = erased.fields.iter().next().unwrap();
    // The erasure is public (SPEC §12.9): every reader is told, on the entry and its card.
    for reader in [
        hisaab_model::view::Reader::Full,
        hisaab_model::view::Reader::Public,
    ] {
        let page = get_as(
            &f.web,
            &format!("/app/entries/{}", erased.seq),
            reader.clone(),
        )
        .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("id=\"erased\""), "{reader:?}");
        assert!(page
            .text
            .contains(&format!("<dt><code>{field}</code></dt>")));
        assert!(page
            .text
            .contains(&format!("/app/entries/{by}\">entry #{by}</a>")));
    }
    // The report's card in its KPI history says it too.
    let sealed = f.web.store().entry(erased.seq).unwrap().unwrap();
    let (operator, kpi) = view.ledger.subject_of(&sealed.entry().statement).unwrap();
    let history = get(&f.web, &format!("/app/operators/{operator}/kpis/{kpi}")).await;
    assert!(
        history.text.contains(&format!(
            "Erased: <code>{field}</code> (by <a href=\"/app/entries/{by}\">#{by}</a>)"
        )),
        "{}",
        history.text
    );
    // No other entry says so.
    let other = get(&f.web, &format!("/app/entries/{}", erased.seq + 1)).await;
    assert!(!other.text.contains("id=\"erased\""));
}
