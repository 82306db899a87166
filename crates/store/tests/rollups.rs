//! Property: on random surveys, answers, days and dimensions, every score
//! read from the rollups equals the same score counted straight from the raw
//! answers — as the answers arrive, and after a rebuild — on both backends.

use doorstep_domain::metrics::facts;
use doorstep_domain::survey::{check_answers, ResponseStatus, SurveyDefinition};
use doorstep_domain::time::{day_number, local_day};
use doorstep_domain::{Country, OrderInput};
use doorstep_store::rollups::{GroupBy, MetricsFilter};
use doorstep_store::testing::TestDb;
use doorstep_store::{NewResponse, Store};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { super::$name("sqlite").await } )* }
        mod postgres { $( #[tokio::test] async fn $name() { super::$name("postgres").await } )* }
    };
}

on_both_backends!(rollups_equal_a_direct_count_over_raw_answers);

const GROUPS: [GroupBy; 10] = [
    GroupBy::All,
    GroupBy::Courier,
    GroupBy::City,
    GroupBy::Partner,
    GroupBy::Segment,
    GroupBy::Survey,
    GroupBy::Channel,
    GroupBy::Day,
    GroupBy::Week,
    GroupBy::Month,
];

fn survey(rng: &mut StdRng, n: usize) -> Value {
    let lo = rng.gen_range(0..=1);
    let hi = rng.gen_range(5..=10);
    json!({"name": format!("s{n}"), "questions": [
        {"id": "nps", "type": "nps", "text": "nps"},
        {"id": "csi", "type": "scale", "text": "csi", "min": lo, "max": hi, "measures": "csi"},
        {"id": "csat", "type": "scale", "text": "csat", "min": 1, "max": 5, "measures": "csat"},
        {"id": "ces", "type": "scale", "text": "ces", "min": 1, "max": 7, "measures": "ces"},
        {"id": "speed", "type": "scale", "text": "f", "min": 1, "max": 5, "measures": "factor:speed", "weight": rng.gen_range(0.1..3.0)},
        {"id": "polite", "type": "scale", "text": "f", "min": 1, "max": 5, "measures": "factor:polite"}
    ]})
}

fn assert_same(
    a: &[(String, doorstep_domain::metrics::Tally)],
    b: &[(String, doorstep_domain::metrics::Tally)],
    what: &str,
) {
    assert_eq!(
        a.len(),
        b.len(),
        "{what}: groups {:?} vs {:?}",
        a.iter().map(|x| &x.0).collect::<Vec<_>>(),
        b.iter().map(|x| &x.0).collect::<Vec<_>>()
    );
    for ((ka, ta), (kb, tb)) in a.iter().zip(b) {
        assert_eq!(ka, kb, "{what}");
        let close = |x: f64, y: f64| (x - y).abs() < 1e-6 * (1.0 + x.abs());
        assert!(
            ta.completed == tb.completed
                && ta.refused == tb.refused
                && ta.timed_out == tb.timed_out
                && ta.nps_n == tb.nps_n
                && ta.promoters == tb.promoters
                && ta.passives == tb.passives
                && ta.detractors == tb.detractors
                && ta.csi_n == tb.csi_n
                && close(ta.csi_sum, tb.csi_sum)
                && close(ta.csi_norm_sum, tb.csi_norm_sum)
                && ta.csi_w_n == tb.csi_w_n
                && close(ta.csi_w_sum, tb.csi_w_sum)
                && ta.csat_n == tb.csat_n
                && ta.csat_top2 == tb.csat_top2
                && ta.ces_n == tb.ces_n
                && close(ta.ces_sum, tb.ces_sum)
                && ta.ces_easy == tb.ces_easy
                && ta.ces_hard == tb.ces_hard,
            "{what}, group {ka}: rollup {ta:?} vs raw {tb:?}"
        );
    }
}

async fn rollups_equal_a_direct_count_over_raw_answers(backend: &str) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url).await.unwrap();
    let tz = TimeZone::get("Europe/Moscow").unwrap();
    let mut rng = StdRng::seed_from_u64(0xD00E_5EED);
    let mut surveys: Vec<(String, i64, SurveyDefinition)> = Vec::new();
    for n in 0..3 {
        let id = format!("s{n}");
        let text = survey(&mut rng, n).to_string();
        store
            .create_survey(&id, &format!("s{n}"), &text)
            .await
            .unwrap();
        surveys.push((id, 1, serde_json::from_str(&text).unwrap()));
    }
    // A second version of one survey, with another CSI scale.
    let v2 = survey(&mut rng, 9).to_string();
    store.publish_survey_version("s0", "s0", &v2).await.unwrap();
    surveys.push(("s0".into(), 2, serde_json::from_str(&v2).unwrap()));

    let cities = ["Москва", "Казань", "Київ"];
    let partners = [Some("Лавка"), Some("Аптека"), None];
    let start = Date::constant(2026, 9, 1);
    let mut orders = Vec::new();
    for i in 0..400 {
        let day = start
            .checked_add(jiff::Span::new().days(rng.gen_range(0..75)))
            .unwrap();
        let o = OrderInput {
            order_number: Some(format!("R-{i}")),
            customer_phone: Some(format!("+7916{:07}", rng.gen_range(0..150))),
            city: Some(cities[rng.gen_range(0..3)].into()),
            partner: partners[rng.gen_range(0..3)].map(Into::into),
            courier_id: Some(format!("K-{}", rng.gen_range(0..7))),
            promised_from: Some(format!("{day}T{:02}:00:00+03:00", rng.gen_range(0..23))),
            promised_to: Some(format!("{day}T23:30:00+03:00")),
            ..OrderInput::default()
        };
        orders.push(o.validate(&tz, Country::from_code("RU").unwrap()).unwrap());
    }
    store.upsert_orders(&orders, "Europe/Moscow").await.unwrap();

    let mut responses = Vec::new();
    for o in &orders {
        if !rng.gen_bool(0.8) {
            continue;
        }
        let (survey_id, version, def) = &surveys[rng.gen_range(0..surveys.len())];
        let status = [
            ResponseStatus::Completed,
            ResponseStatus::Completed,
            ResponseStatus::Completed,
            ResponseStatus::Refused,
            ResponseStatus::TimedOut,
        ][rng.gen_range(0..5)];
        let mut answers: Vec<(String, Value)> = Vec::new();
        if status != ResponseStatus::Refused {
            for q in &def.questions {
                if rng.gen_bool(0.85) {
                    let (lo, hi) = (q.min.unwrap_or(0), q.max.unwrap_or(10));
                    answers.push((q.id.clone(), json!(rng.gen_range(lo..=hi))));
                }
            }
        }
        let checked = check_answers(def, status, &answers).unwrap();
        // Finished around the clock, some just before midnight UTC: the
        // local day is not the UTC day.
        let finished = o.promised_from.as_millisecond() + rng.gen_range(0..20 * 3_600_000);
        let (day, month) = local_day(finished, &tz);
        responses.push(NewResponse {
            id: uuid::Uuid::new_v4().to_string(),
            order_number: o.order_number.as_str().to_owned(),
            survey_id: survey_id.clone(),
            survey_version: *version,
            status: status.as_str(),
            channel: ["terminal", "link", "api"][rng.gen_range(0..3)],
            mode: None,
            language: None,
            token_id: None,
            started_at: finished - 60_000,
            finished_at: finished,
            content_hash: String::new(),
            facts: facts(def, &checked),
            causes: Vec::new(),
            answers: checked,
            review_opened: None,
            day,
            month,
        });
    }
    let check = |label: &'static str| {
        let store = store.clone();
        let tz = tz.clone();
        async move {
            let mut rng = StdRng::seed_from_u64(7);
            for round in 0..24 {
                let from = start
                    .checked_add(jiff::Span::new().days(rng.gen_range(0..40)))
                    .unwrap();
                let to = from
                    .checked_add(jiff::Span::new().days(rng.gen_range(0..45)))
                    .unwrap();
                let (a, b) = doorstep_domain::time::day_range(from, to, &tz);
                let mut filter = MetricsFilter {
                    from_day: day_number(from),
                    to_day: day_number(to),
                    from_ms: a.as_millisecond(),
                    to_ms: b.as_millisecond(),
                    ..MetricsFilter::default()
                };
                match round % 6 {
                    1 => filter.city = Some(cities[rng.gen_range(0..3)].into()),
                    2 => filter.courier = Some(format!("K-{}", rng.gen_range(0..7))),
                    3 => filter.partner = Some(partners[rng.gen_range(0..2)].unwrap().into()),
                    4 => filter.segment = Some(["new", "repeat"][rng.gen_range(0..2)].into()),
                    5 => {
                        filter.survey = Some("s0".into());
                        filter.channel = Some("terminal".into());
                    }
                    _ => {}
                }
                for group in GROUPS {
                    let periods: &[Option<GroupBy>] = if group.is_time() {
                        &[None]
                    } else {
                        &[None, Some(GroupBy::Week), Some(GroupBy::Month)]
                    };
                    for period in periods {
                        let (_, rolled) = store
                            .metric_tallies(&filter, group, *period, &tz)
                            .await
                            .unwrap();
                        let mut raw: Vec<_> = store
                            .direct_tallies(&filter, group, *period, &tz)
                            .await
                            .unwrap()
                            .into_iter()
                            .collect();
                        if group == GroupBy::All && period.is_none() && raw.is_empty() {
                            // The overall row is there when nothing was counted.
                            raw.push((
                                "all".to_owned(),
                                doorstep_domain::metrics::Tally::default(),
                            ));
                        }
                        assert_same(
                            &rolled,
                            &raw,
                            &format!("{label}: {group:?} by {period:?} over {filter:?}"),
                        );
                    }
                }
            }
        }
    };
    // In several batches, as terminals send them; halfway through, the
    // weeks that have ended are built, so the second half lands late in
    // built weeks and marks them stale.
    let (today, _) = local_day(jiff::Timestamp::now().as_millisecond(), &tz);
    let half = responses.len() / 2;
    for chunk in responses[..half].chunks(37) {
        store.store_responses(chunk, None).await.unwrap();
    }
    let built = store.build_weeks(today).await.unwrap();
    assert!(built >= 10, "the data spans 11 ended weeks, {built} built");
    check("first half, every ended week built").await;
    for chunk in responses[half..].chunks(37) {
        store.store_responses(chunk, None).await.unwrap();
    }

    check("as answers arrived, late ones in built weeks").await;
    let rebuilt = store.build_weeks(today).await.unwrap();
    assert!(
        rebuilt >= 10,
        "late answers marked weeks stale: {rebuilt} rebuilt"
    );
    assert_eq!(
        store.build_weeks(today).await.unwrap(),
        0,
        "nothing left to build"
    );
    check("with every ended week built").await;
    let counted = store.rebuild_rollups(&tz, |_| {}).await.unwrap();
    assert_eq!(counted, responses.len() as u64);
    check("after a rebuild").await;
    // Everything, all at once, adds up to what was sent.
    let all = MetricsFilter {
        from_day: 0,
        to_day: 100_000,
        from_ms: 0,
        to_ms: i64::MAX,
        ..MetricsFilter::default()
    };
    let (_, total) = store
        .metric_tallies(&all, GroupBy::All, None, &tz)
        .await
        .unwrap();
    let t = &total[0].1;
    assert_eq!(
        (t.completed + t.refused + t.timed_out) as usize,
        responses.len()
    );
    store.close().await;
}
