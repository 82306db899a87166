//! Property: on random surveys, answers, days and dimensions, every score
//! read from the rollups equals the same score counted straight from the raw
//! answers — as the answers arrive, and after a rebuild — on both backends.

use doorstep_domain::survey::metrics::facts;
use doorstep_domain::survey::{check_answers, Channel, ResponseStatus, SurveyDefinition};
use doorstep_domain::time::{day_number, local_day};
use doorstep_domain::Segment;
use doorstep_store::survey::rollups::{GroupBy, GroupKey, MetricsFilter};
use doorstep_store::testing::TestDb;
use doorstep_store::{NewResponse, Store};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

mod common;
use common::{assert_same, everything, survey, Spread};

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { super::$name("sqlite").await } )* }
        mod postgres { $( #[tokio::test] async fn $name() { super::$name("postgres").await } )* }
    };
}

on_both_backends!(
    rollups_equal_a_direct_count_over_raw_answers,
    built_days_equal_a_direct_count_over_raw_answers
);

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
    let orders = Spread {
        prefix: "R",
        count: 400,
        start,
        days: 75,
        customers: 150,
        cities: &cities,
        partners: &partners,
        couriers: 7,
    }
    .orders(&store, &tz, &mut rng)
    .await;

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
            status,
            channel: doorstep_domain::survey::Channel::ALL[rng.gen_range(0..3)],
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
            recording_consent: None,
            day,
            month,
        });
    }
    let check = |label: &'static str| {
        let store = store.clone();
        let tz = tz.clone();
        async move {
            let mut rng = StdRng::seed_from_u64(7);
            for round in 0..32 {
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
                match round % 8 {
                    1 => filter.dims.city = Some(cities[rng.gen_range(0..3)].into()),
                    2 => filter.dims.courier = Some(format!("K-{}", rng.gen_range(0..7))),
                    3 => filter.dims.partner = Some(partners[rng.gen_range(0..2)].unwrap().into()),
                    // One of the others, with a city or not: the courier
                    // rows summed over all but that one.
                    4 => {
                        filter.dims.segment =
                            Some([Segment::New, Segment::Repeat][rng.gen_range(0..2)]);
                        if rng.gen_bool(0.5) {
                            filter.dims.city = Some(cities[rng.gen_range(0..3)].into());
                        }
                    }
                    5 => {
                        filter.dims.survey = Some("s0".into());
                        filter.dims.channel = Some(Channel::Terminal);
                    }
                    // A courier together with a partner, or with a segment
                    // and a survey: the courier rows whole.
                    6 => {
                        filter.dims.courier = Some(format!("K-{}", rng.gen_range(0..7)));
                        filter.dims.partner = Some(partners[rng.gen_range(0..2)].unwrap().into());
                    }
                    7 => {
                        filter.dims.courier = Some(format!("K-{}", rng.gen_range(0..7)));
                        filter.dims.segment =
                            Some([Segment::New, Segment::Repeat][rng.gen_range(0..2)]);
                        filter.dims.survey = Some("s0".into());
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
                        let (_, rolled) =
                            store.metric_tallies(&filter, group, *period).await.unwrap();
                        let mut raw: Vec<_> = store
                            .direct_tallies(&filter, group, *period, &tz)
                            .await
                            .unwrap()
                            .into_iter()
                            .collect();
                        if group == GroupBy::All && period.is_none() && raw.is_empty() {
                            // The overall row is there when nothing was counted.
                            raw.push((
                                GroupKey::of("all"),
                                doorstep_domain::survey::metrics::Tally::default(),
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
        store.store_responses(chunk, None, today).await.unwrap();
    }
    let built = store.build_weeks(today).await.unwrap();
    assert!(built >= 10, "the data spans 11 ended weeks, {built} built");
    check("first half, every ended week built").await;
    // The days too: the latest built days outside built weeks are read
    // from memory.
    let now = jiff::Timestamp::now().as_millisecond();
    assert!(store.build_days(&tz, now, |_, _| {}).await.unwrap() >= 70);
    check("first half, every past day built").await;
    for chunk in responses[half..].chunks(37) {
        store.store_responses(chunk, None, today).await.unwrap();
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
    assert!(store.build_days(&tz, now, |_, _| {}).await.unwrap() >= 30);
    check("with every past day built again").await;
    let counted = store.rebuild_rollups(&tz, |_| {}).await.unwrap();
    assert_eq!(counted, responses.len() as u64);
    check("after a rebuild").await;
    store.build_days(&tz, now, |_, _| {}).await.unwrap();
    check("after a rebuild, days built").await;
    // Everything, all at once, adds up to what was sent.
    let all = everything();
    let (_, total) = store
        .metric_tallies(&all, GroupBy::All, None)
        .await
        .unwrap();
    let t = &total[0].1;
    assert_eq!(
        (t.completed + t.refused + t.timed_out) as usize,
        responses.len()
    );
    store.close().await;
}

/// What the test sent, per response: where it falls and what it says.
struct Sent {
    day: i64,
    courier: String,
    city: String,
    partner: String,
    survey: String,
    version: i64,
    channel: doorstep_domain::survey::Channel,
    completed: bool,
    duration_ms: i64,
    nps: Option<f64>,
    signature: Option<String>,
    scales: Vec<(String, f64)>,
}

/// The couriers' habits over `from..=to`, counted from what was sent.
fn expected_habits(
    sent: &[Sent],
    from: i64,
    to: i64,
) -> std::collections::BTreeMap<String, (i64, f64, i64, i64, i64)> {
    use std::collections::{BTreeMap, HashMap};
    let mut out: BTreeMap<String, (i64, f64, i64, i64, i64)> = BTreeMap::new();
    let mut sequences: HashMap<(String, i64), HashMap<String, i64>> = HashMap::new();
    for r in sent
        .iter()
        .filter(|r| r.completed && (from..=to).contains(&r.day))
    {
        let e = out.entry(r.courier.clone()).or_default();
        e.0 += 1;
        e.1 += r.duration_ms as f64;
        if let Some(n) = r.nps {
            e.2 += 1;
            if n >= 10.0 {
                e.3 += 1;
            }
        }
        if let Some(s) = &r.signature {
            *sequences
                .entry((r.courier.clone(), r.day))
                .or_default()
                .entry(s.clone())
                .or_default() += 1;
        }
    }
    for ((courier, _), counts) in sequences {
        out.get_mut(&courier).unwrap().4 += counts.values().max().copied().unwrap_or(1) - 1;
    }
    out
}

async fn built_days_equal_a_direct_count_over_raw_answers(backend: &str) {
    use std::collections::BTreeMap;
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url).await.unwrap();
    let tz = TimeZone::get("Europe/Moscow").unwrap();
    let mut rng = StdRng::seed_from_u64(0xDA15);
    let mut surveys: Vec<(String, i64, SurveyDefinition)> = Vec::new();
    for n in 0..2 {
        let id = format!("s{n}");
        let text = survey(&mut rng, n).to_string();
        store.create_survey(&id, &id, &text).await.unwrap();
        surveys.push((id, 1, serde_json::from_str(&text).unwrap()));
    }
    let cities = ["Москва", "Казань"];
    let start = Date::constant(2026, 10, 1);
    let orders = Spread {
        prefix: "D",
        count: 360,
        start,
        days: 20,
        customers: 90,
        cities: &cities,
        partners: &[Some("Лавка"), Some("Аптека")],
        couriers: 5,
    }
    .orders(&store, &tz, &mut rng)
    .await;
    let mut responses = Vec::new();
    let mut sent = Vec::new();
    for o in &orders {
        let (survey_id, version, def) = &surveys[rng.gen_range(0..surveys.len())];
        let status = if rng.gen_bool(0.85) {
            ResponseStatus::Completed
        } else {
            ResponseStatus::Refused
        };
        let mut answers: Vec<(String, Value)> = Vec::new();
        if status == ResponseStatus::Completed {
            // Few distinct answers, so that sequences repeat.
            for q in &def.questions {
                if rng.gen_bool(0.9) {
                    let hi = q.max.unwrap_or(10);
                    answers.push((q.id.clone(), json!(rng.gen_range(hi - 1..=hi))));
                }
            }
        }
        let checked = check_answers(def, status, &answers).unwrap();
        let finished = o.promised_from.as_millisecond() + rng.gen_range(0..20 * 3_600_000);
        let duration = rng.gen_range(5_000..300_000);
        let (day, month) = local_day(finished, &tz);
        let channel = [
            doorstep_domain::survey::Channel::Terminal,
            doorstep_domain::survey::Channel::Link,
        ][rng.gen_range(0..2)];
        let number = |kind: doorstep_domain::survey::QuestionType| {
            checked
                .iter()
                .filter(move |a| a.kind == kind)
                .filter_map(|a| a.number.map(|n| (a.question_id.clone(), n)))
        };
        sent.push(Sent {
            day,
            courier: o.courier_id.clone().unwrap(),
            city: o.city.clone(),
            partner: o.partner.clone().unwrap_or_default(),
            survey: survey_id.clone(),
            version: *version,
            channel,
            completed: status == ResponseStatus::Completed,
            duration_ms: duration,
            nps: number(doorstep_domain::survey::QuestionType::Nps)
                .next()
                .map(|x| x.1),
            signature: (status == ResponseStatus::Completed)
                .then(|| doorstep_domain::survey::answer_signature(&checked))
                .flatten(),
            scales: number(doorstep_domain::survey::QuestionType::Scale).collect(),
        });
        responses.push(NewResponse {
            id: uuid::Uuid::new_v4().to_string(),
            order_number: o.order_number.as_str().to_owned(),
            survey_id: survey_id.clone(),
            survey_version: *version,
            status,
            channel,
            mode: None,
            language: None,
            token_id: None,
            started_at: finished - duration,
            finished_at: finished,
            content_hash: String::new(),
            facts: facts(def, &checked),
            causes: Vec::new(),
            answers: checked,
            review_opened: None,
            recording_consent: None,
            day,
            month,
        });
    }
    let first = day_number(start);
    let check = |label: &'static str, upto: usize| {
        let store = store.clone();
        let tz = tz.clone();
        let sent = &sent[..upto];
        async move {
            let mut rng = StdRng::seed_from_u64(11);
            for round in 0..12 {
                let from = first - 2 + rng.gen_range(0..15);
                let to = from + rng.gen_range(0..20);
                // Habits, per courier.
                let got: BTreeMap<String, (i64, f64, i64, i64, i64)> = store
                    .courier_patterns(from, to, &tz)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|p| {
                        (
                            p.courier_id,
                            (
                                p.responses,
                                p.duration_ms.unwrap() * p.responses as f64,
                                p.nps_n,
                                p.tens,
                                p.same_answers,
                            ),
                        )
                    })
                    .collect();
                let want = expected_habits(sent, from, to);
                assert_eq!(
                    got.keys().collect::<Vec<_>>(),
                    want.keys().collect::<Vec<_>>(),
                    "{label}: couriers over {from}..={to}"
                );
                for (k, w) in &want {
                    let g = &got[k];
                    assert!(
                        g.0 == w.0
                            && g.2 == w.2
                            && g.3 == w.3
                            && g.4 == w.4
                            && (g.1 - w.1).abs() < 1e-3 * w.1,
                        "{label}: courier {k} over {from}..={to}: {g:?} vs {w:?}"
                    );
                }
                // Driver pairs, under a filter.
                let (a, b) = doorstep_domain::time::day_range(
                    doorstep_domain::time::date_of_day(from),
                    doorstep_domain::time::date_of_day(to),
                    &tz,
                );
                let mut filter = MetricsFilter {
                    from_day: from,
                    to_day: to,
                    from_ms: a.as_millisecond(),
                    to_ms: b.as_millisecond(),
                    ..MetricsFilter::default()
                };
                match round % 6 {
                    1 => filter.dims.city = Some(cities[rng.gen_range(0..2)].into()),
                    2 => filter.dims.courier = Some(format!("K-{}", rng.gen_range(0..5))),
                    3 => {
                        filter.dims.courier = Some(format!("K-{}", rng.gen_range(0..5)));
                        filter.dims.city = Some(cities[rng.gen_range(0..2)].into());
                        filter.dims.survey = Some("s1".into());
                    }
                    4 => {
                        filter.dims.courier = Some(format!("K-{}", rng.gen_range(0..5)));
                        filter.dims.channel = Some(Channel::Link);
                    }
                    5 => {
                        filter.dims.partner = Some("Лавка".into());
                        filter.dims.channel = Some(Channel::Terminal);
                        filter.dims.survey = Some("s0".into());
                    }
                    _ => {}
                }
                let is =
                    |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
                let mut want: BTreeMap<(String, i64, String), [f64; 6]> = BTreeMap::new();
                for r in sent.iter().filter(|r| {
                    r.completed
                        && (from..=to).contains(&r.day)
                        && is(&filter.dims.courier, &r.courier)
                        && is(&filter.dims.city, &r.city)
                        && is(&filter.dims.partner, &r.partner)
                        && is(&filter.dims.survey, &r.survey)
                        && filter.dims.channel.is_none_or(|c| c == r.channel)
                }) {
                    let Some(y) = r.nps else { continue };
                    for (q, x) in &r.scales {
                        let e = want
                            .entry((r.survey.clone(), r.version, q.clone()))
                            .or_default();
                        for (i, v) in [1.0, *x, y, x * x, y * y, x * y].into_iter().enumerate() {
                            e[i] += v;
                        }
                    }
                }
                let got: BTreeMap<(String, i64, String), [f64; 6]> = store
                    .question_pairs(&filter, &tz)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|p| {
                        (
                            (p.survey_id, p.survey_version, p.question_id),
                            [
                                p.sums.n as f64,
                                p.sums.sx,
                                p.sums.sy,
                                p.sums.sxx,
                                p.sums.syy,
                                p.sums.sxy,
                            ],
                        )
                    })
                    .collect();
                assert_eq!(
                    got.keys().collect::<Vec<_>>(),
                    want.keys().collect::<Vec<_>>(),
                    "{label}: questions under {filter:?}"
                );
                for (k, w) in &want {
                    for (g, w) in got[k].iter().zip(w) {
                        assert!(
                            (g - w).abs() < 1e-6 * (1.0 + w.abs()),
                            "{label}: {k:?} under {filter:?}: {:?} vs {w:?}",
                            got[k]
                        );
                    }
                }
            }
        }
    };
    let now = jiff::Timestamp::now().as_millisecond();
    let (today, _) = local_day(now, &tz);
    let half = responses.len() / 2;
    for chunk in responses[..half].chunks(29) {
        store.store_responses(chunk, None, today).await.unwrap();
    }
    check("nothing built: every day raw", half).await;
    let built = store.build_days(&tz, now, |_, _| {}).await.unwrap();
    assert!(built >= 20, "the data spans 21 past days, {built} built");
    check("every past day built", half).await;
    for chunk in responses[half..].chunks(29) {
        store.store_responses(chunk, None, today).await.unwrap();
    }
    check("late answers in built days", responses.len()).await;
    let rebuilt = store.build_days(&tz, now, |_, _| {}).await.unwrap();
    assert!(
        rebuilt >= 20,
        "late answers marked days stale: {rebuilt} rebuilt"
    );
    assert_eq!(
        store.build_days(&tz, now, |_, _| {}).await.unwrap(),
        0,
        "nothing left"
    );
    check("every past day built again", responses.len()).await;
    store.rebuild_rollups(&tz, |_| {}).await.unwrap();
    check("after a rebuild: every day raw", responses.len()).await;
    assert!(store.build_days(&tz, now, |_, _| {}).await.unwrap() >= 20);
    check("after a rebuild, built again", responses.len()).await;
    store.close().await;
}
