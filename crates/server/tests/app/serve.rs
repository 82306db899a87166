//! `doorstep serve` as a process, and the demo data it can bring.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use doorstep_store::testing::TestDb;
use doorstep_store::{DeliveryStatus, OrderFilter, Store};

use crate::on_both_backends;

on_both_backends!(
    serve_prints_the_first_login_and_stops_cleanly_on_sigterm,
    sigterm_stops_serve_within_its_grace_even_with_requests_stuck_on_the_database,
    a_webhook_event_pending_at_kill_9_is_delivered_by_the_next_server,
    demo_data_is_realistic
);

async fn serve_prints_the_first_login_and_stops_cleanly_on_sigterm(backend: &str) {
    let db = TestDb::new(backend).await;
    let data = std::env::temp_dir().join(format!("doorstep-data-{}", uuid::Uuid::new_v4()));
    let (url, mut child, mut lines) = start_serve(
        &db,
        &data,
        &[("DOORSTEP_ADMIN_PASSWORD", "first admin password")],
    );
    let rest: Vec<String> = lines.by_ref().take(2).map(Result::unwrap).collect();
    assert!(
        rest[1].contains("login admin") && rest[1].contains("first admin password"),
        "{rest:?}"
    );
    assert!(data.is_dir(), "the data directory is created");

    let health: serde_json::Value = reqwest::get(format!("{url}healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");

    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "serve did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "a clean stop exits 0: {status:?}");
    let _ = std::fs::remove_dir_all(&data);
}

/// What `doorstep serve` prints after its first line.
type Printed = std::io::Lines<BufReader<std::process::ChildStdout>>;

/// `doorstep serve` on `db` with `env`: its URL, the process and what it
/// prints after its first line.
/// kill -9 between the commit and the delivery loses nothing: a change is
/// committed with its event, the server's first attempt is refused, the
/// server is killed, and the next server delivers the event — once.
async fn a_webhook_event_pending_at_kill_9_is_delivered_by_the_next_server(backend: &str) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url).await.unwrap();
    let (url, received, secret) = crate::events::receiver(1).await;
    let made = doorstep::webhooks::subscribe(&store, &url, "settings.changed", true, "test")
        .await
        .unwrap();
    secret.lock().unwrap().clone_from(&made.secret);
    let data = crate::helpers::DataDir::new();
    let (_, mut first, _lines) = start_serve(&db, &data.0, &[]);
    crate::events::rename(&store, "Before the kill").await;
    crate::events::wait_for(&received, Duration::from_secs(10), |r| r.refused == 1).await;
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(received.lock().unwrap().accepted.is_empty());
    let (_, mut second, _lines) = start_serve(&db, &data.0, &[]);
    // The retry is due 5 s after the refusal; the lease of the killed
    // server's job runs out within a minute at worst.
    crate::events::wait_for(&received, Duration::from_secs(75), |r| {
        r.accepted.len() == 1
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    {
        let got = received.lock().unwrap();
        assert_eq!(got.accepted.len(), 1, "delivered once");
        assert_eq!(got.accepted[0].1["type"], "settings.changed");
    }
    let _ = second.kill();
    let _ = second.wait();
}

fn start_serve(
    db: &TestDb,
    data: &std::path::Path,
    env: &[(&str, &str)],
) -> (String, std::process::Child, Printed) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_doorstep"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env("DOORSTEP_DATABASE", &db.url)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split("running at ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    (url, child, lines)
}

/// A request stuck on the database — another process holds the write lock
/// (SQLite) or the orders table (PostgreSQL) — does not keep `serve` alive
/// after SIGTERM past its grace period; while writes are stuck, health says
/// so (SQLite, whose one write connection they wait for).
async fn sigterm_stops_serve_within_its_grace_even_with_requests_stuck_on_the_database(
    backend: &str,
) {
    use sqlx::Connection;
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url).await.unwrap();
    let token = doorstep::security::new_secret("test");
    store
        .create_token(&doorstep_store::NewApiToken {
            name: "test",
            role: "integration",
            token_hash: &doorstep::security::secret_hash(&token),
            courier_id: None,
        })
        .await
        .unwrap();
    store.close().await;
    let data = std::env::temp_dir().join(format!("doorstep-data-{}", uuid::Uuid::new_v4()));
    let (url, mut child, lines) = start_serve(&db, &data, &[("DOORSTEP_SHUTDOWN_GRACE", "2")]);
    // Keep reading what it prints, so that it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    // The lock another process holds, for the whole test.
    #[allow(dead_code)] // held, never read: dropping it releases the lock
    enum Holder {
        Sqlite(sqlx::SqliteConnection),
        Postgres(sqlx::PgConnection),
    }
    let _holder = if backend == "sqlite" {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::raw_sql("BEGIN IMMEDIATE")
            .execute(&mut c)
            .await
            .unwrap();
        Holder::Sqlite(c)
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::raw_sql("BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
            .execute(&mut c)
            .await
            .unwrap();
        Holder::Postgres(c)
    };
    let client = reqwest::Client::new();
    let stuck: Vec<_> = (0..4)
        .map(|i| {
            let (client, url, token) = (client.clone(), url.clone(), token.clone());
            tokio::spawn(async move {
                let body = serde_json::json!([crate::helpers::order_json(
                    &format!("S-{i}"),
                    "+79161234567",
                    "K-1"
                )]);
                let _ = client
                    .post(format!("{url}api/v1/orders"))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await;
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    if backend == "sqlite" {
        let health = client.get(format!("{url}healthz")).send().await.unwrap();
        assert_eq!(health.status(), 503, "writes are stuck, and health says so");
    }
    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "serve did not stop within its 2 s grace (and the close after it)"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for s in stuck {
        s.abort();
    }
    let _ = std::fs::remove_dir_all(&data);
}

/// Chance alone never makes an honest demo courier a suspect: over several
/// seeds (the demo's data also moves with the day it is loaded on), the
/// signals name the self-filler and nobody else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_signals_name_only_the_self_filler_whatever_the_seed() {
    for seed in 1..=5 {
        let db = TestDb::new("sqlite").await;
        let store = Store::connect(&db.url).await.unwrap();
        let files = crate::helpers::DataDir::new();
        doorstep::demo::load(&store, seed, &files.0).await.unwrap();
        let tz = store.deployment().await.unwrap().tz();
        let patterns = store.courier_patterns(0, 1_000_000, &tz).await.unwrap();
        let flagged: Vec<_> = doorstep_domain::survey::signals::assess(&patterns)
            .into_iter()
            .filter(|a| !a.signals.is_empty())
            .map(|a| (a.pattern.courier_id, a.signals))
            .collect();
        assert_eq!(flagged.len(), 1, "seed {seed}: {flagged:?}");
        assert_eq!(
            flagged[0].0,
            doorstep::demo::surveys::SELF_FILLING_COURIER,
            "seed {seed}"
        );
    }
}

async fn demo_data_is_realistic(backend: &str) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url).await.unwrap();
    let files = crate::helpers::DataDir::new();
    let summary = doorstep::demo::load(&store, 7, &files.0).await.unwrap();
    assert!(summary.orders >= 20_000 && summary.couriers >= 40 && summary.partners >= 5);
    assert!(
        summary.responses >= 10_000,
        "tens of thousands of answers: {} responses",
        summary.responses
    );
    assert_eq!(
        store.count_responses().await.unwrap(),
        (summary.responses + summary.helpdesk.ratings) as i64,
        "the door surveys' answers and the ratings of support"
    );
    assert!(summary.helpdesk.ratings > 30, "{:?}", summary.helpdesk);
    // The demo's three door surveys (one the recording pilot), the
    // mystery shoppers' inspection and the built-in support survey.
    assert_eq!(store.surveys().await.unwrap().len(), 5);
    // The door's other records: recordings in the pilot city (their files
    // kept like uploads), refusals with reasons, inspections of couriers.
    let door = &summary.door;
    assert!(
        door.recordings >= 20 && door.refusals >= 200 && door.inspections >= 80,
        "{door:?}"
    );
    let inspected = store.inspection_answers(None, 0, i64::MAX).await.unwrap();
    assert!(
        inspected.len() >= door.inspections * 4,
        "{}",
        inspected.len()
    );
    // The courier who fills in his own surveys is the one the signals name first.
    let patterns: Vec<doorstep_domain::survey::signals::Pattern> = store
        .courier_patterns(0, 1_000_000, &store.deployment().await.unwrap().tz())
        .await
        .unwrap();
    let assessed = doorstep_domain::survey::signals::assess(&patterns);
    assert_eq!(
        assessed[0].pattern.courier_id,
        doorstep::demo::surveys::SELF_FILLING_COURIER
    );
    let kinds: Vec<_> = assessed[0].signals.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds.len(),
        5,
        "fast, late, all 10s, the same answers, recordings agreed to and never made: {:?}",
        assessed[0]
    );
    assert!(kinds.contains(&doorstep_domain::survey::signals::Kind::Same));
    assert!(kinds.contains(&doorstep_domain::survey::signals::Kind::NoRecordings));
    // Late delivery is the cause detractors name most.
    let mut causes = store
        .cause_counts(&doorstep_store::survey::rollups::MetricsFilter {
            from_day: i64::MIN / 2,
            to_day: i64::MAX / 2,
            from_ms: i64::MIN / 2,
            to_ms: i64::MAX / 2,
            ..Default::default()
        })
        .await
        .unwrap();
    causes.sort_by_key(|c| std::cmp::Reverse(c.detractors));
    assert_eq!(causes[0].cause_id, "late", "{causes:?}");
    assert!(
        causes[0].detractors * 2 > causes[1].detractors * 3,
        "{causes:?}"
    );
    assert!(
        assessed.iter().filter(|a| !a.signals.is_empty()).count() == 1,
        "the others look honest: {:?}",
        assessed
            .iter()
            .filter(|a| !a.signals.is_empty())
            .map(|a| (&a.pattern.courier_id, &a.signals))
            .collect::<Vec<_>>()
    );
    assert_eq!(store.count_orders().await.unwrap(), summary.orders as i64);
    // Every ranking by courier marks the self-filler, and only him, and
    // ranks by the adjusted bound, which never collapses to a point.
    let deployment = store.deployment().await.unwrap();
    let today = jiff::Timestamp::now().to_zoned(deployment.tz()).date();
    let year_ago = today.checked_sub(jiff::Span::new().days(400)).unwrap();
    let ranking = doorstep::app::survey::metrics::compute(
        &store,
        &deployment,
        &doorstep::app::survey::metrics::Request::new(
            year_ago,
            today,
            doorstep_store::survey::rollups::GroupBy::Courier,
        ),
    )
    .await
    .unwrap();
    let marked: Vec<(&str, &Vec<&str>)> = ranking
        .groups
        .iter()
        .filter(|g| !g.self_filling_signals.is_empty())
        .map(|g| (g.key.as_str(), &g.self_filling_signals))
        .collect();
    assert_eq!(marked.len(), 1, "{marked:?}");
    assert_eq!(marked[0].0, doorstep::demo::surveys::SELF_FILLING_COURIER);
    assert!(marked[0].1.contains(&"tens"), "{marked:?}");
    let ranked: Vec<_> = ranking.groups.iter().filter(|g| g.rank.is_some()).collect();
    assert!(ranked.len() > 30);
    for pair in ranked.windows(2) {
        let (a, b) = (&pair[0].scores, &pair[1].scores);
        assert!(
            a.nps_rank_low >= b.nps_rank_low,
            "ranked by the adjusted bound"
        );
        assert!(a.nps_rank_low.unwrap() < 100.0, "never collapses to +100");
    }
    demo_helpdesk_is_realistic(&store, &summary).await;
    let zones: std::collections::HashSet<String> = store
        .cities()
        .await
        .unwrap()
        .into_iter()
        .map(|(_, tz)| tz)
        .collect();
    assert!(
        zones.len() >= 3,
        "cities in different time zones: {zones:?}"
    );
    let late = OrderFilter {
        status: Some(DeliveryStatus::DeliveredLate),
        ..OrderFilter::default()
    };
    let late = store.search_orders(&late, 1, 0).await.unwrap().total;
    assert!(
        late > 500 && late < 5000,
        "some orders late, most on time: {late}"
    );
    let page = store
        .search_orders(&OrderFilter::default(), 200, 0)
        .await
        .unwrap();
    assert!(
        page.orders
            .iter()
            .any(|o| o.segment() == doorstep_domain::Segment::Repeat),
        "repeat customers"
    );
    assert!(
        page.orders
            .iter()
            .all(|o| o.customer_name.as_deref().is_some_and(|n| n.contains(' '))),
        "real-looking names"
    );

    // The same seed gives the same company.
    if backend == "sqlite" {
        let other = TestDb::sqlite();
        let again = Store::connect(&other.url).await.unwrap();
        let files = crate::helpers::DataDir::new();
        doorstep::demo::load(&again, 7, &files.0).await.unwrap();
        let a = store.order("D-100500").await.unwrap().unwrap();
        let b = again.order("D-100500").await.unwrap().unwrap();
        assert_eq!(
            (a.customer_phone, a.courier_id, a.promised_from),
            (b.customer_phone, b.courier_id, b.promised_from)
        );
    }
}

/// The demo's helpdesk: a live queue with claimed incidents and failed
/// call-backs, cases in every state, channel and line, remedies with one
/// reversed and one waiting, faults, and exactly one customer whose claims
/// look like abuse.
async fn demo_helpdesk_is_realistic(store: &Store, summary: &doorstep::demo::Summary) {
    use doorstep_domain::helpdesk::cases::{CaseChannel, CaseStatus, Line};
    use doorstep_store::helpdesk::cases::{CaseFilter, CaseView};
    use doorstep_store::helpdesk::incidents::IncidentFilter;
    let h = &summary.helpdesk;
    assert!(h.incidents > 500 && h.open_incidents >= 5, "{h:?}");
    let live = store
        .incidents(&IncidentFilter {
            status: None,
            city: None,
            limit: 1000,
        })
        .await
        .unwrap();
    assert!(live.iter().any(|i| i.status == "claimed"), "some claimed");
    assert!(
        live.iter().any(|i| i.attempts > 0),
        "some called without an answer"
    );
    let mut every = CaseFilter::new(CaseView::All);
    every.search = None;
    every.limit = 1000;
    let mut all = Vec::new();
    for status in CaseStatus::ALL {
        every.status = Some(status.as_str().to_owned());
        let found = store.cases(&every).await.unwrap();
        assert!(!found.is_empty(), "a case {status}");
        all.extend(found);
    }
    for channel in CaseChannel::ALL
        .iter()
        .filter(|c| !matches!(c.as_str(), "terminal"))
    {
        assert!(
            all.iter().any(|k| k.channel == channel.as_str()),
            "a case by {channel}"
        );
    }
    for line in Line::ALL {
        assert!(
            all.iter().any(|k| k.line == line.as_str()),
            "a case of the {line} line"
        );
    }
    assert!(
        all.iter().any(|k| k.handed_to.is_some()),
        "faults handed to departments"
    );
    assert_eq!(
        store.pending_count().await.unwrap(),
        1,
        "one waits for approval"
    );
    let mut statuses = std::collections::HashSet::new();
    let mut phones: Vec<String> = Vec::new();
    for k in &all {
        for r in store.case_remedies(&k.id).await.unwrap() {
            statuses.insert(r.status);
        }
        if let Some(p) = &k.customer_phone {
            if !phones.contains(p) {
                phones.push(p.clone());
            }
        }
    }
    for s in [
        "applied",
        "requested",
        "done",
        "failed",
        "reversed",
        "pending_approval",
    ] {
        assert!(statuses.contains(s), "a remedy {s}: {statuses:?}");
    }
    let everyone = store.population_claims().await.unwrap();
    let mut flagged: Vec<String> = Vec::new();
    for phone in &phones {
        let c = store.customer_claims(phone).await.unwrap();
        if doorstep_domain::helpdesk::claims::assess(
            c.claims as u64,
            c.delivered as u64,
            everyone.claims as u64,
            everyone.delivered as u64,
        )
        .is_some()
        {
            flagged.push(phone.clone());
        }
    }
    assert_eq!(
        flagged.len(),
        1,
        "one customer's claims look like abuse: {flagged:?}"
    );

    // Open cases under every SLA state, whatever the time of day (once the
    // SLA job has looked at them).
    store.judge_due_cases().await.unwrap();
    let open = store.cases(&CaseFilter::new(CaseView::All)).await.unwrap();
    let states: std::collections::HashSet<&str> =
        open.iter().filter_map(|k| k.sla_state.as_deref()).collect();
    for state in ["within", "at_risk", "breached", "paused"] {
        assert!(states.contains(state), "an open case {state}: {states:?}");
    }
    // Ninety days of support with a believable shape.
    let tz = store.deployment().await.unwrap().tz();
    let today = doorstep_domain::time::local_day(doorstep_store::now_millis(), &tz).0;
    let figures = store
        .support_counts(
            today - 90,
            today,
            &tz,
            &doorstep_store::helpdesk::support::SupportGroups::Line,
        )
        .await
        .unwrap();
    let c = &figures["customers"];
    let share = |part: i64, whole: i64| part as f64 / whole.max(1) as f64;
    assert!(c.resolved > 100, "{c:?}");
    // FCR over the resolved cases a customer contacted about (those
    // opened to tell a late customer first, who never wrote, are neither).
    assert!(c.resolved_contacted < c.resolved, "{c:?}");
    let fcr = share(c.fcr, c.resolved_contacted);
    assert!((0.6..0.95).contains(&fcr), "FCR {fcr}: {c:?}");
    let first = share(c.first_response_met, c.first_response_due);
    assert!(
        (0.6..0.99).contains(&first),
        "first replies in time {first}: {c:?}"
    );
    assert!(c.repeat_customers > 0 && c.csat_answers > 30, "{c:?}");
    assert!(figures.contains_key("couriers"), "{figures:?}");

    // Calls for both lines, whose morning peak misses 80/20 while the
    // afternoon keeps it.
    assert!(summary.calls > 5_000, "{} calls", summary.calls);
    let today = jiff::Timestamp::now().to_zoned(tz.clone()).date();
    let hours = doorstep::app::calls::figures(
        store,
        &tz,
        &doorstep::app::calls::CallsRequest {
            from: today.checked_sub(jiff::Span::new().days(30)).unwrap(),
            to: today,
            line: None,
            group: doorstep::app::calls::CallGrouping::Hour,
        },
    )
    .await
    .unwrap();
    let level = |h: usize| hours.groups[h].service_level.unwrap_or(0.0);
    assert!(level(9) < 80.0 && level(10) < 80.0, "{:?}", hours.groups[9]);
    assert!(
        level(14) > 80.0 && level(15) > 80.0,
        "{:?}",
        hours.groups[14]
    );
    let lines = store.call_queue_lines().await.unwrap();
    assert!(
        lines.contains(&("couriers".to_owned(), "couriers".to_owned())),
        "{lines:?}"
    );
}
