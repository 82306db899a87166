//! Self-service in the chat (seed 003: 70% of contacts are general
//! questions). Until a person joins a chat, the assistant answers the
//! common questions itself, in the customer's language: where is my order
//! (delivered, on its way with whom and in which window, or late),
//! change the delivery time or address (the next message is passed to the
//! company as an `order.change_requested` event — its systems confirm back
//! on the case), a call back (an incident in the dispatcher's queue), and
//! "thank you" settles the chat. The customer can always reach a person:
//! asking for one stops the assistant on the case; so does any reply by a
//! person. Contained chats — settled without a person — are reported.

use doorstep_domain::helpdesk::cases::{CaseChannel, CaseStatus};
use doorstep_store::events::NewEvent;
use doorstep_store::helpdesk::bot::{BotAnswer, BOT_MARK};
use doorstep_store::helpdesk::cases::Case;
use doorstep_store::helpdesk::Actor;
use doorstep_store::StoreError;

use crate::app::App;
use crate::i18n::CustomerTr;

/// The setting that turns the assistant off (`off`); on unless said.
pub const SETTING: &str = "chat_assistant";

/// Whether the deployment's chats have the assistant.
pub async fn enabled(store: &doorstep_store::Store) -> Result<bool, StoreError> {
    Ok(store.setting(SETTING).await?.as_deref() != Some("off"))
}

/// What a customer's message asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Person,
    Thanks,
    Where,
    Change,
    CallBack,
    Other,
}

/// Words that say it, by intent, in the languages customers write (parts
/// of words: "перезвон" finds "перезвоните").
const WORDS: [(Intent, &[&str]); 5] = [
    (
        Intent::Person,
        &[
            "оператор",
            "человек",
            "сотрудник",
            "operator",
            "person",
            "human",
            "agent",
            "людин",
            "xodim",
            "odam",
        ],
    ),
    (
        Intent::CallBack,
        &[
            "перезвон",
            "позвоните",
            "call me",
            "call back",
            "callback",
            "передзвон",
            "зателефонуйте",
            "qo'ng'iroq",
            "qoʻngʻiroq",
        ],
    ),
    (
        Intent::Change,
        &[
            "измен",
            "перенес",
            "адрес",
            "другое время",
            "change",
            "address",
            "reschedule",
            "змін",
            "перенест",
            "адрес",
            "o'zgart",
            "oʻzgart",
            "manzil",
        ],
    ),
    (
        Intent::Where,
        &[
            "где",
            "когда",
            "статус",
            "where",
            "when",
            "status",
            "track",
            "де ",
            "коли",
            "qayer",
            "qachon",
        ],
    ),
    (
        Intent::Thanks,
        &["спасибо", "благодар", "thank", "thanks", "дякую", "rahmat"],
    ),
];

/// What a message asks: the first intent whose word it holds.
pub fn intent(text: &str) -> Intent {
    let text = format!("{} ", text.to_lowercase());
    WORDS
        .iter()
        .find(|(_, words)| words.iter().any(|w| text.contains(w)))
        .map_or(Intent::Other, |(i, _)| *i)
}

/// The channels the assistant speaks on.
fn chat_like(channel: &str) -> bool {
    matches!(
        CaseChannel::parse(channel),
        Some(CaseChannel::Chat | CaseChannel::Messenger | CaseChannel::Social | CaseChannel::App)
    )
}

/// Answers a customer's message on `case` (just stored, on `channel`)
/// when no person has joined: the reply's key makes it once per message.
pub async fn after_message(
    app: &App,
    case: &Case,
    channel: &str,
    text: &str,
    language: &str,
) -> Result<(), StoreError> {
    answer(&app.store, &app.deployment(), case, channel, text, language).await
}

/// [`after_message`] from the store and the deployment.
pub async fn answer(
    store: &doorstep_store::Store,
    deployment: &doorstep_domain::settings::Deployment,
    case: &Case,
    channel: &str,
    text: &str,
    language: &str,
) -> Result<(), StoreError> {
    if !case.is_open() || !chat_like(channel) || !enabled(store).await? {
        return Ok(());
    }
    let entries = store.case_entries(&case.id).await?;
    let person_replied = entries.iter().any(|e| {
        e.kind == "contact"
            && e.direction.as_deref()
                == Some(doorstep_domain::helpdesk::cases::Direction::Outbound.as_str())
            && e.by_person()
    });
    if person_replied {
        return Ok(());
    }
    let marks: Vec<&str> = entries
        .iter()
        .filter(|e| e.kind == "event")
        .filter_map(|e| e.body.strip_prefix(BOT_MARK))
        .collect();
    if marks.contains(&"person") {
        return Ok(());
    }
    let t = CustomerTr::new(language);
    let key = format!("bot:{}:{}", case.id, case.contacts);
    let mut answer = BotAnswer {
        key: &key,
        channel,
        text: "",
        mark: "",
        call_back: None,
        events: Vec::new(),
    };
    let reply: String;
    let mut settle = false;
    if marks.last() == Some(&"change") && intent(text) != Intent::Person {
        // The change asked: passed to the company, to confirm back here.
        answer.events.push(NewEvent::new(
            "order.change_requested",
            &serde_json::json!({
                "case_id": case.id,
                "case_number": case.number,
                "order_number": case.order_number,
                "customer_phone": case.customer_phone,
                "text": text,
            }),
        ));
        reply = t.with("bot-change-sent", "company", deployment.name.as_str());
        answer.mark = "change_sent";
    } else {
        match intent(text) {
            Intent::Person => {
                reply = t.t("bot-person");
                answer.mark = "person";
            }
            Intent::Thanks if !marks.is_empty() => {
                reply = t.t("bot-bye");
                answer.mark = "settled";
                settle = true;
            }
            Intent::Where => {
                reply = where_is(store, deployment, case, &t).await?;
                answer.mark = "where";
            }
            Intent::Change if case.order_number.is_some() => {
                reply = t.t("bot-change-ask");
                answer.mark = "change";
            }
            Intent::CallBack => {
                reply = match &case.customer_phone {
                    Some(phone) => t.with("bot-callback", "phone", phone.as_str()),
                    None => t.t("bot-callback-no-phone"),
                };
                answer.mark = "callback";
                answer.call_back = Some(format!("asked in the chat to be called back: {text}"));
            }
            _ if marks.contains(&"menu") => return Ok(()),
            _ => {
                reply = t.with("bot-menu", "company", deployment.name.as_str());
                answer.mark = "menu";
            }
        }
    }
    answer.text = &reply;
    if store.bot_answer(&case.id, &answer).await? && settle {
        let actor = Actor {
            id: doorstep_store::helpdesk::bot::BOT_AUTHOR,
            login: doorstep_store::helpdesk::bot::BOT_AUTHOR,
            overrides: false,
        };
        // Owned by an operator meanwhile: theirs to settle.
        let _ = store
            .set_case_status(&case.id, CaseStatus::Resolved, actor)
            .await?;
    }
    Ok(())
}

/// Where the case's order is (else the customer's latest order), as the
/// latest status tells it.
async fn where_is(
    store: &doorstep_store::Store,
    deployment: &doorstep_domain::settings::Deployment,
    case: &Case,
    t: &CustomerTr,
) -> Result<String, StoreError> {
    let order = match (&case.order_number, &case.customer_phone) {
        (Some(n), _) => store.order(n).await?,
        (None, Some(phone)) => store
            .search_orders(
                &doorstep_store::OrderFilter {
                    phone: Some(phone.clone()),
                    ..doorstep_store::OrderFilter::default()
                },
                1,
                0,
            )
            .await?
            .orders
            .into_iter()
            .next(),
        (None, None) => None,
    };
    let Some(order) = order else {
        return Ok(t.t("bot-where-unknown"));
    };
    let tz = super::notices::city_zone(store, deployment, Some(&order.city)).await?;
    let clock = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .map(|ts| ts.to_zoned(tz.clone()).strftime("%d.%m %H:%M").to_string())
            .unwrap_or_default()
    };
    let courier = order
        .courier_name
        .clone()
        .or_else(|| order.courier_id.clone())
        .unwrap_or_default();
    let number = order.order_number.as_str();
    Ok(match order.delivered_at {
        Some(at) => t.with_all(
            "bot-where-delivered",
            &[("number", number), ("time", &clock(at))],
        ),
        None if doorstep_store::now_millis() > order.promised_to => t.with_all(
            "bot-where-late",
            &[
                ("number", number),
                ("time", &clock(order.promised_to)),
                ("courier", &courier),
            ],
        ),
        None => t.with_all(
            "bot-where-on-way",
            &[
                ("number", number),
                ("from", &clock(order.promised_from)),
                ("to", &clock(order.promised_to)),
                ("courier", &courier),
            ],
        ),
    })
}
