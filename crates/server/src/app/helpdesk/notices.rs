//! Notices to customers: the status page's link when a case opens, on the
//! customer's channel — the messenger conversation the case came from,
//! else e-mail, else SMS — never in the quiet hours of the customer's
//! city. Written once per case; sent by the `notices.send` job (once
//! across servers): e-mail through the deployment's mail server, SMS and
//! messenger notices as `notice.sent` events that the company's gateways
//! (webhook subscriptions) deliver.

use doorstep_domain::helpdesk::quiet::QuietHours;
use doorstep_store::helpdesk::cases::Case;
use doorstep_store::helpdesk::notices::{NewNotice, Notice};
use doorstep_store::{Store, StoreError};

use crate::app::App;
use crate::i18n::CustomerTr;

/// The setting that holds the quiet hours (`22:00-08:00`; empty: none).
pub const QUIET_SETTING: &str = "quiet_hours";

/// The deployment's quiet hours (the night unless set otherwise).
pub async fn quiet_hours(store: &Store) -> Result<Option<QuietHours>, StoreError> {
    Ok(match store.setting(QUIET_SETTING).await? {
        None => Some(QuietHours::NIGHT),
        Some(text) => QuietHours::parse(&text).unwrap_or(Some(QuietHours::NIGHT)),
    })
}

/// The language customers of a deployment are written to when nothing
/// says otherwise: its country's.
pub(crate) fn country_language(country: &str) -> &'static str {
    match country {
        "RU" | "KZ" | "BY" => "ru",
        "UA" => "uk",
        "UZ" => "uz",
        _ => "en",
    }
}

/// The language a case's customer is written to: theirs when known (from
/// their orders), else their country's.
pub(crate) async fn customer_language(app: &App, case: &Case) -> Result<String, StoreError> {
    Ok(match &case.order_number {
        Some(order) => app.store.customer_language(order).await?,
        None => None,
    }
    .unwrap_or_else(|| country_language(&app.deployment().phone_country).to_owned()))
}

/// A city's clock (its time zone as imported), else the deployment's.
pub(crate) async fn city_tz(
    app: &App,
    city: Option<&str>,
) -> Result<jiff::tz::TimeZone, StoreError> {
    city_zone(&app.store, &app.deployment(), city).await
}

/// [`city_tz`] from the store and the deployment.
pub(crate) async fn city_zone(
    store: &Store,
    deployment: &doorstep_domain::settings::Deployment,
    city: Option<&str>,
) -> Result<jiff::tz::TimeZone, StoreError> {
    let Some(city) = city else {
        return Ok(deployment.tz());
    };
    Ok(store
        .cities()
        .await?
        .into_iter()
        .find(|(name, _)| name == city)
        .and_then(|(_, zone)| jiff::tz::TimeZone::get(&zone).ok())
        .unwrap_or_else(|| deployment.tz()))
}

/// Writes the status-link notice of a case just opened (once), when the
/// customer can be reached.
pub async fn status_link(app: &App, case: &Case) -> Result<(), StoreError> {
    let store = &app.store;
    // Every later contact on the case comes here too: one look, then done.
    if store
        .case_notices(&case.id)
        .await?
        .iter()
        .any(|n| n.kind == "status_link")
    {
        return Ok(());
    }
    let customer = match &case.customer_phone {
        Some(phone) => store.customer(phone).await?,
        None => None,
    };
    let (channel, address) = match (
        case.email_address(),
        &case.conversation,
        customer.as_ref().and_then(|c| c.email.clone()),
        &case.customer_phone,
    ) {
        (Some(email), _, _, _) => ("email", email.to_owned()),
        (None, Some(conversation), _, _) => ("messenger", conversation.clone()),
        (None, None, Some(email), _) => ("email", email),
        (None, None, None, Some(phone)) => ("sms", phone.clone()),
        (None, None, None, None) => return Ok(()),
    };
    let deployment = app.deployment();
    let t = CustomerTr::new(&customer_language(app, case).await?);
    // The customer's city's clock, else the deployment's.
    let city = match &case.order_number {
        Some(order) => store.order(order).await?.map(|o| o.city),
        None => None,
    };
    let tz = city_tz(app, city.as_deref()).await?;
    let Some(url) = super::status::link(store, None, &case.id).await? else {
        return Ok(());
    };
    let now = doorstep_store::now_millis();
    let send_after = quiet_hours(store)
        .await?
        .map_or(now, |q| q.next_allowed(&tz, now));
    let subject = t.with("notice-status-subject", "number", case.number);
    let body = t.with2(
        "notice-status-body",
        "company",
        deployment.name.as_str(),
        "url",
        url.as_str(),
    );
    store
        .add_notice(&NewNotice {
            case_id: &case.id,
            kind: "status_link",
            channel,
            address: &address,
            language: t.lang(),
            subject: &subject,
            body: &format!("{subject}\n{body}"),
            send_after,
        })
        .await?;
    Ok(())
}

/// Sends one notice: an e-mail through the mail server; an SMS or a
/// messenger notice is handed to the company's gateways by the
/// `notice.sent` event its recording raises.
async fn send(app: &App, notice: &Notice) -> anyhow::Result<()> {
    if notice.channel != "email" {
        return Ok(());
    }
    let Some(smtp) = crate::mail::Smtp::load(&app.store).await? else {
        anyhow::bail!("no mail server is set up (Reports → mail server)");
    };
    let mail = mail_of(app, &smtp, notice).await?;
    crate::mail::send(&smtp, &mail).await
}

/// A notice as an e-mail in its case's thread: answering the customer's
/// last message, from the line's mailbox when it has one, the case number
/// in the subject (`[#1042]`) so an answer finds the case even when a
/// mail program drops the thread's headers. An operator's reply is
/// worded here, in the customer's language.
async fn mail_of(
    app: &App,
    smtp: &crate::mail::Smtp,
    notice: &Notice,
) -> anyhow::Result<crate::mail::Mail> {
    let store = &app.store;
    let Some(case_id) = &notice.case_id else {
        // A mass notice: a plain message of its own.
        return Ok(crate::mail::Mail {
            to: vec![notice.address.clone()],
            subject: notice.subject.clone(),
            text: notice.body.clone(),
            attachment: None,
            thread: None,
        });
    };
    let Some(case) = store.case(case_id).await? else {
        anyhow::bail!("the case {case_id} is gone");
    };
    let from = store.mailbox(&case.line).await?.map(|m| m.address);
    let sender = from.as_deref().unwrap_or(&smtp.from);
    let domain = sender
        .rsplit_once('@')
        .map_or("doorstep.invalid", |(_, d)| d.trim_end_matches('>'));
    let message_id = format!("{}@{domain}", notice.id);
    let thread = store.mail_thread(&case.id).await?;
    let in_reply_to = thread
        .iter()
        .rev()
        .find(|(_, direction)| direction == "inbound")
        .map(|(id, _)| format!("<{id}>"));
    let references: Vec<String> = thread
        .iter()
        .rev()
        .take(20)
        .rev()
        .filter(|(id, _)| *id != message_id)
        .map(|(id, _)| format!("<{id}>"))
        .collect();
    // Kept before it leaves: the customer's answer finds the case by it.
    store
        .add_mail_message(&message_id, &case.id, "outbound")
        .await?;
    let tag = format!("[#{}]", case.number);
    let (subject, text) = if notice
        .kind
        .starts_with(doorstep_store::helpdesk::cases::MAIL_REPLY_NOTICE)
    {
        let t = CustomerTr::new(&customer_language(app, &case).await?);
        let url = super::status::link(store, None, &case.id).await?;
        let footer = match url {
            Some(url) => t.with2("mail-reply-footer", "number", case.number, "url", url),
            None => t.with("notice-status-subject", "number", case.number),
        };
        (
            format!("Re: {} {tag}", case.subject),
            format!("{}\n\n-- \n{footer}\n", notice.body),
        )
    } else if notice.subject.contains(&tag) {
        (notice.subject.clone(), notice.body.clone())
    } else {
        (format!("{} {tag}", notice.subject), notice.body.clone())
    };
    Ok(crate::mail::Mail {
        to: vec![notice.address.clone()],
        subject,
        text,
        attachment: None,
        thread: Some(crate::mail::Thread {
            message_id: format!("<{message_id}>"),
            in_reply_to,
            references,
            from,
        }),
    })
}

/// The notices job: sends what is due; a failure is tried again later
/// (a minute, then longer), at most five times.
pub async fn run_due(app: &App) -> anyhow::Result<usize> {
    let store = &app.store;
    let now = doorstep_store::now_millis();
    store.requeue_stuck_notices(now - 10 * 60_000).await?;
    let due = store.claim_notices(now, 50).await?;
    for notice in &due {
        match send(app, notice).await {
            Ok(()) => store.notice_sent(notice).await?,
            Err(e) => {
                let retry = now + 60_000 * (1 << notice.attempts.clamp(0, 6));
                tracing::warn!(notice = %notice.id, error = %e, "a notice could not be sent; it is tried again later");
                store.notice_failed(notice, &e.to_string(), retry).await?;
            }
        }
    }
    Ok(due.len())
}
