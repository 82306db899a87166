//! Mass notices: when one cause hits many orders (a city's roads, a broken
//! van, a partner's kitchen), a dispatcher tells every customer whose
//! undelivered order it hits at once, in their language. The preview
//! counts whom it reaches; the `notices.mass` job (once across servers)
//! writes one notice per customer, page by page, carrying on where a
//! stopped run left off; the notices job sends them outside the quiet
//! hours of each customer's city. Each is kept in the customer's file.

use std::collections::{BTreeMap, HashMap};

use doorstep_store::helpdesk::mass::{MassNotice, NewMassNotice, Selection, Target};
use doorstep_store::{Store, StoreError};

use super::notices::{country_language, quiet_hours};
use crate::app::App;
use crate::i18n::CustomerTr;

/// Orders read per page.
const PAGE: i64 = 500;

/// Pages one run of the job writes at most (the next run goes on).
const PAGES_PER_RUN: usize = 40;

/// What stands for the order's number in a text.
pub const ORDER_PLACEHOLDER: &str = "{order}";

/// The text per language (`ru`, `en`, `uk`, `uz`), as a dispatcher wrote
/// it.
pub type Texts = BTreeMap<String, String>;

/// The language a customer is written to: theirs when there is a text in
/// it, else the deployment's country's, else the first written.
pub fn language_for<'t>(texts: &'t Texts, theirs: Option<&str>, country: &str) -> Option<&'t str> {
    theirs
        .and_then(|l| texts.get_key_value(l))
        .or_else(|| texts.get_key_value(country_language(country)))
        .or_else(|| texts.iter().next())
        .map(|(k, _)| k.as_str())
}

/// A text with the order's number in it.
pub fn fill(text: &str, order_number: &str) -> String {
    text.replace(ORDER_PLACEHOLDER, order_number)
}

/// What a mass notice would reach now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub orders: i64,
    pub customers: i64,
    /// Customers per language of the text they would get.
    pub by_language: Vec<(String, i64)>,
}

/// Counts whom a selection reaches and in which language each would read
/// it (a page of customers at a time).
pub async fn preview(
    app: &App,
    selection: &Selection,
    texts: &Texts,
) -> Result<Preview, StoreError> {
    let store = &app.store;
    let (orders, customers) = store.mass_reach(selection).await?;
    let country = app.deployment().phone_country;
    let mut by_language: BTreeMap<String, i64> = BTreeMap::new();
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut after = String::new();
    loop {
        let page = store.mass_targets(selection, &after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after.clone_from(&last.order_number);
        let phones: Vec<&str> = page
            .iter()
            .map(|t| t.customer_phone.as_str())
            .filter(|p| !seen.contains(*p))
            .collect();
        let languages = store.customer_languages(&phones).await?;
        for phone in phones {
            if seen.insert(phone.to_owned()) {
                if let Some(l) =
                    language_for(texts, languages.get(phone).map(String::as_str), &country)
                {
                    *by_language.entry(l.to_owned()).or_default() += 1;
                }
            }
        }
        if page.len() < PAGE as usize {
            break;
        }
    }
    Ok(Preview {
        orders,
        customers,
        by_language: by_language.into_iter().collect(),
    })
}

/// The job: writes the notices of every mass notice being sent. Returns
/// how many were written.
pub async fn run_due(app: &App) -> anyhow::Result<u64> {
    write_all(&app.store, &app.deployment()).await
}

/// [`run_due`] from the store and the deployment.
pub async fn write_all(
    store: &Store,
    deployment: &doorstep_domain::settings::Deployment,
) -> anyhow::Result<u64> {
    let mut written = 0;
    for mass in store.mass_notices_sending().await? {
        written += write(store, deployment, mass).await?;
    }
    Ok(written)
}

/// Writes a mass notice's pages, from where it stands.
async fn write(
    store: &Store,
    deployment: &doorstep_domain::settings::Deployment,
    mut mass: MassNotice,
) -> anyhow::Result<u64> {
    let texts: Texts = serde_json::from_str(&mass.texts).unwrap_or_default();
    let selection = mass.selection();
    let quiet = quiet_hours(store).await?;
    let zones: HashMap<String, jiff::tz::TimeZone> = store
        .cities()
        .await?
        .into_iter()
        .filter_map(|(city, zone)| Some((city, jiff::tz::TimeZone::get(&zone).ok()?)))
        .collect();
    let mut written = 0;
    for _ in 0..PAGES_PER_RUN {
        let page = store
            .mass_targets(&selection, &mass.after_order, PAGE)
            .await?;
        let done = page.len() < PAGE as usize;
        let last = page
            .last()
            .map_or_else(|| mass.after_order.clone(), |t| t.order_number.clone());
        let notices = notices_of(store, deployment, &texts, &page, &zones, quiet).await?;
        // `None`: another run moved it on; read where it stands.
        if let Some(n) = store.write_mass_page(&mass, &notices, &last, done).await? {
            written += n;
        }
        match store.mass_notice(&mass.id).await? {
            Some(now) if now.status == "sending" => mass = now,
            _ => break,
        }
    }
    Ok(written)
}

/// One notice per customer of a page (their first order in it).
async fn notices_of(
    store: &Store,
    deployment: &doorstep_domain::settings::Deployment,
    texts: &Texts,
    page: &[Target],
    zones: &HashMap<String, jiff::tz::TimeZone>,
    quiet: Option<doorstep_domain::helpdesk::quiet::QuietHours>,
) -> Result<Vec<NewMassNotice>, StoreError> {
    let mut firsts: Vec<&Target> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for t in page {
        if seen.insert(t.customer_phone.as_str()) {
            firsts.push(t);
        }
    }
    let phones: Vec<&str> = firsts.iter().map(|t| t.customer_phone.as_str()).collect();
    let languages = store.customer_languages(&phones).await?;
    let now = doorstep_store::now_millis();
    Ok(firsts
        .into_iter()
        .filter_map(|t| {
            let lang = language_for(
                texts,
                languages.get(&t.customer_phone).map(String::as_str),
                &deployment.phone_country,
            )?;
            let tr = CustomerTr::new(lang);
            let subject = tr.with2(
                "notice-mass-subject",
                "company",
                deployment.name.as_str(),
                "number",
                t.order_number.as_str(),
            );
            let (channel, address) = match &t.customer_email {
                Some(email) if !email.is_empty() => ("email", email.clone()),
                _ => ("sms", t.customer_phone.clone()),
            };
            let tz = zones
                .get(&t.city)
                .cloned()
                .unwrap_or_else(|| deployment.tz());
            Some(NewMassNotice {
                customer_phone: t.customer_phone.clone(),
                order_number: t.order_number.clone(),
                channel,
                address,
                language: lang.to_owned(),
                body: format!("{subject}\n{}", fill(&texts[lang], &t.order_number)),
                subject,
                send_after: quiet.map_or(now, |q| q.next_allowed(&tz, now)),
            })
        })
        .collect())
}
