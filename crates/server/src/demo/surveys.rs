//! The demo's surveys and three months of answers to them, with the stories
//! a quality manager should find: late deliveries driving detractors, a city
//! whose scores fell for a bad week, and a courier who fills in his own
//! surveys (all 10s, in seconds, long after the delivery).

use std::collections::HashMap;

use doorstep_domain::survey::{check_answers, ResponseStatus, SurveyDefinition};
use doorstep_domain::time::to_millis;
use doorstep_domain::OrderRecord;
use doorstep_store::{NewResponse, Store};
use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::Rng;
use serde_json::{json, Value};

/// The courier whose answers look self-filled.
pub const SELF_FILLING_COURIER: &str = "K-140";
/// The city with a bad week, and how many days ago that week began.
pub const BAD_WEEK_CITY: &str = "Київ";
const BAD_WEEK_DAYS_AGO: std::ops::Range<i64> = 21..28;
/// The city where the conversation at the door is recorded (a pilot), and
/// for how many days it has run.
pub const PILOT_CITY: &str = "Ташкент";
pub const PILOT_DAYS: i64 = 3;

/// A response whose customer agreed to a recording.
pub struct Consented {
    pub order_number: String,
    pub response_id: String,
    pub courier_id: String,
    /// How long the survey took: the conversation the recording holds.
    pub duration_ms: i64,
}

/// What the surveys' part of the demo stored.
pub struct Loaded {
    pub responses: usize,
    pub consented: Vec<Consented>,
}

/// A text in the demo's four languages: Russian, English, Ukrainian, Uzbek.
fn texts(ru: &str, en: &str, uk: &str, uz: &str) -> Value {
    json!({"ru": ru, "en": en, "uk": uk, "uz": uz})
}

/// (id, ru, en, uk, uz)
type Option5 = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// The shared vocabulary of reasons for discontent.
const REASONS: &[Option5] = &[
    (
        "late",
        "Опоздание",
        "Late delivery",
        "Запізнення",
        "Kechikish",
    ),
    (
        "damaged",
        "Повреждённый заказ",
        "Damaged order",
        "Пошкоджене замовлення",
        "Buyurtma shikastlangan",
    ),
    (
        "missing",
        "Чего-то не хватало",
        "Something was missing",
        "Чогось бракувало",
        "Nimadir yetishmadi",
    ),
    (
        "wrong",
        "Привезли не то",
        "Wrong item",
        "Привезли не те",
        "Boshqa narsa keltirildi",
    ),
    (
        "rude",
        "Невежливый курьер",
        "Impolite courier",
        "Неввічливий кур'єр",
        "Kuryer qo'pol edi",
    ),
    (
        "packaging",
        "Упаковка",
        "Packaging",
        "Пакування",
        "Qadoqlash",
    ),
];

/// The shared vocabulary of what delighted.
const DELIGHTS: &[Option5] = &[
    ("fast", "Быстро", "Fast", "Швидко", "Tez"),
    (
        "polite",
        "Вежливый курьер",
        "Polite courier",
        "Ввічливий кур'єр",
        "Xushmuomala kuryer",
    ),
    (
        "careful",
        "Аккуратно",
        "Handled with care",
        "Акуратно",
        "Ehtiyotkorlik bilan",
    ),
    (
        "on_time",
        "Точно ко времени",
        "Right on time",
        "Вчасно",
        "O'z vaqtida",
    ),
];

fn options(list: &[Option5]) -> Value {
    Value::Array(
        list.iter()
            .map(|(id, ru, en, uk, uz)| json!({"id": id, "text": texts(ru, en, uk, uz)}))
            .collect(),
    )
}

fn why_and_liked() -> Vec<Value> {
    vec![
        json!({"id": "why", "type": "multi_choice", "other": true,
               "text": texts("Что пошло не так?", "What went wrong?", "Що пішло не так?", "Nima noto'g'ri bo'ldi?"),
               "options": options(REASONS), "show_if": {"question": "nps", "max": 6}}),
        json!({"id": "photo_ok", "type": "consent",
               "text": texts("Можно сфотографировать повреждение? Фото увидит только служба качества.",
                             "May we photograph the damage? Only the quality team will see it.",
                             "Можна сфотографувати пошкодження? Фото побачить лише служба якості.",
                             "Shikastni suratga olsak bo'ladimi? Suratni faqat sifat xizmati ko'radi."),
               "show_if": {"question": "why", "in": ["damaged"]}}),
        json!({"id": "damage_photo", "type": "photo",
               "text": texts("Сфотографируйте повреждение", "Take a photo of the damage", "Сфотографуйте пошкодження", "Shikastni suratga oling"),
               "show_if": {"question": "photo_ok", "equals": true}}),
        json!({"id": "liked", "type": "multi_choice",
               "text": texts("Что понравилось?", "What did you like?", "Що сподобалося?", "Sizga nima yoqdi?"),
               "options": options(DELIGHTS), "show_if": {"question": "nps", "min": 9}}),
        json!({"id": "comment", "type": "text",
               "text": texts("Хотите что-то добавить?", "Anything to add?", "Бажаєте щось додати?", "Yana nimadir qo'shmoqchimisiz?")}),
    ]
}

fn nps_question() -> Value {
    json!({"id": "nps", "type": "nps", "required": true,
           "text": texts("Насколько вероятно, что вы порекомендуете нас друзьям?", "How likely are you to recommend us to a friend?",
                         "Наскільки ймовірно, що ви порекомендуєте нас друзям?", "Bizni do'stlaringizga tavsiya qilish ehtimoli qanchalik?")})
}

/// Promoters are asked for a public review right then.
fn review() -> Value {
    json!({"min_score": 9, "links": [
        {"id": "yandex_maps", "label": texts("Отзыв на Яндекс Картах", "Review on Yandex Maps", "Відгук на Яндекс Картах", "Yandex Xaritalarda sharh"),
         "url": "https://yandex.ru/maps/"},
        {"id": "2gis", "label": texts("Отзыв в 2ГИС", "Review on 2GIS", "Відгук у 2ГІС", "2GIS'da sharh"), "url": "https://2gis.ru/"}
    ]})
}

/// The short survey for a customer's first order.
fn first_order_survey() -> Value {
    let mut questions = vec![nps_question()];
    questions.extend(why_and_liked());
    json!({"name": "У двери: первый заказ", "timeout_seconds": 90, "questions": questions,
           "title": texts("Как прошла доставка?", "How was your delivery?", "Як пройшла доставка?", "Yetkazib berish qanday oʻtdi?"),
           "targeting": {"segments": ["new"]}, "review": review()})
}

/// The pilot: the short survey, with the conversation recorded when the
/// customer agrees, for every order in one city.
fn pilot_survey() -> Value {
    let mut questions = vec![nps_question()];
    questions.extend(why_and_liked());
    json!({"name": "У двери: Ташкент, запись разговора (пилот)", "timeout_seconds": 120, "questions": questions,
           "title": texts("Как прошла доставка?", "How was your delivery?", "Як пройшла доставка?", "Yetkazib berish qanday oʻtdi?"),
           "targeting": {"cities": [PILOT_CITY], "priority": 10}, "review": review(),
           "recording": {"max_seconds": 300}})
}

/// The longer survey for returning customers, with CSI factors and CES.
fn repeat_survey() -> Value {
    let mut questions = vec![
        nps_question(),
        json!({"id": "csi", "type": "scale", "min": 1, "max": 9, "measures": "csi",
               "text": texts("Как вы оцениваете доставку в целом?", "How do you rate the delivery overall?",
                             "Як ви оцінюєте доставку загалом?", "Yetkazib berishni umuman qanday baholaysiz?"),
               "min_label": texts("очень плохо", "very poor", "дуже погано", "juda yomon"),
               "max_label": texts("отлично", "excellent", "чудово", "aʼlo")}),
        json!({"id": "speed", "type": "scale", "min": 1, "max": 5, "measures": "factor:speed", "weight": 0.4,
               "text": texts("Скорость доставки", "Speed of delivery", "Швидкість доставки", "Yetkazib berish tezligi"),
               "min_label": texts("очень медленно", "very slow", "дуже повільно", "juda sekin"),
               "max_label": texts("очень быстро", "very fast", "дуже швидко", "juda tez")}),
        json!({"id": "courier", "type": "scale", "min": 1, "max": 5, "measures": "factor:courier", "weight": 0.35,
               "text": texts("Вежливость курьера", "Courier's politeness", "Ввічливість кур'єра", "Kuryerning xushmuomalaligi"),
               "min_label": texts("грубо", "rude", "грубо", "qo'pol"),
               "max_label": texts("очень вежливо", "very polite", "дуже ввічливо", "juda xushmuomala")}),
        json!({"id": "packaging", "type": "scale", "min": 1, "max": 5, "measures": "factor:packaging", "weight": 0.25,
               "text": texts("Упаковка", "Packaging", "Пакування", "Qadoqlash"),
               "min_label": texts("очень плохо", "very poor", "дуже погано", "juda yomon"),
               "max_label": texts("отлично", "excellent", "чудово", "aʼlo")}),
        json!({"id": "ease", "type": "scale", "min": 1, "max": 7, "measures": "ces",
               "text": texts("Получить заказ было легко", "Getting my order was easy",
                             "Отримати замовлення було легко", "Buyurtmani olish oson bo'ldi"),
               "min_label": texts("совсем не согласен", "strongly disagree", "зовсім не згоден", "umuman rozi emasman"),
               "max_label": texts("полностью согласен", "strongly agree", "повністю згоден", "to'liq roziman")}),
    ];
    questions.extend(why_and_liked());
    json!({"name": "У двери: постоянный клиент", "timeout_seconds": 120, "questions": questions,
           "title": texts("Как прошла доставка?", "How was your delivery?", "Як пройшла доставка?", "Yetkazib berish qanday oʻtdi?"),
           "targeting": {"segments": ["repeat"]}, "review": review()})
}

/// A courier's manner, drawn once: how pleased customers are with them.
/// Lopsided on purpose: a rude courier can cost a lot, but the most
/// pleasant honest one gets a 10 from about a dozen points more customers
/// than the fleet does, not twenty (twenty more is what the self-filling
/// signals look for, and the demo's honest couriers must not trip them).
fn courier_mood(rng: &mut StdRng) -> f64 {
    rng.gen_range(-0.8..0.5)
}

/// Publishes the door surveys and answers for about half the delivered
/// orders (in the pilot city's last days, with the recording consent).
pub async fn load(
    store: &Store,
    rng: &mut StdRng,
    orders: &[OrderRecord],
) -> anyhow::Result<Loaded> {
    let first: SurveyDefinition = serde_json::from_value(first_order_survey())?;
    let repeat: SurveyDefinition = serde_json::from_value(repeat_survey())?;
    let pilot: SurveyDefinition = serde_json::from_value(pilot_survey())?;
    for (id, survey) in [
        ("door-first", &first),
        ("door-repeat", &repeat),
        ("door-pilot", &pilot),
    ] {
        store
            .create_survey(id, &survey.name, &serde_json::to_string(survey)?)
            .await?;
    }
    // Which order is each customer's first (the segment).
    let mut first_of: HashMap<&str, (Timestamp, &str)> = HashMap::new();
    for o in orders {
        let key = (o.promised_from, o.order_number.as_str());
        let e = first_of.entry(o.customer_phone.as_str()).or_insert(key);
        *e = (*e).min(key);
    }
    let mut moods: HashMap<&str, f64> = HashMap::new();
    let now = Timestamp::now();
    let tz = store.deployment().await?.tz();
    let (today, _) = doorstep_domain::time::local_day(doorstep_store::now_millis(), &tz);
    let tagger = store.vocabulary().await?.tagger();
    let mut batch = Vec::with_capacity(1000);
    let mut stored = 0;
    let mut consented = Vec::new();
    for o in orders {
        let Some(delivered) = o.delivered_at else {
            continue;
        };
        if !rng.gen_bool(0.55) {
            continue;
        }
        let courier = o.courier_id.as_deref().unwrap_or("");
        let mood = *moods.entry(courier).or_insert_with(|| courier_mood(rng));
        let is_first = first_of
            .get(o.customer_phone.as_str())
            .is_some_and(|f| f.1 == o.order_number.as_str());
        let days_ago = (now.as_second() - o.promised_from.as_second()) / 86_400;
        let in_pilot = o.city == PILOT_CITY && days_ago < PILOT_DAYS;
        let (survey_id, survey) = if in_pilot {
            ("door-pilot", &pilot)
        } else if is_first {
            ("door-first", &first)
        } else {
            ("door-repeat", &repeat)
        };
        let self_filled = courier == SELF_FILLING_COURIER;
        let roll: f64 = rng.gen();
        let status = if self_filled || roll < 0.76 {
            ResponseStatus::Completed
        } else if roll < 0.9 {
            ResponseStatus::Refused
        } else {
            ResponseStatus::TimedOut
        };
        let late = delivered > o.promised_to;
        let bad_week = o.city == BAD_WEEK_CITY && BAD_WEEK_DAYS_AGO.contains(&days_ago);
        let answers = if status == ResponseStatus::Refused {
            Vec::new()
        } else {
            answers_for(
                rng,
                survey,
                &Circumstances {
                    late,
                    bad_week,
                    mood,
                    self_filled,
                    timed_out: status == ResponseStatus::TimedOut,
                },
            )
        };
        let checked = check_answers(survey, status, &answers)
            .map_err(|p| anyhow::anyhow!("demo answers do not fit the demo survey: {p:?}"))?;
        // Normally the customer answers a minute or two after the handover;
        // the self-filler taps through hours later, in a few seconds.
        let (delay, duration) = if self_filled {
            (rng.gen_range(3 * 3600..9 * 3600), rng.gen_range(6..14))
        } else {
            (rng.gen_range(20..240), rng.gen_range(35..170))
        };
        let started = to_millis(delivered) + delay * 1000;
        // About a third of the promoters open a review link.
        let review_opened = survey
            .review
            .as_ref()
            .filter(|r| {
                status == ResponseStatus::Completed && r.due(survey, &checked) && rng.gen_bool(0.35)
            })
            .map(|r| r.links[usize::from(rng.gen_bool(0.3))].id.clone());
        let id = uuid::Builder::from_random_bytes(rng.gen())
            .into_uuid()
            .to_string();
        let (day, month) = doorstep_domain::time::local_day(started + duration * 1000, &tz);
        // The self-filler "agrees" to every recording he never makes.
        let recording_consent = in_pilot.then(|| self_filled || rng.gen_bool(0.75));
        if recording_consent == Some(true) && status == ResponseStatus::Completed {
            consented.push(Consented {
                order_number: o.order_number.as_str().to_owned(),
                response_id: id.clone(),
                courier_id: courier.to_owned(),
                duration_ms: duration * 1000,
            });
        }
        batch.push(NewResponse {
            day,
            month,
            facts: doorstep_domain::survey::metrics::facts(survey, &checked),
            causes: tagger.tag(&checked),
            content_hash: crate::security::sha256_hex(&id),
            id,
            order_number: o.order_number.as_str().to_owned(),
            survey_id: survey_id.to_owned(),
            survey_version: 1,
            status,
            channel: doorstep_domain::survey::Channel::Terminal,
            mode: Some(
                if rng.gen_bool(0.7) {
                    "handover"
                } else {
                    "interviewer"
                }
                .to_owned(),
            ),
            language: Some(
                match o.city.as_str() {
                    "Ташкент" if rng.gen_bool(0.3) => "uz",
                    "Київ" if rng.gen_bool(0.6) => "uk",
                    _ => "ru",
                }
                .to_owned(),
            ),
            token_id: None,
            started_at: started,
            finished_at: started + duration * 1000,
            answers: checked,
            review_opened,
            recording_consent,
        });
        if batch.len() == 1000 {
            stored += store.store_responses(&batch, None, today).await?.len();
            batch.clear();
        }
    }
    stored += store.store_responses(&batch, None, today).await?.len();
    Ok(Loaded {
        responses: stored,
        consented,
    })
}

fn pick_some(rng: &mut StdRng, list: &[Option5], forced: Option<&str>) -> Value {
    let mut chosen: Vec<&str> = forced.into_iter().collect();
    for (id, ..) in list {
        if rng.gen_bool(0.18) && !chosen.contains(id) {
            chosen.push(id);
        }
    }
    if chosen.is_empty() {
        chosen.push(list[rng.gen_range(0..list.len())].0);
    }
    json!(chosen)
}

/// What happened around one delivery, which the answers follow.
#[derive(Clone, Copy)]
struct Circumstances {
    late: bool,
    bad_week: bool,
    /// The courier's manner, −0.8 … 0.8.
    mood: f64,
    self_filled: bool,
    timed_out: bool,
}

/// Answers that follow from what happened: a late order, a bad week, the
/// courier's manner. Time-outs stop partway.
fn answers_for(
    rng: &mut StdRng,
    survey: &SurveyDefinition,
    at: &Circumstances,
) -> Vec<(String, Value)> {
    let Circumstances {
        late,
        bad_week,
        mood,
        self_filled,
        timed_out,
    } = *at;
    let mut out = Vec::new();
    if self_filled {
        for q in &survey.questions {
            match (q.kind, q.max) {
                (doorstep_domain::survey::QuestionType::Nps, _) => {
                    out.push((q.id.clone(), json!(10)));
                }
                (doorstep_domain::survey::QuestionType::Scale, Some(max)) => {
                    out.push((q.id.clone(), json!(max)));
                }
                _ => {}
            }
        }
        out.push(("liked".to_owned(), json!(["fast"])));
        return out;
    }
    let base = 8.6 + mood - if late { 3.6 } else { 0.0 } - if bad_week { 2.4 } else { 0.0 };
    let nps = (base + rng.gen_range(-2.2..2.2)).round().clamp(0.0, 10.0) as i64;
    out.push(("nps".to_owned(), json!(nps)));
    if timed_out && rng.gen_bool(0.6) {
        return out;
    }
    let share = nps as f64 / 10.0;
    for q in &survey.questions {
        if q.kind != doorstep_domain::survey::QuestionType::Scale {
            continue;
        }
        let (min, max) = (q.min.unwrap_or(1) as f64, q.max.unwrap_or(5) as f64);
        // The factors follow what happened, so the key drivers show it:
        // speed is what lateness costs (it moves NPS most and scores
        // lowest), the courier's manner moves it less, packaging barely.
        let value = match q.id.as_str() {
            "speed" if late => rng.gen_range(1.0..2.6),
            "speed" if bad_week => rng.gen_range(1.5..3.6),
            "speed" => rng.gen_range(3.2..5.0),
            "courier" => 3.9 + mood * 1.6 + rng.gen_range(-0.9..0.9),
            "packaging" => rng.gen_range(3.5..5.0) + (share - 0.8) * 0.5,
            _ => min + (max - min) * share + rng.gen_range(-1.0..1.0),
        };
        out.push((q.id.clone(), json!(value.round().clamp(min, max) as i64)));
    }
    if nps <= 6 {
        let cause = if late || bad_week { Some("late") } else { None };
        out.push(("why".to_owned(), pick_some(rng, REASONS, cause)));
        if rng.gen_bool(0.35) {
            let texts = [
                "Курьер опоздал почти на час и не позвонил",
                "Пакет был порван",
                "Не было одного товара из заказа",
                "Долго ждала, никто не предупредил",
            ];
            out.push((
                "comment".to_owned(),
                json!(texts[rng.gen_range(0..texts.len())]),
            ));
        }
    } else if nps >= 9 {
        out.push(("liked".to_owned(), pick_some(rng, DELIGHTS, None)));
        if rng.gen_bool(0.2) {
            let texts = [
                "Спасибо, всё отлично!",
                "Курьер очень вежливый",
                "Привезли даже раньше",
                "Всё аккуратно упаковано",
            ];
            out.push((
                "comment".to_owned(),
                json!(texts[rng.gen_range(0..texts.len())]),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use doorstep_domain::survey::SurveyDefinition;

    /// A customer who picks Ukrainian or Uzbek reads the whole survey in it.
    #[test]
    fn the_demo_surveys_have_every_text_in_all_four_languages() {
        for survey in [super::first_order_survey(), super::repeat_survey()] {
            let d: SurveyDefinition = serde_json::from_value(survey).unwrap();
            assert!(d.validate().is_empty(), "{:?}", d.validate());
            assert_eq!(d.languages(), ["en", "ru", "uk", "uz"]);
            assert_eq!(d.missing_texts(), Vec::new(), "{}", d.name);
        }
    }
}
