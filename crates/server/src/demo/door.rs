//! The door's other records in the demo: the pilot city's recorded
//! conversations (generated audio as long as each survey took; none from
//! the self-filler, who agrees and records nothing), items refused at the
//! door with their reasons (one partner's kitchen often the cause), and
//! mystery-shopper inspections of couriers.

use std::path::Path;

use doorstep_domain::refusal::RefusedItem;
use doorstep_domain::survey::{check_answers, ResponseStatus, SurveyDefinition};
use doorstep_domain::time::to_millis;
use doorstep_domain::OrderRecord;
use doorstep_store::inspections::NewInspection;
use doorstep_store::recordings::NewRecording;
use doorstep_store::refusals::NewRefusal;
use doorstep_store::Store;
use rand::rngs::StdRng;
use rand::Rng;
use serde_json::{json, Value};

use super::surveys::{Consented, SELF_FILLING_COURIER};

/// The partner whose orders are refused for their quality most often.
pub const POOR_QUALITY_PARTNER: &str = "Кафе «Самовар»";

/// What this part of the demo stored.
#[derive(Debug, Default)]
pub struct Summary {
    pub recordings: usize,
    pub refusals: usize,
    pub inspections: usize,
}

/// Samples a second of the generated recordings: low enough to keep a
/// two-minute conversation to ~350 KB, as a phone's speech codec would.
const SAMPLE_RATE: u32 = 3_000;

/// A WAV file (8-bit PCM, mono) of `seconds` of speech-like murmur: a voice
/// tone rising and falling in syllables, with pauses and a little noise.
fn murmur(rng: &mut StdRng, seconds: f64) -> Vec<u8> {
    let samples = (seconds * f64::from(SAMPLE_RATE)) as u32;
    let mut out = Vec::with_capacity(44 + samples as usize);
    // The RIFF/WAVE header of PCM data: 44 bytes, nothing to encode.
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + samples).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    out.extend_from_slice(&SAMPLE_RATE.to_le_bytes()); // bytes a second
    out.extend_from_slice(&1u16.to_le_bytes()); // bytes a sample
    out.extend_from_slice(&8u16.to_le_bytes()); // bits a sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&samples.to_le_bytes());
    let pitch = rng.gen_range(110.0..240.0_f64);
    let rate = f64::from(SAMPLE_RATE);
    for i in 0..samples {
        let t = f64::from(i) / rate;
        // Syllables about four a second, a pause every few seconds.
        let syllable = (t * 4.0 * std::f64::consts::PI).sin().abs();
        let phrase = if (t % 5.0) > 4.2 { 0.0 } else { 1.0 };
        let voice = (std::f64::consts::TAU * pitch * t).sin()
            + 0.4 * (std::f64::consts::TAU * 2.0 * pitch * t).sin();
        let noise: f64 = rng.gen_range(-0.05..0.05);
        let v = 0.35 * syllable * phrase * voice + noise;
        out.push((128.0 + 127.0 * v.clamp(-1.0, 1.0)) as u8);
    }
    out
}

/// The recordings of the pilot's consented responses: the file kept in the
/// data directory like any upload, then tied to its response.
pub async fn recordings(
    store: &Store,
    data_dir: &Path,
    rng: &mut StdRng,
    consented: &[Consented],
) -> anyhow::Result<usize> {
    let tz = store.deployment().await?.tz();
    let mut made = 0;
    for c in consented {
        if c.courier_id == SELF_FILLING_COURIER {
            continue;
        }
        // The recording starts at the first question, a few seconds in.
        let seconds = (c.duration_ms as f64 / 1000.0 - rng.gen_range(2.0..6.0)).max(3.0);
        let bytes = murmur(rng, seconds);
        let id = crate::security::sha256_bytes_hex(&bytes);
        crate::app::survey::attachments::save(data_dir, &id, &bytes).await?;
        store
            .add_attachment(&id, "voice", "audio/wav", bytes.len() as i64, None)
            .await?;
        store
            .attach_recording(
                &NewRecording {
                    order_number: &c.order_number,
                    response_id: &c.response_id,
                    attachment_id: &id,
                    duration_ms: (seconds * 1000.0) as i64,
                    token_id: None,
                    courier: None,
                },
                &tz,
            )
            .await?;
        made += 1;
    }
    Ok(made)
}

const REFUSED_ITEMS: &[&str] = &[
    "Молоко 2,5% 1 л",
    "Яйца С1, 10 шт.",
    "Торт «Наполеон»",
    "Пицца «Маргарита»",
    "Букет тюльпанов",
    "Сыр «Российский» 300 г",
    "Клубника 500 г",
    "Наушники",
];

/// Items refused at the door in about one delivered order in sixty (one
/// in twelve of the poor-quality partner's), with their reasons.
pub async fn refusals(
    store: &Store,
    rng: &mut StdRng,
    orders: &[OrderRecord],
) -> anyhow::Result<usize> {
    let tz = store.deployment().await?.tz();
    let mut made = 0;
    for o in orders {
        let Some(delivered) = o.delivered_at else {
            continue;
        };
        let poor = o.partner.as_deref() == Some(POOR_QUALITY_PARTNER);
        if !rng.gen_bool(if poor { 1.0 / 12.0 } else { 1.0 / 60.0 }) {
            continue;
        }
        let reason = if poor && rng.gen_bool(0.6) {
            "quality"
        } else {
            *super::pick(
                rng,
                &[
                    "damaged",
                    "damaged",
                    "wrong_item",
                    "wrong_item",
                    "not_ordered",
                    "changed_mind",
                    "quality",
                    "other",
                ],
            )
        };
        let whole = reason == "changed_mind" && rng.gen_bool(0.5);
        let note = (reason == "other").then_some("Клиент не смог объяснить, передал диспетчеру");
        let item = if whole {
            String::new()
        } else {
            (*super::pick(rng, REFUSED_ITEMS)).to_owned()
        };
        let items = [
            RefusedItem::check(&item, Some(rng.gen_range(1..3)), reason, note, whole)
                .map_err(|p| anyhow::anyhow!("a demo refusal does not check: {p:?}"))?,
        ];
        let Some(order) = store.order(o.order_number.as_str()).await? else {
            continue;
        };
        let id = uuid::Builder::from_random_bytes(rng.gen())
            .into_uuid()
            .to_string();
        let at = to_millis(delivered) + rng.gen_range(30_000..300_000);
        store
            .record_refusal(&NewRefusal {
                id: &id,
                order: &order,
                whole_order: whole,
                items: &items,
                token_id: None,
                recorded_at: at,
                day: doorstep_domain::time::local_day(at, &tz).0,
            })
            .await?;
        made += 1;
    }
    Ok(made)
}

/// The mystery shoppers' check of a courier.
fn inspection_survey() -> Value {
    let scale = |id: &str, ru: &str, en: &str| {
        json!({"id": id, "type": "scale", "min": 1, "max": 5, "measures": format!("factor:{id}"), "required": true,
               "text": {"ru": ru, "en": en}, "min_label": {"ru": "плохо", "en": "poor"}, "max_label": {"ru": "отлично", "en": "excellent"}})
    };
    json!({"name": "Тайный покупатель: проверка курьера", "inspection": true, "questions": [
        scale("punctuality", "Пунктуальность: пришёл в обещанное окно", "Punctuality: within the promised window"),
        scale("appearance", "Внешний вид и форма", "Appearance and uniform"),
        scale("politeness", "Вежливость", "Politeness"),
        {"id": "script", "type": "single_choice", "required": true,
         "text": {"ru": "Курьер следовал скрипту компании (поздоровался, назвал заказ, предложил опрос)?",
                  "en": "Did the courier follow the company's script (greeted, named the order, offered the survey)?"},
         "options": [{"id": "yes", "text": {"ru": "Да", "en": "Yes"}}, {"id": "partly", "text": {"ru": "Частично", "en": "Partly"}},
                     {"id": "no", "text": {"ru": "Нет", "en": "No"}}]},
        {"id": "notes", "type": "text", "text": {"ru": "Замечания проверяющего", "en": "The inspector's notes"}}
    ]})
}

const INSPECTORS: &[&str] = &["Тайный покупатель: Ирина", "Тайный покупатель: Олег"];

/// About one inspection of each courier a month, by two inspectors.
pub async fn inspections(
    store: &Store,
    rng: &mut StdRng,
    orders: &[OrderRecord],
) -> anyhow::Result<usize> {
    let survey: SurveyDefinition = serde_json::from_value(inspection_survey())?;
    store
        .create_survey(
            "mystery-shopper",
            &survey.name,
            &serde_json::to_string(&survey)?,
        )
        .await?;
    let mut made = 0;
    for o in orders {
        let Some(delivered) = o.delivered_at else {
            continue;
        };
        // ~24,000 orders of 48 couriers over three months: one in 170.
        if !rng.gen_bool(1.0 / 170.0) {
            continue;
        }
        let careless = o.courier_id.as_deref() == Some(SELF_FILLING_COURIER);
        let late = delivered > o.promised_to;
        let mark = |rng: &mut StdRng, low: i64| json!(rng.gen_range(low..=5));
        let script = if careless {
            "no"
        } else {
            *super::pick(rng, &["yes", "yes", "yes", "partly", "no"])
        };
        let mut answers = vec![
            (
                "punctuality".to_owned(),
                if late {
                    json!(rng.gen_range(1..=3))
                } else {
                    mark(rng, 4)
                },
            ),
            (
                "appearance".to_owned(),
                mark(rng, if careless { 2 } else { 3 }),
            ),
            (
                "politeness".to_owned(),
                mark(rng, if careless { 1 } else { 3 }),
            ),
            ("script".to_owned(), json!(script)),
        ];
        if script != "yes" {
            answers.push((
                "notes".to_owned(),
                json!(if script == "no" {
                    "Не поздоровался, опрос не предложил"
                } else {
                    "Опрос предложил, но заказ не назвал"
                }),
            ));
        }
        let checked = check_answers(&survey, ResponseStatus::Completed, &answers)
            .map_err(|p| anyhow::anyhow!("a demo inspection does not check: {p:?}"))?;
        let Some(order) = store.order(o.order_number.as_str()).await? else {
            continue;
        };
        let id = uuid::Builder::from_random_bytes(rng.gen())
            .into_uuid()
            .to_string();
        let started = to_millis(delivered) + rng.gen_range(60_000..600_000);
        let inspector = *super::pick(rng, INSPECTORS);
        store
            .record_inspection(&NewInspection {
                id: &id,
                order: &order,
                survey_id: "mystery-shopper",
                survey_version: 1,
                inspector,
                token_id: None,
                started_at: started,
                finished_at: started + rng.gen_range(120_000..400_000),
                content_hash: &crate::security::sha256_hex(&id),
                answers: &checked,
            })
            .await?;
        made += 1;
    }
    Ok(made)
}
