//! `/customers/{phone}`: the customer's personal file — who they are, what
//! they spent and were given back (lifetime value), their NPS over time,
//! open cases, a claim-abuse mark with its evidence, and one timeline of
//! orders, answers, incidents, cases with their contacts, remedies and
//! ledger entries. Reachable from every order, case and incident.

use askama::Template;
use axum::extract::{Path, Query, State};
use doorstep_domain::time::{format_local, from_millis};
use serde::Deserialize;

use super::cases::money;
use super::orders::{encode, OrderRow, Zones};
use super::{render, Chrome, OrPage, PageError, PageResult};
use crate::app::helpdesk::file::{claim_signal, summarise};
use crate::http::auth::{AdminOnly, AnyStaff, CaseDesk, Staff};
use crate::http::AppState;
use crate::i18n::Tr;

/// One line of the timeline.
pub struct Event {
    at: i64,
    pub when: String,
    /// `order`, `answer`, `incident`, `case`, `contact`, `remedy`, `ledger`.
    pub kind: &'static str,
    pub label: String,
    pub text: String,
    pub href: String,
    /// A score's or an amount's tone: `good`, `bad` or empty.
    pub tone: &'static str,
}

/// One NPS answer as a chip.
pub struct NpsChip {
    pub score: i64,
    pub tone: &'static str,
    pub when: String,
}

#[derive(Template)]
#[template(path = "customer.html")]
struct FilePage {
    c: Chrome,
    phone: String,
    name: String,
    email: String,
    segment: String,
    first_order: String,
    last_order: String,
    late_orders: i64,
    /// The on-time rate of the delivered orders in the file (METRICS.md):
    /// "92.3% of 45 delivered", or empty without any.
    on_time: String,
    orders: usize,
    delivered: i64,
    spend: String,
    compensation: String,
    balance: String,
    lifetime_value: String,
    open_cases: usize,
    nps: Vec<NpsChip>,
    claims: Option<String>,
    rows: Vec<OrderRow>,
    /// The orders table names no customer here: it is the customer's card.
    show_customer: bool,
    more_href: Option<String>,
    events: Vec<Event>,
    /// Cases, remedies and the ledger are the support desk's to see.
    support: bool,
    new_case_href: String,
    may_erase: bool,
    erased: bool,
}

#[derive(Deserialize)]
pub struct FileQuery {
    erased: Option<String>,
}

fn tone_of_nps(score: f64) -> &'static str {
    if score >= 9.0 {
        "good"
    } else if score <= 6.0 {
        "bad"
    } else {
        ""
    }
}

/// The claim-abuse mark's text, with its evidence.
pub fn claims_text(t: Tr<'_>, s: &doorstep_domain::helpdesk::claims::ClaimSignal) -> String {
    t.args(
        "claims-signal",
        vec![
            ("claims", (s.claims as i64).into()),
            ("orders", (s.orders as i64).into()),
            ("expected", format!("{:.2}", s.expected).into()),
            (
                "every",
                format!("{:.0}", 1.0 / s.population_rate.max(1e-9)).into(),
            ),
            ("chance", format_chance(s.p_value).into()),
        ],
    )
}

fn format_chance(p: f64) -> String {
    if p < 0.0001 {
        "< 0.0001".to_owned()
    } else {
        format!("{p:.4}")
    }
}

#[allow(clippy::too_many_lines)]
pub async fn file(
    State(app): State<AppState>,
    Staff(user, _): Staff<AnyStaff>,
    Path(phone): Path<String>,
    Query(q): Query<FileQuery>,
) -> PageResult {
    let customer = app.store.customer(&phone).await.page(user.lang)?;
    let file = app.store.customer_file(&phone).await.page(user.lang)?;
    if customer.is_none()
        && file.cases.is_empty()
        && file.ledger.entries.is_empty()
        && file.calls.is_empty()
    {
        return Err(PageError::NotFound(user.lang));
    }
    let support = user.may::<CaseDesk>();
    let mut c = Chrome::new(&app, &user, "/orders", "customer-title");
    let t = c.tr;
    let name = customer
        .as_ref()
        .and_then(|k| k.name.clone())
        .unwrap_or_else(|| t.t("customer-unnamed"));
    c.title = name.clone();
    let tz = app.deployment().tz();
    let currency = app.deployment().currency;
    let zones = Zones::load(&app).await.page(user.lang)?;
    let now = doorstep_store::now_millis();
    let when = |ms: i64| format_local(from_millis(ms), &tz);
    let summary = summarise(&file);
    let signal = if support {
        claim_signal(&app, &phone).await.page(user.lang)?
    } else {
        None
    };
    let mut events: Vec<Event> = Vec::new();
    let mut push = |at: i64,
                    kind: &'static str,
                    label: String,
                    text: String,
                    href: String,
                    tone: &'static str| {
        events.push(Event {
            at,
            when: String::new(),
            kind,
            label,
            text,
            href,
            tone,
        });
    };
    for o in &file.orders {
        let status = o.status(now);
        let tone = match status.as_str() {
            "delivered_late" | "late" => "bad",
            _ => "",
        };
        push(
            o.delivered_at.unwrap_or(o.promised_from),
            "order",
            t.with("file-order", "number", o.order_number.clone()),
            format!(
                "{} · {}{}",
                t.t(&format!("status-{}", status.as_str())),
                o.city,
                o.amount_minor
                    .map(|a| format!(" · {}", money(a, &currency)))
                    .unwrap_or_default()
            ),
            format!("/orders/{}", encode(&o.order_number)),
            tone,
        );
    }
    let numbers: Vec<&str> = file
        .orders
        .iter()
        .map(|o| o.order_number.as_str())
        .collect();
    let refused = app.store.refused_items(&numbers).await.page(user.lang)?;
    for (refusal, items) in super::orders::refusals(&refused, t) {
        push(
            refusal.recorded_at,
            "refusal",
            t.with(
                if refusal.whole_order {
                    "file-refused-whole"
                } else {
                    "file-refused"
                },
                "order",
                refusal.order_number.clone(),
            ),
            items.join("; "),
            format!("/orders/{}#refused", encode(&refusal.order_number)),
            "bad",
        );
    }
    for a in &file.answers {
        let text = match a.nps {
            Some(n) => t.with("file-answer-nps", "score", n as i64),
            None => t.t(&format!("response-{}", a.status)),
        };
        push(
            a.finished_at,
            "answer",
            t.with("file-answer", "order", a.order_number.clone()),
            text,
            format!("/orders/{}", encode(&a.order_number)),
            a.nps.map_or("", tone_of_nps),
        );
    }
    for i in &file.incidents {
        let state = match &i.outcome {
            Some(o) => t.t(&format!("outcome-{o}")),
            None => t.t(&format!("incident-status-{}", i.status)),
        };
        push(
            i.created_at,
            "incident",
            t.t("file-incident"),
            format!("{} — {state}", i.reason),
            format!("/dispatch/{}", encode(&i.id)),
            "bad",
        );
    }
    if support {
        for k in &file.cases {
            push(
                k.created_at,
                "case",
                t.with("case-title", "number", k.number),
                format!(
                    "{} · {} — {}",
                    k.subject,
                    t.t(&format!("channel-{}", k.channel)),
                    t.t(&format!("case-status-{}", k.status))
                ),
                format!("/cases/{}", k.number),
                "",
            );
        }
        for e in &file.contacts {
            let number = file
                .cases
                .iter()
                .find(|k| k.id == e.case_id)
                .map_or(0, |k| k.number);
            let text: String = e.body.chars().take(200).collect();
            push(
                e.created_at,
                "contact",
                t.with2(
                    "case-entry-contact",
                    "channel",
                    t.t(&format!(
                        "channel-{}",
                        e.channel.as_deref().unwrap_or("phone")
                    )),
                    "direction",
                    t.t(&format!(
                        "direction-{}",
                        e.direction.as_deref().unwrap_or("inbound")
                    )),
                ),
                text,
                format!("/cases/{number}"),
                "",
            );
        }
        for k in &file.calls {
            let agent = k.agent.clone().unwrap_or_default();
            let wait = k.wait_seconds.unwrap_or(0);
            let text = match k.outcome.as_str() {
                "answered" => t.args(
                    "file-call-answered",
                    vec![
                        ("agent", agent.into()),
                        ("wait", wait.into()),
                        ("talk", k.talk_seconds.unwrap_or(0).into()),
                    ],
                ),
                "talking" => t.with("file-call-talking", "agent", agent),
                "abandoned" => t.with("file-call-abandoned", "wait", wait),
                "unanswered" => t.with("file-call-unanswered", "wait", wait),
                _ => t.t("file-call-waiting"),
            };
            push(
                k.entered_at,
                "call",
                t.with("file-call", "queue", k.queue.clone()),
                text,
                String::new(),
                if matches!(k.outcome.as_str(), "abandoned" | "unanswered") {
                    "bad"
                } else {
                    ""
                },
            );
        }
        for n in &file.notices {
            push(
                n.sent_at.unwrap_or(n.created_at),
                "notice",
                t.with(
                    if n.sent_at.is_some() {
                        "file-notice-sent"
                    } else {
                        "file-notice-waiting"
                    },
                    "channel",
                    t.t(&format!("file-notice-{}", n.channel)),
                ),
                n.body.clone(),
                String::new(),
                if n.status == "failed" { "bad" } else { "" },
            );
        }
        for r in &file.remedies {
            push(
                r.created_at,
                "remedy",
                t.t(&format!("remedy-{}", r.remedy_type)),
                format!(
                    "{}{}",
                    r.amount_minor
                        .map(|a| format!("{} · ", money(a, &r.currency)))
                        .unwrap_or_default(),
                    t.t(&format!("remedy-status-{}", r.status))
                ),
                String::new(),
                "",
            );
        }
        for e in &file.ledger.entries {
            push(
                e.created_at,
                "ledger",
                t.t(&format!("ledger-kind-{}", e.kind)),
                format!(
                    "{}{}",
                    money(e.amount_minor, &e.currency),
                    e.reason
                        .as_deref()
                        .map(|r| format!(" — {}", reason_text(t, r)))
                        .unwrap_or_default()
                ),
                String::new(),
                if e.amount_minor > 0 { "good" } else { "" },
            );
        }
    }
    events.sort_by_key(|e| std::cmp::Reverse(e.at));
    events.truncate(300);
    for e in &mut events {
        e.when = when(e.at);
    }
    let view = FilePage {
        email: customer
            .as_ref()
            .and_then(|k| k.email.clone())
            .unwrap_or_default(),
        segment: t.t(if summary.orders > 1 {
            "segment-repeat"
        } else {
            "segment-new"
        }),
        first_order: customer
            .as_ref()
            .and_then(|k| k.first_order_at)
            .map(when)
            .unwrap_or_default(),
        last_order: customer
            .as_ref()
            .and_then(|k| k.last_order_at)
            .map(when)
            .unwrap_or_default(),
        late_orders: customer.as_ref().map_or(0, |k| k.late_orders),
        on_time: {
            let delivered: Vec<i64> = file
                .orders
                .iter()
                .filter_map(|o| {
                    o.delivered_at
                        .map(|d| i64::from(d >= o.promised_from && d <= o.promised_to))
                })
                .collect();
            if delivered.is_empty() {
                String::new()
            } else {
                #[allow(clippy::cast_precision_loss)]
                let pct = delivered.iter().sum::<i64>() as f64 * 100.0 / delivered.len() as f64;
                t.with2(
                    "customer-on-time-value",
                    "pct",
                    format!("{pct:.1}"),
                    "n",
                    delivered.len(),
                )
            }
        },
        orders: summary.orders,
        delivered: summary.delivered,
        spend: money(summary.spend, &currency),
        compensation: money(summary.compensation, &currency),
        balance: money(summary.balance, &currency),
        lifetime_value: money(summary.lifetime_value, &currency),
        open_cases: summary.open_cases,
        nps: summary
            .nps
            .iter()
            .rev()
            .take(12)
            .rev()
            .map(|(at, n)| NpsChip {
                score: *n as i64,
                tone: tone_of_nps(*n),
                when: when(*at),
            })
            .collect(),
        claims: signal.as_ref().map(|s| claims_text(t, s)),
        rows: super::orders::rows_with_answers(
            &app,
            &file.orders[..file.orders.len().min(20)],
            t,
            &zones,
            now,
        )
        .await
        .page(user.lang)?,
        show_customer: false,
        more_href: (file.orders.len() > 20 || file.more_orders)
            .then(|| format!("/orders?q={}", encode(&phone))),
        events,
        support,
        new_case_href: format!("/cases/new?phone={}", encode(&phone)),
        may_erase: user.may::<AdminOnly>() && !phone.starts_with("erased-"),
        erased: q.erased.is_some(),
        phone,
        name,
        c,
    };
    Ok(render(&view))
}

/// A ledger entry's reason in the reader's words: a credit's reason is
/// its remedy's type.
fn reason_text(t: Tr<'_>, reason: &str) -> String {
    if doorstep_domain::helpdesk::remedies::RemedyType::parse(reason).is_some() {
        t.t(&format!("remedy-{reason}"))
    } else {
        reason.to_owned()
    }
}
