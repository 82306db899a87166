//! The store's contract, told once and run on every backend.

use doorstep_domain::{Country, OrderInput, OrderRecord};
use doorstep_store::testing::TestDb;
use doorstep_store::{BatchOutcome, OrderFilter, Store};
use jiff::tz::TimeZone;

fn order(number: &str, phone: &str, from: &str) -> OrderRecord {
    OrderInput {
        order_number: Some(number.into()),
        customer_phone: Some(phone.into()),
        customer_name: Some("Анна Петрова".into()),
        city: Some("Москва".into()),
        partner: Some("Лавка".into()),
        courier_id: Some("C-1".into()),
        courier_name: Some("Иван".into()),
        promised_from: Some(from.into()),
        promised_to: Some(from.replace("10:00", "11:00")),
        amount: Some("100".into()),
        ..OrderInput::default()
    }
    .validate(
        &TimeZone::get("Europe/Moscow").unwrap(),
        Country::from_code("RU").unwrap(),
    )
    .unwrap()
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { super::$name("sqlite").await } )* }
        mod postgres { $( #[tokio::test] async fn $name() { super::$name("postgres").await } )* }
    };
}

on_both_backends!(
    upsert_counts_and_segments,
    search_filters,
    accounts_and_tokens,
    settings_round_trip,
    processes_starting_at_once_on_a_fresh_database_all_start,
    the_first_admin_is_made_once_however_many_start_at_once,
    responses_stored_twice_by_older_versions_are_removed_once_by_the_upgrade,
    the_courier_rollup_gains_its_dimensions_by_an_upgrade
);

async fn upsert_counts_and_segments(backend: &str) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url).await.unwrap();
    let batch = vec![
        order("A-2", "89161234567", "02.11.2026 10:00"),
        order("A-1", "+7 916 123-45-67", "01.11.2026 10:00"),
        order("B-1", "89160000000", "01.11.2026 10:00"),
    ];
    let first = BatchOutcome::of(&store.upsert_orders(&batch, "Europe/Moscow").await.unwrap());
    assert_eq!((first.inserted, first.updated, first.unchanged), (3, 0, 0));
    let again = BatchOutcome::of(&store.upsert_orders(&batch, "Europe/Moscow").await.unwrap());
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 3));

    let a1 = store.order("A-1").await.unwrap().unwrap();
    let a2 = store.order("A-2").await.unwrap().unwrap();
    assert_eq!(
        (a1.segment().as_str(), a2.segment().as_str()),
        ("new", "repeat")
    );
    assert_eq!(a1.customer_phone, "+79161234567");
    assert_eq!(a1.courier_name.as_deref(), Some("Иван"));

    // An earlier order arriving later makes it the first one.
    let mut earlier = order("A-0", "89161234567", "20.10.2026 10:00");
    earlier.amount = None;
    let third = BatchOutcome::of(
        &store
            .upsert_orders(&[earlier], "Europe/Moscow")
            .await
            .unwrap(),
    );
    assert_eq!(third.inserted, 1);
    assert_eq!(
        store
            .order("A-1")
            .await
            .unwrap()
            .unwrap()
            .segment()
            .as_str(),
        "repeat"
    );
    assert_eq!(
        store
            .order("A-0")
            .await
            .unwrap()
            .unwrap()
            .segment()
            .as_str(),
        "new"
    );

    // A changed row is an update; the same number twice in one batch keeps the last.
    let mut changed = order("B-1", "89160000000", "01.11.2026 10:00");
    changed.delivered_at = Some(changed.promised_from);
    let dup = order("B-1", "89160000000", "01.11.2026 10:00");
    let out = BatchOutcome::of(
        &store
            .upsert_orders(&[dup, changed.clone()], "Europe/Moscow")
            .await
            .unwrap(),
    );
    assert_eq!((out.inserted, out.updated, out.unchanged), (0, 2, 0));
    assert!(store
        .order("B-1")
        .await
        .unwrap()
        .unwrap()
        .delivered_at
        .is_some());
    assert_eq!(store.count_orders().await.unwrap(), 4);
    assert!(store.order("nope").await.unwrap().is_none());
}

async fn search_filters(backend: &str) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url).await.unwrap();
    let batch: Vec<OrderRecord> = (0..25)
        .map(|i| {
            order(
                &format!("N-{i:03}"),
                &format!("8916000{i:04}"),
                "01.11.2026 10:00",
            )
        })
        .collect();
    store.upsert_orders(&batch, "Europe/Moscow").await.unwrap();
    let page = store
        .search_orders(&OrderFilter::default(), 10, 20)
        .await
        .unwrap();
    assert_eq!((page.total, page.orders.len()), (25, 5));
    let by_prefix = OrderFilter {
        order_prefix: Some("N-01".into()),
        ..OrderFilter::default()
    };
    assert_eq!(
        store.search_orders(&by_prefix, 50, 0).await.unwrap().total,
        10
    );
    let wildcard = OrderFilter {
        order_prefix: Some("N_%".into()),
        ..OrderFilter::default()
    };
    assert_eq!(
        store.search_orders(&wildcard, 50, 0).await.unwrap().total,
        0
    );
    let by_phone = OrderFilter {
        phone: Some("+79160000007".into()),
        ..OrderFilter::default()
    };
    let found = store.search_orders(&by_phone, 50, 0).await.unwrap();
    assert_eq!(found.orders[0].order_number, "N-007");
    let customer = store.customer("+79160000007").await.unwrap().unwrap();
    assert_eq!((customer.orders, customer.late_orders), (1, 1));
    assert_eq!(
        store.cities().await.unwrap(),
        vec![("Москва".to_owned(), "Europe/Moscow".to_owned())]
    );
}

async fn accounts_and_tokens(backend: &str) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url).await.unwrap();
    let user = store
        .create_user("anna", "hash", "quality", "ru")
        .await
        .unwrap();
    let dup = store
        .create_user("anna", "hash", "admin", "en")
        .await
        .unwrap_err();
    assert!(dup.is_unique_violation());
    store
        .create_session("s1", &user.id, "csrf", i64::MAX)
        .await
        .unwrap();
    let s = store.session_user("s1").await.unwrap().unwrap();
    assert_eq!((s.login.as_str(), s.csrf_token.as_str()), ("anna", "csrf"));
    store
        .create_session("old", &user.id, "csrf", 1)
        .await
        .unwrap();
    assert!(store.session_user("old").await.unwrap().is_none());

    store.upsert_courier("C-9", Some("Олег")).await.unwrap();
    store
        .create_enrollment_code("code", "C-9", i64::MAX)
        .await
        .unwrap();
    let token = store
        .redeem_enrollment_code("code", "th", "phone")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (token.role.as_str(), token.courier_id.as_deref()),
        ("terminal", Some("C-9"))
    );
    assert!(
        store
            .redeem_enrollment_code("code", "th2", "phone")
            .await
            .unwrap()
            .is_none(),
        "codes are one-time"
    );
    assert!(store.token_by_hash("th").await.unwrap().is_some());
    assert!(store.revoke_token(&token.id).await.unwrap());
    assert!(store.token_by_hash("th").await.unwrap().is_none());
}

async fn settings_round_trip(backend: &str) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url).await.unwrap();
    let mut d = store.deployment().await.unwrap();
    d.time_zone = "Asia/Tashkent".into();
    store.save_deployment(&d).await.unwrap();
    assert_eq!(store.deployment().await.unwrap().time_zone, "Asia/Tashkent");
    // Reconnecting (a restart) finds the schema current.
    drop(store);
    let again = Store::connect(&db.url).await.unwrap();
    assert_eq!(again.deployment().await.unwrap().time_zone, "Asia/Tashkent");
}

mod segments {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Property: however orders arrive (any order, any batches, repeated,
    /// some moved to another time or customer), an order is `new` exactly
    /// when it is its customer's first by promised time then number, as a
    /// direct computation over the final orders says.
    async fn first_orders_match_a_direct_computation(backend: &str) {
        let db = TestDb::new(backend).await;
        let store = Store::connect(&db.url).await.unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut all = Vec::new();
        for i in 0..120 {
            let day = rng.gen_range(1..28);
            let phone = format!("8916000000{}", rng.gen_range(0..6));
            all.push(order(
                &format!("R-{i:03}"),
                &phone,
                &format!("{day:02}.10.2026 10:00"),
            ));
        }
        // Some orders arrive twice: once wrong (another time or customer), then right.
        let mut remaining = all.clone();
        for o in all.iter().step_by(7) {
            let mut wrong = o.clone();
            if rng.gen_bool(0.5) {
                wrong.customer_phone = doorstep_domain::Phone::parse(
                    "89160000009",
                    doorstep_domain::Country::from_code("RU").unwrap(),
                )
                .unwrap();
            } else {
                wrong.promised_from = o
                    .promised_from
                    .checked_sub(jiff::SignedDuration::from_hours(24 * 40))
                    .unwrap();
            }
            store
                .upsert_orders(&[wrong], "Europe/Moscow")
                .await
                .unwrap();
        }
        while !remaining.is_empty() {
            let take = rng.gen_range(1..=remaining.len().min(25));
            let batch: Vec<OrderRecord> = (0..take)
                .map(|_| remaining.swap_remove(rng.gen_range(0..remaining.len())))
                .collect();
            store.upsert_orders(&batch, "Europe/Moscow").await.unwrap();
            if rng.gen_bool(0.3) {
                store.upsert_orders(&batch, "Europe/Moscow").await.unwrap();
            }
        }
        for o in &all {
            let first = !all.iter().any(|p| {
                p.customer_phone == o.customer_phone
                    && (p.promised_from, p.order_number.as_str())
                        < (o.promised_from, o.order_number.as_str())
            });
            let stored = store.order(o.order_number.as_str()).await.unwrap().unwrap();
            assert_eq!(stored.first_order, first, "{}", o.order_number);
        }
    }

    #[tokio::test]
    async fn sqlite() {
        first_orders_match_a_direct_computation("sqlite").await;
    }

    #[tokio::test]
    async fn postgres() {
        first_orders_match_a_direct_computation("postgres").await;
    }
}

/// Several processes (`serve`, a CLI command) starting at once on a fresh
/// database: every one migrates or waits for the other, none fails.
async fn processes_starting_at_once_on_a_fresh_database_all_start(backend: &str) {
    let db = TestDb::new(backend).await;
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url.clone();
            tokio::spawn(async move { Store::connect(&url).await })
        })
        .collect();
    for s in starts {
        let store = s.await.unwrap().expect("every process starts");
        assert_eq!(store.count_orders().await.unwrap(), 0);
        store.close().await;
    }
    let store = Store::connect(&db.url).await.unwrap();
    let (applied,): (i64,) = store
        .db()
        .one(doorstep_store::db::sql(
            "SELECT COUNT(*) FROM _sqlx_migrations",
        ))
        .await
        .unwrap();
    assert_eq!(
        applied,
        doorstep_store::schema_version(),
        "each migration applied once"
    );
    store.close().await;
}

/// `serve` makes the first admin when there is no account; eight starting
/// at once make one, and exactly one of them is told the password.
async fn the_first_admin_is_made_once_however_many_start_at_once(backend: &str) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url).await.unwrap();
    let second = Store::connect(&db.url).await.unwrap();
    let made: Vec<_> = (0..8)
        .map(|k| {
            let s = if k % 2 == 0 {
                store.clone()
            } else {
                second.clone()
            };
            tokio::spawn(async move { s.create_first_admin(&format!("hash {k}")).await })
        })
        .collect();
    let mut created = 0;
    for m in made {
        if m.await.unwrap().unwrap().is_some() {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    assert_eq!(store.count_users().await.unwrap(), 1);
    assert!(
        store.create_first_admin("later").await.unwrap().is_none(),
        "not when there is an account"
    );
    second.close().await;
    store.close().await;
}

/// Before the unique keys, concurrent requests on PostgreSQL could store
/// one answer twice (under one id for two orders, or two ids for one order
/// and survey). The upgrade keeps the first received of each, removes the
/// others with their answers, and has the rollups counted again.
async fn responses_stored_twice_by_older_versions_are_removed_once_by_the_upgrade(backend: &str) {
    use doorstep_store::db::sql;
    let db = TestDb::new(backend).await;
    let old = Store::connect_at_schema(&db.url, 11).await.unwrap();
    // (order, id, survey, received)
    let rows = [
        ("A-1", "id-1", "s", 1),
        ("A-1", "id-2", "s", 2),  // the same order and survey again
        ("B-2", "id-1", "s", 3),  // the same id again
        ("B-2", "id-4", "s2", 4), // a response of its own
        ("A-1", "id-5", "s2", 5), // and another
    ];
    for (order, id, survey, received) in rows {
        old.db()
            .exec(
                sql("INSERT INTO responses (order_number, id, survey_id, survey_version, status, channel, city, segment, \
                     started_at, finished_at, duration_ms, photo_taken, content_hash, received_at) \
                     VALUES ($1, $2, $3, 1, 'completed', 'terminal', 'Москва', 'new', 0, 0, 0, FALSE, 'h', $4)")
                .bind(order)
                .bind(id)
                .bind(survey)
                .bind(i64::from(received)),
            )
            .await
            .unwrap();
        old.db()
            .exec(
                sql("INSERT INTO answers (order_number, response_id, question_id, kind, number_value) \
                     VALUES ($1, $2, 'nps', 'nps', 9)")
                .bind(order)
                .bind(id),
            )
            .await
            .unwrap();
    }
    old.close().await;
    let store = Store::connect(&db.url).await.unwrap();
    // The answers' orders (written by today's code, which knows today's
    // schema: the upgrade above does not look at orders).
    store
        .upsert_orders(
            &[
                order("A-1", "+79160000001", "2026-11-02T10:00:00+03:00"),
                order("B-2", "+79160000002", "2026-11-02T10:00:00+03:00"),
            ],
            "Europe/Moscow",
        )
        .await
        .unwrap();
    let kept: Vec<(String, String)> = store
        .db()
        .all(sql(
            "SELECT order_number, id FROM responses ORDER BY received_at",
        ))
        .await
        .unwrap();
    let kept: Vec<(&str, &str)> = kept.iter().map(|(o, i)| (o.as_str(), i.as_str())).collect();
    assert_eq!(kept, [("A-1", "id-1"), ("B-2", "id-4"), ("A-1", "id-5")]);
    let answers: Vec<(String,)> = store
        .db()
        .all(sql("SELECT response_id FROM answers ORDER BY response_id"))
        .await
        .unwrap();
    assert_eq!(
        answers.into_iter().map(|a| a.0).collect::<Vec<_>>(),
        ["id-1", "id-4", "id-5"]
    );
    assert!(store.rollups_stale().await.unwrap().is_some());
    store
        .rebuild_rollups(&TimeZone::get("Europe/Moscow").unwrap(), |_| {})
        .await
        .unwrap();
    assert!(
        store.rollups_stale().await.unwrap().is_none(),
        "counted again"
    );
    store.close().await;
    // A database with nothing to remove has nothing to count again.
    let clean = TestDb::new(backend).await;
    let store = Store::connect(&clean.url).await.unwrap();
    assert!(store.rollups_stale().await.unwrap().is_none());
    store.close().await;
}

/// Migration 15 gives the courier rollup the survey, partner, segment and
/// channel: a database with answers is marked to be counted again, and once
/// it is, a courier together with a partner reads from the rollups what a
/// count over the raw answers gives.
async fn the_courier_rollup_gains_its_dimensions_by_an_upgrade(backend: &str) {
    use doorstep_store::db::sql;
    use doorstep_store::survey::rollups::{GroupBy, MetricsFilter};
    let db = TestDb::new(backend).await;
    let old = Store::connect_at_schema(&db.url, 14).await.unwrap();
    // Monday 2026-11-02 10:00 Moscow; (order, id, courier, partner, nps)
    let at: i64 = 1_762_066_800_000;
    let rows = [
        ("A-1", "id-1", "K-1", "Лавка", 10),
        ("A-2", "id-2", "K-1", "Аптека", 3),
        ("A-3", "id-3", "K-1", "Лавка", 9),
        ("A-4", "id-4", "K-2", "Лавка", 0),
    ];
    for (order, id, courier, partner, nps) in rows {
        old.db()
            .exec(
                sql("INSERT INTO responses (order_number, id, survey_id, survey_version, status, channel, courier_id, \
                     city, partner, segment, started_at, finished_at, duration_ms, photo_taken, content_hash, received_at) \
                     VALUES ($1, $2, 's', 1, 'completed', 'terminal', $3, 'Москва', $4, 'new', $5, $5, 0, FALSE, 'h', $5)")
                .bind(order)
                .bind(id)
                .bind(courier)
                .bind(partner)
                .bind(at),
            )
            .await
            .unwrap();
        old.db()
            .exec(
                sql("INSERT INTO answers (order_number, response_id, question_id, kind, number_value) \
                     VALUES ($1, $2, 'nps', 'nps', $3)")
                .bind(order)
                .bind(id)
                .bind(f64::from(nps)),
            )
            .await
            .unwrap();
    }
    old.db()
        .exec(sql(
            "INSERT INTO surveys (id, name, current_version, created_at, updated_at) VALUES ('s', 's', 1, 0, 0)",
        ))
        .await
        .unwrap();
    old.db()
        .exec(sql(
            "INSERT INTO survey_versions (survey_id, version, definition, created_at) VALUES \
             ('s', 1, '{\"name\":\"s\",\"questions\":[{\"id\":\"nps\",\"type\":\"nps\",\"text\":\"nps\"}]}', 0)",
        ))
        .await
        .unwrap();
    old.close().await;
    let store = Store::connect(&db.url).await.unwrap();
    assert!(
        store.rollups_stale().await.unwrap().is_some(),
        "marked to be counted again"
    );
    let tz = TimeZone::get("Europe/Moscow").unwrap();
    assert_eq!(store.rebuild_rollups(&tz, |_| {}).await.unwrap(), 4);
    assert!(store.rollups_stale().await.unwrap().is_none());
    let day = doorstep_domain::time::local_day(at, &tz).0;
    let mut filter = MetricsFilter {
        from_day: day,
        to_day: day,
        from_ms: at - 86_400_000,
        to_ms: at + 86_400_000,
        ..MetricsFilter::default()
    };
    filter.dims.courier = Some("K-1".into());
    filter.dims.partner = Some("Лавка".into());
    let (_, rolled) = store
        .metric_tallies(&filter, GroupBy::All, None)
        .await
        .unwrap();
    let raw = store
        .direct_tallies(&filter, GroupBy::All, None, &tz)
        .await
        .unwrap();
    assert_eq!(rolled.len(), 1);
    assert_eq!(
        (rolled[0].1.nps_n, rolled[0].1.promoters),
        (2, 2),
        "K-1's two at Лавка"
    );
    assert_eq!(rolled[0].1, *raw.values().next().unwrap());
    // Grouped by partner for that courier: each partner its own.
    filter.dims.partner = None;
    let (_, by_partner) = store
        .metric_tallies(&filter, GroupBy::Partner, None)
        .await
        .unwrap();
    let keys: Vec<(&str, i64)> = by_partner
        .iter()
        .map(|(k, t)| (k.key.as_str(), t.detractors))
        .collect();
    assert_eq!(keys, [("Аптека", 1), ("Лавка", 0)]);
    store.close().await;
}
