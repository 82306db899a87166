//! Late orders told first (seed 002: tell customers about a delay before
//! they complain). The `orders.late` job (once across servers) finds
//! orders past their promised window and not delivered (METRICS.md: late)
//! and, once per order, raises an incident of category `late`, opens a
//! case — or joins the customer's open one about the order — and writes a
//! proactive notice with an apology and the remedy the `late` playbook
//! offers, on the customer's channel (e-mail when known, else SMS through
//! the company's gateway), never in the quiet hours of their city. The
//! notice is sent by the notices job and kept in the personal file with
//! the case.

use doorstep_domain::helpdesk::late::ToldFirst;
use doorstep_domain::helpdesk::remedies::PlaybookEntry;
use doorstep_domain::settings::Deployment;
use doorstep_store::helpdesk::late::LateCase;
use doorstep_store::helpdesk::notices::{NewNotice, Notice};
use doorstep_store::{OrderView, Store, StoreError};

use super::notices::{city_zone, country_language, quiet_hours};
use crate::app::App;
use crate::i18n::CustomerTr;

/// The kind of a late order's notice (one per case).
pub const NOTICE_KIND: &str = doorstep_store::helpdesk::notices::LATE_NOTICE;

/// How many late orders one run handles (the next run takes the rest).
const BATCH: i64 = 200;

/// The job: handles the orders that became late by `now`. Returns how
/// many were handled.
pub async fn run_due(app: &App, now: i64) -> anyhow::Result<usize> {
    let due = app.store.late_orders_due(now, BATCH).await?;
    let deployment = app.deployment();
    for order in &due {
        tell(&app.store, &deployment, order, now).await?;
    }
    Ok(due.len())
}

/// One late order: its incident and case, its notice, then the mark that
/// it is handled. Each step is kept once by the database (the incident's,
/// the notice's and the mark's unique keys), so a run that stopped midway
/// is finished by the next one, on whichever server. Returns the notice
/// (none when the customer's status page has no address to give).
pub async fn tell(
    store: &Store,
    deployment: &Deployment,
    order: &OrderView,
    now: i64,
) -> anyhow::Result<Option<Notice>> {
    let language = store
        .customer_language(&order.order_number)
        .await?
        .unwrap_or_else(|| country_language(&deployment.phone_country).to_owned());
    let t = CustomerTr::new(&language);
    let tz = city_zone(store, deployment, Some(&order.city)).await?;
    let promised = jiff::Timestamp::from_millisecond(order.promised_to)?
        .to_zoned(tz.clone())
        .strftime("%H:%M")
        .to_string();
    let number = order.order_number.as_str();
    let mut text = t.with_all(
        "notice-late-body",
        &[
            ("number", number),
            ("time", &promised),
            ("company", &deployment.name),
        ],
    );
    if let Some(offer) = offer(store, deployment, &t, order).await? {
        text = format!("{text} {offer}");
    }
    let case = store
        .raise_late_order(
            order,
            &LateCase {
                reason: format!("promised by {promised} ({}), not delivered", order.city),
                text: &text,
                line: doorstep_domain::helpdesk::cases::Line::Customers.as_str(),
            },
        )
        .await?;
    let notice = match super::status::link(store, None, &case.id).await? {
        Some(url) => {
            let (channel, address) = match &order.customer_email {
                Some(email) if !email.is_empty() => ("email", email.clone()),
                _ => ("sms", order.customer_phone.clone()),
            };
            let subject = t.with("notice-late-subject", "number", number);
            let follow = t.with("notice-late-follow", "url", url);
            let send_after = quiet_hours(store)
                .await?
                .map_or(now, |q| q.next_allowed(&tz, now));
            let written = store
                .add_notice(&NewNotice {
                    case_id: &case.id,
                    kind: NOTICE_KIND,
                    channel,
                    address: &address,
                    language: t.lang(),
                    subject: &subject,
                    body: &format!("{subject}\n{text}\n{follow}"),
                    send_after,
                })
                .await?;
            match written {
                Some(n) => Some(n),
                // Written by a run that stopped before its mark.
                None => store
                    .case_notices(&case.id)
                    .await?
                    .into_iter()
                    .find(|n| n.kind == NOTICE_KIND),
            }
        }
        None => None,
    };
    store
        .late_order_handled(order, &case.id, notice.as_ref().map(|n| n.id.as_str()))
        .await?;
    Ok(notice)
}

/// The apology the `late` playbook offers first, in the customer's words.
async fn offer(
    store: &Store,
    deployment: &Deployment,
    t: &CustomerTr,
    order: &OrderView,
) -> Result<Option<String>, StoreError> {
    let categories = store.case_categories().await?;
    let Some(first) = categories
        .iter()
        .find(|c| c.id == "late")
        .and_then(|c| c.playbook.first())
    else {
        return Ok(None);
    };
    Ok(Some(offer_text(
        t,
        first,
        order.amount_minor,
        &deployment.currency,
    )))
}

fn offer_text(
    t: &CustomerTr,
    entry: &PlaybookEntry,
    order_amount: Option<i64>,
    currency: &str,
) -> String {
    match entry.default_amount(order_amount) {
        Some(amount) => t.with(
            "notice-late-offer-amount",
            "amount",
            crate::http::pages::cases::money(amount, currency),
        ),
        None => t.with(
            "notice-late-offer",
            "remedy",
            t.t(&format!("remedy-{}", entry.kind.as_str()))
                .to_lowercase(),
        ),
    }
}

/// The dashboard's told-first figures for late orders whose window closed
/// in `[from, to)`.
pub async fn told_first(app: &App, from: i64, to: i64) -> Result<ToldFirst, StoreError> {
    let now = doorstep_store::now_millis();
    let tally = app.store.late_order_tally(from, to, now).await?;
    Ok(ToldFirst::of_tally(&tally))
}
