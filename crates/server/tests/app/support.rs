//! Support figures and SLA breaches through the real server: cases with a
//! history (opened, answered, resolved at known times), the SLA job run by
//! two servers at once telling each breach once, and
//! `GET /api/v1/support/metrics` by line, channel and day.

use doorstep_domain::helpdesk::cases::{CaseStatus, Direction};
use doorstep_store::helpdesk::as_of;
use doorstep_store::helpdesk::cases::{Case, NewCase, NewContact};
use doorstep_store::helpdesk::Actor;
use doorstep_store::Store;
use serde_json::Value;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    support_figures_count_each_fact_in_its_own_period,
    support_days_agree_with_the_cases_whatever_runs_at_once,
    an_admin_sets_a_lines_hours_and_open_cases_follow
);

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

const OPERATOR: Actor<'static> = Actor {
    id: "u-op",
    login: "olga",
    overrides: true,
};

/// Opens a case at `at` as the customer's contact.
async fn open(
    store: &Store,
    at: i64,
    channel: &str,
    category: &str,
    order: &str,
    phone: &str,
) -> Case {
    let new = NewCase {
        channel,
        line: "customers",
        category,
        priority: "normal",
        order_number: Some(order),
        customer_phone: Some(phone),
        text: "Where is my order?",
        external_id: None,
        direction: Direction::Inbound,
        author: "crm",
        incident_id: None,
        conversation: None,
    };
    as_of(at, store.open_case(&new))
        .await
        .unwrap()
        .case()
        .clone()
}

/// An operator's reply at `at`.
async fn reply(store: &Store, at: i64, case: &Case) {
    let contact = NewContact {
        channel: &case.channel,
        direction: Direction::Outbound,
        text: "We are on it.",
        author: "olga",
        external_id: None,
        by_person: true,
        attachment_id: None,
        follows_previous: false,
    };
    let (changed, _) = as_of(at, store.add_contact(&case.id, &contact))
        .await
        .unwrap();
    changed.expect("the reply is taken");
}

async fn resolve(store: &Store, at: i64, case: &Case) {
    as_of(
        at,
        store.set_case_status(&case.id, CaseStatus::Resolved, OPERATOR),
    )
    .await
    .unwrap()
    .expect("resolved");
}

fn moscow(text: &str) -> i64 {
    let dt: jiff::civil::DateTime = text.parse().unwrap();
    dt.to_zoned(jiff::tz::TimeZone::get("Europe/Moscow").unwrap())
        .unwrap()
        .timestamp()
        .as_millisecond()
}

fn group<'a>(answer: &'a Value, key: &str) -> &'a Value {
    answer["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == key)
        .unwrap_or_else(|| panic!("no group {key} in {answer}"))
}

/// A: chat, answered in 2 minutes, resolved in an hour, then repeated by
/// the same customer two days later (C, about another late order) — so
/// not resolved at the first contact. B: e-mail answered after two hours
/// (its hour missed), resolved in five (within eight), at the first
/// contact. C: never answered — the SLA job finds both its deadlines
/// missed and tells it once, though two servers run the job at once.
async fn support_figures_count_each_fact_in_its_own_period(backend: &str) {
    let a = TestApp::spawn(backend).await;
    let b = a.beside().await;
    let t0 = moscow("2026-11-02T10:00");
    let case_a = open(&a.store, t0, "chat", "late", "A-1", "+79160000001").await;
    reply(&a.store, t0 + 2 * MIN, &case_a).await;
    resolve(&a.store, t0 + HOUR, &case_a).await;
    let case_b = open(
        &a.store,
        t0 + 10 * MIN,
        "email",
        "damaged",
        "A-2",
        "+79160000002",
    )
    .await;
    reply(&a.store, t0 + 10 * MIN + 2 * HOUR, &case_b).await;
    resolve(&a.store, t0 + 5 * HOUR, &case_b).await;
    let case_c = open(
        &a.store,
        t0 + 48 * HOUR,
        "chat",
        "late",
        "A-3",
        "+79160000001",
    )
    .await;
    assert_eq!(
        case_c.repeat_of.as_deref(),
        Some(case_a.id.as_str()),
        "C repeats A"
    );

    let judged = a.store.case(&case_b.id).await.unwrap().unwrap();
    assert_eq!(
        (
            judged.first_response_met,
            judged.resolution_met,
            judged.first_response_ms
        ),
        (Some(false), Some(true), Some(2 * HOUR)),
        "B's late reply and timely resolution are on the case"
    );
    assert_eq!(judged.sla_state.as_deref(), Some("breached"));

    // The SLA job on both servers at once: C is judged, its breach told once.
    let before = a.store.last_event_id().await.unwrap();
    for _ in 0..2 {
        let (here, there) = tokio::join!(a.store.judge_due_cases(), b.store.judge_due_cases());
        here.unwrap();
        there.unwrap();
    }
    let c = a.store.case(&case_c.id).await.unwrap().unwrap();
    assert_eq!(c.sla_state.as_deref(), Some("breached"));
    assert_eq!(
        (c.first_response_met, c.resolution_met),
        (Some(false), Some(false))
    );
    // The background job may have told it too: count every event, once
    // they are numbered (PostgreSQL numbers them just after the commit).
    let told = || async {
        a.store
            .events_after(0, 10_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.name == "case.sla_breached" && e.data.contains(&case_c.id))
            .count()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while told().await == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        told().await,
        1,
        "C's breach told once (events after {before})"
    );

    let integration = a.token("integration", None).await;
    let (status, by_line) = a
        .get_json(
            "/api/v1/support/metrics?from=2026-11-02&to=2026-11-08&group_by=line",
            &integration,
        )
        .await;
    assert_eq!(status, 200, "{by_line}");
    let customers = group(&by_line, "customers");
    assert_eq!(
        (customers["cases"].as_i64(), customers["resolved"].as_i64()),
        (Some(3), Some(2)),
        "{by_line}"
    );
    // B at the first contact; A was repeated.
    assert_eq!(customers["fcr"].as_f64(), Some(50.0), "{by_line}");
    // Two customers wrote; one came back about the same problem.
    assert_eq!(customers["repeat_contact_rate"].as_f64(), Some(50.0));
    // First replies: A in time, B and C late. Resolutions: A, B in time, C late.
    assert_eq!(customers["first_response_attainment"].as_f64(), Some(33.3));
    assert_eq!(customers["resolution_attainment"].as_f64(), Some(66.7));
    // The median of 120 s and 7,200 s.
    assert_eq!(
        customers["median_first_response_seconds"].as_i64(),
        Some(3660)
    );
    assert_eq!(
        customers["csat"],
        Value::Null,
        "no satisfaction answers yet"
    );

    let (_, by_channel) = a
        .get_json(
            "/api/v1/support/metrics?from=2026-11-02&to=2026-11-08&group_by=channel",
            &integration,
        )
        .await;
    assert_eq!(
        group(&by_channel, "email")["first_response_attainment"].as_f64(),
        Some(0.0)
    );
    assert_eq!(group(&by_channel, "chat")["cases"].as_i64(), Some(2));

    let (_, by_day) = a
        .get_json(
            "/api/v1/support/metrics?from=2026-11-02&to=2026-11-08&group_by=day",
            &integration,
        )
        .await;
    let days = by_day["groups"].as_array().unwrap();
    assert_eq!(days.len(), 7, "every day of the range: {by_day}");
    assert_eq!(
        (
            group(&by_day, "2026-11-02")["cases"].as_i64(),
            group(&by_day, "2026-11-02")["resolved"].as_i64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(group(&by_day, "2026-11-04")["cases"].as_i64(), Some(1));
    assert_eq!(group(&by_day, "2026-11-03")["cases"].as_i64(), Some(0));

    // Counted from the days' rows once they are built, the figures are
    // the same; a change after the build (A rated) counts at once, and
    // again once its days are built anew.
    let paths = ["line", "channel", "operator", "category", "day", "week"]
        .map(|g| format!("/api/v1/support/metrics?from=2026-11-01&to=2026-11-08&group_by={g}"));
    let mut raw = Vec::new();
    for path in &paths {
        raw.push(a.get_json(path, &integration).await.1);
    }
    let tz = a.store.deployment().await.unwrap().tz();
    let built = a
        .store
        .build_support_days(&tz, doorstep_store::now_millis(), |_, _| {})
        .await
        .unwrap();
    assert!(built >= 34, "every day since the first case: {built}");
    for (path, raw) in paths.iter().zip(&raw) {
        let (_, from_days) = a.get_json(path, &integration).await;
        assert_eq!(&from_days, raw, "{path}");
    }
    // (The rows answer, not the cases: a change made behind the store's
    // back, which does not mark the case changed, is not seen.)
    let recategorize = |category: &'static str| {
        doorstep_store::db::sql("UPDATE cases SET category = $1 WHERE id = $2")
            .bind(category)
            .bind(case_a.id.as_str())
    };
    a.store.db().exec(recategorize("other")).await.unwrap();
    assert_eq!(a.get_json(&paths[3], &integration).await.1, raw[3]);
    a.store.db().exec(recategorize("late")).await.unwrap();
    as_of(moscow("2026-11-03T09:00"), a.store.rate_case(&case_a.id, 2))
        .await
        .unwrap()
        .expect("rated");
    for round in ["before", "after"] {
        let (_, by_day) = a.get_json(&paths[4], &integration).await;
        let rated = group(&by_day, "2026-11-03");
        assert_eq!(
            (rated["csat_answers"].as_i64(), rated["csat"].as_f64()),
            (Some(1), Some(0.0)),
            "{round} the days are built again: {by_day}"
        );
        let (_, by_line) = a.get_json(&paths[0], &integration).await;
        assert_eq!(group(&by_line, "customers")["cases"].as_i64(), Some(3));
        a.store
            .build_support_days(&tz, doorstep_store::now_millis(), |_, _| {})
            .await
            .unwrap();
    }

    // The same figures on the console's page, for the dispatch desk only.
    let dispatcher = a.signed_in("dispatcher").await;
    let page = a
        .page(
            &dispatcher,
            "/support?from=2026-11-02&to=2026-11-08&group_by=channel",
        )
        .await;
    assert!(
        page.contains("Service figures") && page.contains("33.3%") && page.contains("50.0%"),
        "{page}"
    );
    assert!(page.contains("<svg"), "the weekly trend is drawn");
    let operator = a.signed_in("operator").await;
    let r = operator.get(a.at("/support")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    // And on the dashboard, beside the scores, for anyone who reads it;
    // the breakdown a click away for those who may open it.
    let dashboard = a
        .page(&operator, "/dashboard?from=2026-11-02&to=2026-11-08")
        .await;
    let service = &dashboard[dashboard
        .find("Service figures")
        .expect("the service figures")..];
    assert!(
        service.contains("33.3%") && service.contains("66.7%") && service.contains("50.0%"),
        "{service}"
    );
    assert!(
        !service.contains("href=\"/support?"),
        "quality may not open /support"
    );
    let quality = a.signed_in("quality").await;
    let dashboard = a
        .page(&quality, "/dashboard?from=2026-11-02&to=2026-11-08")
        .await;
    assert!(dashboard.contains("href=\"/support?from=2026-11-02&#38;to=2026-11-08\""));

    // Bad input names its parameter; a terminal's token is refused.
    let (status, problem) = a
        .get_json("/api/v1/support/metrics?group_by=courier", &integration)
        .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "group_by", "{problem}");
    let terminal = a.token("terminal", None).await;
    let (status, _) = a.get_json("/api/v1/support/metrics", &terminal).await;
    assert_eq!(status, 403);
}

/// The days' rows never disagree with the cases: two servers answer,
/// take, resolve and rate cases of past days while both build the days
/// over and over; every grouping then reads the same from the rows as
/// from the cases alone, and again after one more build.
async fn support_days_agree_with_the_cases_whatever_runs_at_once(backend: &str) {
    use doorstep_store::helpdesk::support::SupportGroups;

    let a = TestApp::spawn(backend).await;
    let b = a.beside().await;
    let t0 = moscow("2026-11-09T10:00");
    let mut cases = Vec::new();
    for i in 0..16_i64 {
        let channel = ["chat", "email", "phone", "messenger"][(i % 4) as usize];
        let category = ["late", "damaged", "other"][(i % 3) as usize];
        let phone = format!("+7916100000{}", i % 6);
        let order = format!("D-{i}");
        cases.push(
            open(
                &a.store,
                t0 + i * 9 * HOUR,
                channel,
                category,
                &order,
                &phone,
            )
            .await,
        );
    }
    let tz = a.store.deployment().await.unwrap().tz();
    let now = doorstep_store::now_millis();
    a.store
        .build_support_days(&tz, now, |_, _| {})
        .await
        .unwrap();

    let work = |store: Store, half: i64| {
        let cases = cases.clone();
        async move {
            for (i, case) in (0_i64..).zip(&cases).filter(|(i, _)| i % 2 == half) {
                let taker = Actor {
                    id: if half == 0 { "u-a" } else { "u-b" },
                    login: if half == 0 { "anna" } else { "boris" },
                    overrides: true,
                };
                as_of(
                    case.created_at + MIN,
                    store.assign_case(&case.id, taker, taker),
                )
                .await
                .unwrap()
                .expect("taken");
                reply(&store, case.created_at + (i + 1) * 7 * MIN, case).await;
                if i % 3 != 0 {
                    resolve(&store, case.created_at + 30 * HOUR, case).await;
                    as_of(
                        case.created_at + 31 * HOUR,
                        store.rate_case(&case.id, i % 5 + 1),
                    )
                    .await
                    .unwrap();
                }
            }
        }
    };
    let build = |store: Store| {
        let tz = tz.clone();
        async move {
            for _ in 0..8 {
                store.build_support_days(&tz, now, |_, _| {}).await.unwrap();
            }
        }
    };
    tokio::join!(
        work(a.store.clone(), 0),
        work(b.store.clone(), 1),
        build(a.store.clone()),
        build(b.store.clone())
    );

    let today = doorstep_domain::time::local_day(now, &tz).0;
    let first = doorstep_domain::time::local_day(t0, &tz).0 - 1;
    let groupings = [
        SupportGroups::Line,
        SupportGroups::Channel,
        SupportGroups::Operator,
        SupportGroups::Category,
        SupportGroups::Periods((first..=today).map(|d| (d, d)).collect()),
        SupportGroups::Periods(vec![(first, today)]),
    ];
    let read = |store: Store| {
        let tz = tz.clone();
        let groupings = groupings.clone();
        async move {
            let mut out = Vec::new();
            for g in &groupings {
                out.push(store.support_counts(first, today, &tz, g).await.unwrap());
            }
            out
        }
    };
    let from_rows = read(a.store.clone()).await;
    let all = &from_rows[5]["0"];
    assert_eq!((all.cases, all.resolved), (16, 10), "{all:?}");
    assert_eq!(all.csat_answers, 10, "{all:?}");
    assert_eq!(from_rows[2].len(), 2, "two operators: {:?}", from_rows[2]);
    a.store.forget_support_days().await.unwrap();
    let from_cases = read(a.store.clone()).await;
    assert_eq!(from_rows, from_cases);
    a.store
        .build_support_days(&tz, now, |_, _| {})
        .await
        .unwrap();
    assert_eq!(read(b.store.clone()).await, from_cases);

    // Each kind of change alone, right after a build, is seen at once:
    // resolving, rating, taking a case, a repeat that turns an earlier
    // case's first-contact resolution, erasing a customer.
    let check = |what: &'static str| {
        let store = a.store.clone();
        let tz = tz.clone();
        async move {
            let from_rows = read(store.clone()).await;
            store.forget_support_days().await.unwrap();
            assert_eq!(from_rows, read(store.clone()).await, "after {what}");
            store.build_support_days(&tz, now, |_, _| {}).await.unwrap();
        }
    };
    let open_case = &cases[0];
    resolve(&a.store, open_case.created_at + 40 * HOUR, open_case).await;
    check("resolving").await;
    as_of(
        open_case.created_at + 41 * HOUR,
        a.store.rate_case(&open_case.id, 5),
    )
    .await
    .unwrap()
    .expect("rated");
    check("rating").await;
    let other = Actor {
        id: "u-c",
        login: "clara",
        overrides: true,
    };
    as_of(
        cases[3].created_at + 2 * HOUR,
        a.store.assign_case(&cases[3].id, other, other),
    )
    .await
    .unwrap()
    .expect("taken");
    check("taking").await;
    let again = open(
        &a.store,
        open_case.created_at + 60 * HOUR,
        "chat",
        "late",
        "D-again",
        open_case.customer_phone.as_deref().unwrap(),
    )
    .await;
    assert!(
        again.repeat_of.is_some(),
        "a repeat of the customer's earlier cases"
    );
    check("a repeat").await;
    a.store
        .erase_customer(doorstep_store::Erasee::Phone(
            open_case.customer_phone.as_deref().unwrap(),
        ))
        .await
        .unwrap();
    check("erasing").await;
}

/// An admin gives the couriers line office hours and a slower e-mail
/// promise in Settings; a mistyped day is refused with the day named and
/// what was typed kept; an open case is judged again under the new hours;
/// an operator may not reach the page.
async fn an_admin_sets_a_lines_hours_and_open_cases_follow(backend: &str) {
    let a = TestApp::spawn(backend).await;
    let admin = a.signed_in("admin").await;
    let csrf = a.csrf(&admin).await;
    let mut form: Vec<(String, String)> = vec![
        ("csrf".into(), csrf.clone()),
        ("line".into(), "couriers".into()),
        ("holidays".into(), "2027-01-01".into()),
        ("first_email".into(), "120".into()),
    ];
    for day in 0..5 {
        form.push((format!("day{day}"), "09:00-13:00, 14:00-18:00".into()));
    }
    form.push(("day5".into(), "10:00-25:00".into()));
    let refused = admin
        .post(a.at("/settings/sla"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 200);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("Saturday") && page.contains("not a time"),
        "the day named: {page}"
    );
    assert!(page.contains("10:00-25:00"), "what was typed is kept");
    form.retain(|(k, _)| k != "day5");
    let saved = admin
        .post(a.at("/settings/sla"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303, "{}", saved.text().await.unwrap());
    let setup = a.store.sla_setup().await.unwrap();
    let sla = setup.line("couriers");
    assert_eq!(sla.week.len(), 7);
    assert!(
        sla.week[5].is_empty() && sla.week[6].is_empty(),
        "weekends off"
    );
    assert_eq!(
        sla.policy(
            doorstep_domain::helpdesk::cases::CaseChannel::Email,
            doorstep_domain::helpdesk::alerts::Priority::Normal
        )
        .first_response_ms,
        120 * MIN
    );
    let shown = a.page(&admin, "/settings/sla").await;
    assert!(shown.contains("09:00-13:00, 14:00-18:00") && shown.contains("2027-01-01"));

    // An e-mail to the couriers line on Friday at 17:30 is due on Monday
    // at 10:30 (30 minutes on Friday, 90 on Monday).
    let friday = moscow("2027-01-08T17:30");
    let new = NewCase {
        channel: "email",
        line: "couriers",
        category: "other",
        priority: "normal",
        order_number: None,
        customer_phone: Some("+79160000009"),
        text: "My payout is missing",
        external_id: None,
        direction: Direction::Inbound,
        author: "crm",
        incident_id: None,
        conversation: None,
    };
    let case = as_of(friday, a.store.open_case(&new))
        .await
        .unwrap()
        .case()
        .clone();
    assert_eq!(case.first_response_due_at, Some(moscow("2027-01-11T10:30")));
    // Open all the time now: the open case is looked at again at once.
    let always = vec![
        ("csrf".to_owned(), csrf),
        ("line".to_owned(), "couriers".to_owned()),
        ("always".to_owned(), "on".to_owned()),
        ("first_email".to_owned(), "120".to_owned()),
    ];
    let saved = admin
        .post(a.at("/settings/sla"))
        .form(&always)
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303);
    let due = a.store.case(&case.id).await.unwrap().unwrap().sla_check_at;
    assert!(due.is_some(), "queued for the SLA job");
    as_of(friday + MIN, a.store.judge_due_cases())
        .await
        .unwrap();
    let case = a.store.case(&case.id).await.unwrap().unwrap();
    assert_eq!(case.first_response_due_at, Some(friday + 120 * MIN));

    let operator = a.signed_in("operator").await;
    let r = operator.get(a.at("/settings/sla")).send().await.unwrap();
    assert_eq!(r.status(), 403);
}
