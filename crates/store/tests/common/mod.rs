//! What the store's test files share: random orders, surveys and answers,
//! the comparison of rollup tallies with a direct count, and two "servers"
//! (stores) on one fresh database.
#![allow(dead_code)] // each test file uses its own part

use doorstep_domain::survey::metrics::{facts, Value as Counted};
use doorstep_domain::survey::{check_answers, ResponseStatus, SurveyDefinition};
use doorstep_domain::time::local_day;
use doorstep_domain::{Country, OrderInput, OrderRecord};
use doorstep_store::survey::rollups::{GroupBy, GroupKey, MetricsFilter};
use doorstep_store::testing::TestDb;
use doorstep_store::{NewResponse, Store};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// Random orders spread over days, customers, cities, partners and
/// couriers, stored (Moscow time).
pub struct Spread<'a> {
    pub prefix: &'a str,
    pub count: usize,
    pub start: Date,
    pub days: i64,
    pub customers: u32,
    pub cities: &'a [&'a str],
    /// None drawn at all when empty.
    pub partners: &'a [Option<&'a str>],
    pub couriers: u32,
}

impl Spread<'_> {
    pub async fn orders(&self, store: &Store, tz: &TimeZone, rng: &mut StdRng) -> Vec<OrderRecord> {
        let mut orders = Vec::with_capacity(self.count);
        for i in 0..self.count {
            let day = self
                .start
                .checked_add(jiff::Span::new().days(rng.gen_range(0..self.days)))
                .unwrap();
            let customer = rng.gen_range(0..self.customers);
            let city = self.cities[rng.gen_range(0..self.cities.len())];
            let partner = if self.partners.is_empty() {
                None
            } else {
                self.partners[rng.gen_range(0..self.partners.len())]
            };
            let o = OrderInput {
                order_number: Some(format!("{}-{i}", self.prefix)),
                customer_phone: Some(format!("+7916{customer:07}")),
                city: Some(city.into()),
                partner: partner.map(Into::into),
                courier_id: Some(format!("K-{}", rng.gen_range(0..self.couriers))),
                promised_from: Some(format!("{day}T{:02}:00:00+03:00", rng.gen_range(0..23))),
                promised_to: Some(format!("{day}T23:30:00+03:00")),
                ..OrderInput::default()
            };
            orders.push(o.validate(tz, Country::from_code("RU").unwrap()).unwrap());
        }
        store.upsert_orders(&orders, "Europe/Moscow").await.unwrap();
        orders
    }
}

pub fn survey(rng: &mut StdRng, n: usize) -> Value {
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

pub fn assert_same(
    a: &[(GroupKey, doorstep_domain::survey::metrics::Tally)],
    b: &[(GroupKey, doorstep_domain::survey::metrics::Tally)],
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
            ta.values()
                .iter()
                .zip(tb.values())
                .all(|(x, y)| match (*x, y) {
                    (Counted::Real(x), Counted::Real(y)) => close(x, y),
                    (x, y) => x == y,
                }),
            "{what}, group {ka:?}: rollup {ta:?} vs raw {tb:?}"
        );
    }
}

/// Six hundred orders of twelve couriers over ten days, one completed
/// answer each, in batches of ten.
pub async fn six_hundred_answers(store: &Store, tz: &TimeZone) -> Vec<Vec<NewResponse>> {
    let mut rng = StdRng::seed_from_u64(0xF01D);
    let text = survey(&mut rng, 0).to_string();
    store.create_survey("s0", "s0", &text).await.unwrap();
    let def: SurveyDefinition = serde_json::from_str(&text).unwrap();
    let orders = Spread {
        prefix: "C",
        count: 600,
        start: Date::constant(2026, 10, 1),
        days: 10,
        customers: 200,
        cities: &["Москва", "Казань"],
        partners: &[],
        couriers: 12,
    }
    .orders(store, tz, &mut rng)
    .await;
    let mut responses = Vec::new();
    for o in &orders {
        let answers: Vec<(String, Value)> = def
            .questions
            .iter()
            .map(|q| {
                let (lo, hi) = (q.min.unwrap_or(0), q.max.unwrap_or(10));
                (q.id.clone(), json!(rng.gen_range(lo..=hi)))
            })
            .collect();
        let checked = check_answers(&def, ResponseStatus::Completed, &answers).unwrap();
        let finished = o.promised_from.as_millisecond() + rng.gen_range(0..3_600_000);
        let (day, month) = local_day(finished, tz);
        responses.push(NewResponse {
            id: uuid::Uuid::new_v4().to_string(),
            order_number: o.order_number.as_str().to_owned(),
            survey_id: "s0".to_owned(),
            survey_version: 1,
            status: doorstep_domain::survey::ResponseStatus::Completed,
            channel: doorstep_domain::survey::Channel::Terminal,
            mode: None,
            language: None,
            token_id: None,
            started_at: finished - 60_000,
            finished_at: finished,
            content_hash: String::new(),
            facts: facts(&def, &checked),
            causes: Vec::new(),
            answers: checked,
            review_opened: None,
            recording_consent: None,
            day,
            month,
        });
    }
    responses.chunks(10).map(<[_]>::to_vec).collect()
}

/// A filter that admits every answer.
pub fn everything() -> MetricsFilter {
    MetricsFilter {
        from_day: 0,
        to_day: 100_000,
        from_ms: 0,
        to_ms: i64::MAX,
        ..MetricsFilter::default()
    }
}

/// Every grouping read from the rollups equals the direct count over the
/// raw answers, and all 600 are there.
pub async fn assert_counted_once(store: &Store, tz: &TimeZone, when: &str) {
    assert_counted(store, tz, when, 600).await;
}

/// Every grouping read from the rollups equals the direct count over the
/// raw answers, and `expected` completed answers are stored and counted.
pub async fn assert_counted(store: &Store, tz: &TimeZone, when: &str, expected: i64) {
    let all = everything();
    for group in [GroupBy::All, GroupBy::Courier, GroupBy::City, GroupBy::Day] {
        let (_, rolled) = store.metric_tallies(&all, group, None).await.unwrap();
        let raw: Vec<_> = store
            .direct_tallies(&all, group, None, tz)
            .await
            .unwrap()
            .into_iter()
            .collect();
        assert_same(&rolled, &raw, &format!("{group:?} {when}"));
    }
    let (_, total) = store
        .metric_tallies(&all, GroupBy::All, None)
        .await
        .unwrap();
    assert_eq!(total[0].1.completed, expected, "counted, {when}");
    assert_eq!(
        store.count_responses().await.unwrap(),
        expected,
        "stored, {when}"
    );
}

/// Two servers (stores) on one fresh database, with six hundred answers
/// ready to store in batches.
pub struct TwoServers {
    pub db: TestDb,
    pub store: Store,
    pub second: Store,
    pub tz: TimeZone,
    pub batches: Vec<Vec<NewResponse>>,
    pub today: i64,
}

impl TwoServers {
    pub async fn new(backend: &str) -> TwoServers {
        let db = TestDb::new(backend).await;
        let store = Store::connect(&db.url).await.unwrap();
        let second = Store::connect(&db.url).await.unwrap();
        let tz = TimeZone::get("Europe/Moscow").unwrap();
        let batches = six_hundred_answers(&store, &tz).await;
        let (today, _) = local_day(jiff::Timestamp::now().as_millisecond(), &tz);
        TwoServers {
            db,
            store,
            second,
            tz,
            batches,
            today,
        }
    }
}

/// Four clients storing batches at once: `batches[k], batches[k+4], …`.
pub fn spawn_clients(
    stores: [&Store; 2],
    batches: &[Vec<NewResponse>],
    today: i64,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..4)
        .map(|k| {
            let s = stores[k % 2].clone();
            let mine: Vec<Vec<NewResponse>> = batches.iter().skip(k).step_by(4).cloned().collect();
            tokio::spawn(async move {
                for batch in mine {
                    s.store_responses(&batch, None, today).await.unwrap();
                }
            })
        })
        .collect()
}
