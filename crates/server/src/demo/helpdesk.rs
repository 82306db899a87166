//! The demo's helpdesk: the incidents the detractors' answers raised,
//! worked by three dispatchers over the months (call-backs that reached
//! the customer or not, outcomes, a few handed to support) with the last
//! day and a half still in the queue; support cases on every channel and
//! line in every state, remedies from the playbooks with their ledger
//! entries (one reversed, one waiting for approval, redeliveries reported
//! back), faults recorded, and one customer whose claims look like abuse.
//! Every step is written through the store at the time it happened
//! ([`as_of`]).

use doorstep_domain::helpdesk::cases::{CaseStatus, Direction, Fault};
use doorstep_domain::helpdesk::incidents::{AttemptResult, Outcome};
use doorstep_domain::helpdesk::remedies::{RemedyStatus, RemedyType};
use doorstep_domain::OrderRecord;
use doorstep_store::helpdesk::cases::{NewCase, NewContact, Opened};
use doorstep_store::helpdesk::incidents::IncidentHistory;
use doorstep_store::helpdesk::ledger::NewRemedy;
use doorstep_store::helpdesk::{as_of, Actor, CaseCategory};
use doorstep_store::Store;
use rand::rngs::StdRng;
use rand::Rng;

/// A refusal in the demo's own story is a mistake in the story.
fn must<T, R: std::fmt::Debug>(result: Result<T, R>) -> anyhow::Result<T> {
    result.map_err(|r| anyhow::anyhow!("the demo's helpdesk story went wrong: {r:?}"))
}

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// What the demo's helpdesk holds.
#[derive(Debug, Default)]
pub struct Summary {
    pub incidents: usize,
    pub open_incidents: usize,
    pub cases: usize,
    pub remedies: usize,
    /// Customers' ratings of their cases (support-survey responses).
    pub ratings: usize,
}

/// A person of the demo: the account's id when it exists (the demo's
/// `dispatcher` and `operator` sign in and find their own work), else a
/// stand-in colleague without an account.
struct Person {
    id: String,
    login: String,
}

impl Person {
    fn actor(&self, overrides: bool) -> Actor<'_> {
        Actor {
            id: &self.id,
            login: &self.login,
            overrides,
        }
    }
}

async fn people(store: &Store, logins: &[&str]) -> anyhow::Result<Vec<Person>> {
    let users = store.users().await?;
    Ok(logins
        .iter()
        .map(|login| Person {
            id: users
                .iter()
                .find(|u| u.login == *login)
                .map_or_else(|| format!("demo:{login}"), |u| u.id.clone()),
            login: (*login).to_owned(),
        })
        .collect())
}

/// What customers say, by category (Russian, as the demo company works).
fn said(category: &str, rng: &mut StdRng) -> &'static str {
    let lines: &[&str] = match category {
        "late" => &[
            "Заказ обещали к 14:00, уже 16:30 — где курьер?",
            "Опоздали на два часа, продукты для праздника, гости уже пришли.",
            "Курьер не приехал в окно, никто не предупредил.",
        ],
        "damaged" => &[
            "Пакет порван, яйца разбиты, молоко протекло.",
            "Коробка смята, торт повреждён.",
            "Бутылка разбилась в пакете, всё в соке.",
        ],
        "incomplete" => &[
            "Не привезли две позиции из заказа, а оплата списана за всё.",
            "В заказе не хватает сыра и хлеба.",
        ],
        "wrong_item" => &[
            "Привезли не тот товар: заказывал безлактозное молоко.",
            "Вместо 1 кг яблок привезли 500 г и не тот сорт.",
        ],
        "payment_failed" => &[
            "Оплата картой не прошла у двери, курьер уехал.",
            "Списали деньги дважды за один заказ.",
        ],
        "address_change" => &[
            "Хочу изменить адрес доставки, я на работе.",
            "Можно привезти к соседнему подъезду? Код домофона поменялся.",
        ],
        "recipient_unreachable" => &["Курьер не дозвонился, а я был дома — телефон указан верно."],
        "courier_behaviour" => &[
            "Курьер нагрубил и бросил пакет у двери.",
            "Курьер курил в подъезде и не поздоровался.",
        ],
        "courier_app" => &[
            "Приложение курьера не показывает адрес следующего заказа.",
            "Не могу закрыть доставку в приложении: ошибка синхронизации.",
        ],
        _ => &["Хочу уточнить статус заказа.", "Вопрос по бонусам."],
    };
    lines[rng.gen_range(0..lines.len())]
}

fn replies(category: &str) -> &'static str {
    match category {
        "late" => "Приносим извинения за опоздание. Начислили вам бонусы на следующий заказ.",
        "damaged" | "incomplete" | "wrong_item" => {
            "Извините за неудобство! Отправим замену с новым курьером бесплатно."
        }
        "payment_failed" => "Проверили платёж: повторим списание или примем оплату наличными.",
        _ => "Спасибо, что написали! Разбираемся и вернёмся с ответом.",
    }
}

/// The party at fault as the support team would find it.
fn fault_for(category: &str, rng: &mut StdRng) -> Fault {
    let roll: f64 = rng.gen();
    match category {
        "late" if roll < 0.6 => Fault::Courier,
        "late" if roll < 0.8 => Fault::Partner,
        "damaged" if roll < 0.5 => Fault::Courier,
        "damaged" if roll < 0.8 => Fault::Picker,
        "late" | "damaged" => Fault::Carrier,
        "incomplete" | "wrong_item" if roll < 0.7 => Fault::Picker,
        "incomplete" | "wrong_item" => Fault::Partner,
        "courier_behaviour" | "recipient_unreachable" => Fault::Courier,
        "payment_failed" if roll < 0.5 => Fault::Unknown,
        "payment_failed" => Fault::Customer,
        _ => Fault::Unknown,
    }
}

/// Works the incidents raised while the demo's answers were loaded.
async fn incidents(
    store: &Store,
    rng: &mut StdRng,
    now: i64,
    dispatchers: &[Person],
) -> anyhow::Result<(usize, usize, Vec<(String, i64)>)> {
    store.date_incidents_by_their_answers().await?;
    let all = store.incidents_answered(0, now + DAY).await?;
    let mut histories = Vec::new();
    let mut to_cases = Vec::new();
    let mut open = 0;
    for i in &all {
        let age = now - i.answered_at;
        // Each dispatcher has a pace: Київ's shift is short of hands.
        let who = &dispatchers[rng.gen_range(0..dispatchers.len())];
        let slow = if i.city == "Київ" { 3 } else { 1 };
        let claimed_at = i.created_at + rng.gen_range(1..12 * slow) * MINUTE;
        if age < 36 * HOUR {
            // The live queue: most wait, some are claimed, a few were
            // called without an answer and are due again later.
            let roll: f64 = rng.gen();
            if roll < 0.6 || claimed_at > now {
                open += 1;
                continue;
            }
            let mut attempts = Vec::new();
            if roll < 0.85 {
                let again = (now + rng.gen_range(20..120) * MINUTE).max(claimed_at + HOUR);
                attempts.push((
                    (claimed_at + 2 * MINUTE).min(now),
                    AttemptResult::NotReached,
                    Some(again),
                    Some("не берёт трубку".to_owned()),
                ));
            }
            histories.push(IncidentHistory {
                incident_id: i.id.clone(),
                owner_id: who.id.clone(),
                owner_login: who.login.clone(),
                claimed_at: claimed_at.min(now),
                attempts,
                closed: None,
            });
            continue;
        }
        let mut at = claimed_at + rng.gen_range(1..10 * slow) * MINUTE;
        let mut attempts = Vec::new();
        let mut reached = false;
        for k in 0..3 {
            let p = [0.72, 0.6, 0.4][k];
            if rng.gen_bool(p) {
                attempts.push((at, AttemptResult::Reached, None, None));
                reached = true;
                break;
            }
            let again = at + [2 * HOUR, 20 * HOUR, 0][k];
            attempts.push((
                at,
                AttemptResult::NotReached,
                (k < 2).then_some(again),
                Some("нет ответа".to_owned()),
            ));
            at = again + rng.gen_range(0..30) * MINUTE;
        }
        let last = attempts.last().map_or(claimed_at, |a| a.0);
        let closed_at = last + rng.gen_range(2..15) * MINUTE;
        // `None`: handed to support below (the case closes the incident).
        let outcome = if reached {
            let roll: f64 = rng.gen();
            if roll < 0.07 && age < 60 * DAY {
                to_cases.push((i.id.clone(), closed_at));
                None
            } else if roll < 0.68 {
                Some(Outcome::Recovered)
            } else if roll < 0.93 {
                Some(Outcome::NotRecovered)
            } else {
                Some(Outcome::NoActionNeeded)
            }
        } else {
            Some(Outcome::Unreachable)
        };
        histories.push(IncidentHistory {
            incident_id: i.id.clone(),
            owner_id: who.id.clone(),
            owner_login: who.login.clone(),
            claimed_at,
            attempts,
            closed: outcome.map(|o| (o, closed_at)),
        });
    }
    for chunk in histories.chunks(500) {
        store.record_incident_histories(chunk).await?;
    }
    Ok((all.len(), open, to_cases))
}

/// Where a demo case ends up.
#[derive(Clone, Copy, PartialEq)]
enum Fate {
    New,
    Open,
    WaitingCustomer,
    WaitingDepartment,
    Resolved,
    Closed,
}

/// One case's life, written step by step at the times it happened.
struct Story<'a> {
    store: &'a Store,
    categories: &'a [CaseCategory],
    currency: &'a str,
    case_id: String,
    category: String,
    order_amount: Option<i64>,
    operator: &'a Person,
    at: i64,
    /// A channel promised a reply within minutes (chat, messenger,
    /// social, app): operators answer it at once, not always in time.
    quick: bool,
}

impl Story<'_> {
    fn later(&mut self, rng: &mut StdRng, min: i64, max: i64) -> i64 {
        self.at += rng.gen_range(min..max) * MINUTE;
        self.at
    }

    async fn take(&mut self, rng: &mut StdRng) -> anyhow::Result<()> {
        let at = if self.quick {
            self.later(rng, 1, 3)
        } else {
            self.later(rng, 1, 25)
        };
        let me = self.operator.actor(false);
        must(as_of(at, self.store.assign_case(&self.case_id, me, me)).await?)?;
        Ok(())
    }

    async fn reply(&mut self, rng: &mut StdRng, channel: &str) -> anyhow::Result<()> {
        let at = if self.quick {
            self.later(rng, 1, 5)
        } else {
            self.later(rng, 2, 15)
        };
        let text = replies(&self.category);
        let contact = NewContact {
            channel,
            direction: Direction::Outbound,
            text,
            author: &self.operator.login,
            external_id: None,
            by_person: true,
            attachment_id: None,
            follows_previous: false,
        };
        must(
            as_of(at, self.store.add_contact(&self.case_id, &contact))
                .await?
                .0,
        )?;
        Ok(())
    }

    /// The playbook's first remedy (or the one named), with its amount.
    async fn remedy(
        &mut self,
        rng: &mut StdRng,
        kind: Option<RemedyType>,
        amount: Option<i64>,
        limit: Option<i64>,
    ) -> anyhow::Result<Option<doorstep_store::helpdesk::ledger::Remedy>> {
        let playbook = self
            .categories
            .iter()
            .find(|c| c.id == self.category)
            .map(|c| c.playbook.clone())
            .unwrap_or_default();
        let entry = match kind {
            Some(k) => playbook.iter().find(|e| e.kind == k).cloned(),
            None => playbook.first().cloned(),
        };
        let Some(entry) = entry else { return Ok(None) };
        let amount = match amount {
            Some(a) => Some(a),
            None if entry.kind.has_amount() => entry
                .default_amount(self.order_amount)
                .or(self.order_amount.map(|a| a / 10)),
            None => None,
        };
        let at = self.later(rng, 1, 10);
        let key = format!("demo-{}-{}", self.case_id, entry.kind.as_str());
        let written = as_of(
            at,
            self.store.apply_remedy(&NewRemedy {
                case_id: &self.case_id,
                kind: entry.kind,
                amount,
                currency: self.currency,
                idempotency_key: &key,
                note: None,
                actor: self.operator.actor(false),
                limit,
            }),
        )
        .await?;
        Ok(written.ok().map(|(r, _)| r))
    }

    async fn status(
        &mut self,
        rng: &mut StdRng,
        status: CaseStatus,
        min: i64,
        max: i64,
    ) -> anyhow::Result<()> {
        let at = self.later(rng, min, max);
        must(
            as_of(
                at,
                self.store
                    .set_case_status(&self.case_id, status, self.operator.actor(true)),
            )
            .await?,
        )?;
        Ok(())
    }

    /// About half the customers answer the satisfaction question after
    /// resolution; those whose case missed a promise are less pleased.
    async fn rate(&mut self, rng: &mut StdRng, now: i64) -> anyhow::Result<bool> {
        let at = self.at + rng.gen_range(10..600) * MINUTE;
        if at >= now || !rng.gen_bool(0.5) {
            return Ok(false);
        }
        let late = self
            .store
            .case(&self.case_id)
            .await?
            .is_some_and(|c| c.sla_breaches > 0);
        // The chance of 5, 4, 3 and 2 (1 takes the rest).
        let odds: [f64; 4] = if late {
            [0.25, 0.2, 0.2, 0.17]
        } else {
            [0.55, 0.27, 0.1, 0.04]
        };
        let mut roll: f64 = rng.gen();
        let mut csat = 1;
        for (score, p) in (2..=5).rev().zip(odds) {
            if roll < p {
                csat = score;
                break;
            }
            roll -= p;
        }
        Ok(as_of(at, self.store.rate_case(&self.case_id, csat))
            .await?
            .is_some())
    }
}

/// Business hours for both lines (seed 001: the customers' line from
/// eight to ten every day; the couriers' from seven to eleven, shorter on
/// Sunday), the New Year holidays, and a faster first reply to couriers'
/// calls (a courier waits at the door).
async fn calendars(store: &Store, now: i64) -> anyhow::Result<()> {
    use doorstep_domain::helpdesk::cases::CaseChannel;
    use doorstep_domain::helpdesk::sla::{LineSla, PolicyRule};
    let year = doorstep_domain::time::from_millis(now)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .year();
    let holidays: Vec<jiff::civil::Date> = [(1, 1), (1, 2), (1, 7)]
        .iter()
        .filter_map(|&(m, d)| jiff::civil::Date::new(year + 1, m, d).ok())
        .collect();
    let customers = LineSla {
        week: vec![vec![(8 * 60, 22 * 60)]; 7],
        holidays: holidays.clone(),
        rules: Vec::new(),
    }
    .validated()?;
    let mut week = vec![vec![(7 * 60, 23 * 60)]; 6];
    week.push(vec![(9 * 60, 21 * 60)]);
    let couriers = LineSla {
        week,
        holidays,
        rules: vec![PolicyRule {
            channel: CaseChannel::Phone,
            priority: None,
            first_response_minutes: 15,
            next_response_minutes: 15,
            resolution_minutes: 4 * 60,
        }],
    }
    .validated()?;
    store.save_line_sla("customers", &customers).await?;
    store.save_line_sla("couriers", &couriers).await?;
    Ok(())
}

/// The support cases of the last two months.
#[allow(clippy::too_many_lines, clippy::too_many_arguments)]
async fn cases(
    store: &Store,
    rng: &mut StdRng,
    now: i64,
    orders: &[OrderRecord],
    to_cases: &[(String, i64)],
    dispatchers: &[Person],
    operators: &[Person],
    approver: &Person,
) -> anyhow::Result<(usize, usize)> {
    let categories = store.case_categories().await?;
    let deployment = store.deployment().await?;
    let currency = deployment.currency.clone();
    let limit = Some(deployment.operator_limit);
    let mut cases = 0;
    let mut remedies = 0;
    // Cases (and so claims) per customer, across the stories below: at most
    // two each. An honest customer rarely claims more often (the demo's one
    // claim abuser is made apart), and which orders are delivered moves
    // with the time of day, so a third would now and then make a second
    // customer's claims look like abuse.
    let mut per_customer: std::collections::HashMap<String, u32> = std::collections::HashMap::new();

    // Incidents the dispatchers handed to support.
    for (incident, at) in to_cases {
        let who = &dispatchers[rng.gen_range(0..dispatchers.len())];
        let category = if rng.gen_bool(0.6) { "late" } else { "damaged" };
        let opened = as_of(
            *at,
            store.case_from_incident(
                incident,
                who.actor(true),
                category,
                "customers",
                "Недовольный ответ у двери; клиент просит компенсацию.",
            ),
        )
        .await?;
        if let Ok(opened) = opened {
            cases += 1;
            let operator = &operators[rng.gen_range(0..operators.len())];
            let order_amount = match &opened.case().order_number {
                Some(n) => store.order(n).await?.and_then(|o| o.amount_minor),
                None => None,
            };
            let mut story = Story {
                store,
                categories: &categories,
                currency: &currency,
                case_id: opened.case().id.clone(),
                category: category.to_owned(),
                order_amount,
                operator,
                at: *at,
                quick: false,
            };
            story.take(rng).await?;
            story.reply(rng, "phone").await?;
            let phone = opened.case().customer_phone.clone().unwrap_or_default();
            let may_claim = per_customer.get(&phone).copied().unwrap_or(0) < 2;
            if may_claim && story.remedy(rng, None, None, limit).await?.is_some() {
                remedies += 1;
                *per_customer.entry(phone).or_default() += 1;
            }
            story.status(rng, CaseStatus::Resolved, 5, 60).await?;
            story.rate(rng, now).await?;
            if story.at < now - 3 * DAY {
                story
                    .status(rng, CaseStatus::Closed, 3 * 24 * 60, 4 * 24 * 60)
                    .await?;
            }
        }
    }

    // Contacts on every channel.
    let delivered: Vec<&OrderRecord> = orders
        .iter()
        .filter(|o| {
            o.delivered_at.is_some_and(|d| {
                d.as_millisecond() > now - 90 * DAY && d.as_millisecond() < now - HOUR
            })
        })
        .collect();
    let weights: &[(&str, f64)] = &[
        ("late", 0.35),
        ("damaged", 0.12),
        ("incomplete", 0.12),
        ("wrong_item", 0.08),
        ("payment_failed", 0.08),
        ("address_change", 0.07),
        ("recipient_unreachable", 0.05),
        ("courier_behaviour", 0.07),
        ("other", 0.06),
    ];
    let channels: &[(&str, f64)] = &[
        ("phone", 0.4),
        ("chat", 0.25),
        ("email", 0.1),
        ("messenger", 0.1),
        ("social", 0.05),
        ("app", 0.1),
    ];
    let pick = |rng: &mut StdRng, list: &[(&'static str, f64)]| -> &'static str {
        let mut roll: f64 = rng.gen();
        for (item, w) in list {
            if roll < *w {
                return item;
            }
            roll -= w;
        }
        list[list.len() - 1].0
    };
    let mut pending_made = false;
    let mut reversed_made = false;
    let mut failed_made = false;
    let mut used: std::collections::HashSet<&str> = std::collections::HashSet::new();
    if delivered.is_empty() {
        return Ok((cases, remedies));
    }
    // The customers' line's hours: the newest cases are placed in them.
    let hours = store
        .sla_setup()
        .await?
        .line("customers")
        .calendar_or_always(deployment.tz());
    // Resolved cases some customers come back about (a repeat contact).
    let mut settled: Vec<Settled> = Vec::new();
    for n in 0..260 {
        // One case per order: a second one would join the first.
        let Some(order) = (0..20)
            .map(|_| delivered[rng.gen_range(0..delivered.len())])
            .find(|o| {
                per_customer
                    .get(o.customer_phone.as_str())
                    .copied()
                    .unwrap_or(0)
                    < 2
                    && used.insert(o.order_number.as_str())
            })
        else {
            continue;
        };
        *per_customer
            .entry(order.customer_phone.as_str().to_owned())
            .or_default() += 1;
        let couriers_line = n % 9 == 0;
        let category = if couriers_line {
            "other"
        } else if n == 13 {
            // The one whose compensation waits for approval.
            "damaged"
        } else {
            pick(rng, weights)
        };
        // Three of the newest show each SLA state at a glance: a chat
        // just opened (within), an e-mail near its hour (at risk), a chat
        // nobody answered (breached).
        let channel = match n {
            0 | 2 => "chat",
            1 => "email",
            _ if couriers_line => "phone",
            _ => pick(rng, channels),
        };
        let delivered_at = order
            .delivered_at
            .map_or(now, jiff::Timestamp::as_millisecond);
        // The first dozen came in the last hours: the lines' queues.
        let opened_at = if n < 3 {
            business_ago(&hours, now, [2, 50, 40][n] * MINUTE)
        } else if n < 12 {
            now - rng.gen_range(5..170) * MINUTE
        } else if n < 24 {
            // The day before: every state of work.
            now - rng.gen_range(4 * 60..40 * 60) * MINUTE
        } else {
            (delivered_at + rng.gen_range(10..600) * MINUTE).min(now - 5 * MINUTE)
        };
        // The newest cases are still in every state of work; older ones
        // resolved, the oldest closed.
        let age = now - opened_at;
        let fate = match (age, rng.gen_range(0..10)) {
            // (The three at a glance stay new at any hour: at night their
            // business minutes ago can be many hours of the clock.)
            (a, _) if a < 3 * HOUR || n < 3 => Fate::New,
            (a, _) if a < 2 * DAY => [
                Fate::Open,
                Fate::WaitingDepartment,
                Fate::WaitingCustomer,
                Fate::Resolved,
                Fate::Open,
            ][n % 5],
            (a, r) if a < 7 * DAY => {
                if r < 2 {
                    Fate::WaitingDepartment
                } else {
                    Fate::Resolved
                }
            }
            _ => Fate::Closed,
        };
        let text = said(
            if couriers_line {
                "courier_app"
            } else {
                category
            },
            rng,
        );
        let external = format!("demo-{n}");
        // An e-mail case lives in its thread: replies would go back there
        // (loading history sends nothing).
        let thread = (channel == "email").then(|| {
            let address = order
                .customer_email
                .clone()
                .unwrap_or_else(|| format!("client.{}@example.com", order.order_number));
            format!(
                "{}{address}",
                doorstep_store::helpdesk::cases::EMAIL_CONVERSATION
            )
        });
        let new = NewCase {
            channel,
            line: if couriers_line {
                "couriers"
            } else {
                "customers"
            },
            category,
            priority: if category == "courier_behaviour" {
                "high"
            } else {
                "normal"
            },
            order_number: Some(order.order_number.as_str()),
            customer_phone: Some(order.customer_phone.as_str()),
            text,
            external_id: Some(&external),
            direction: Direction::Inbound,
            author: "crm",
            incident_id: None,
            conversation: thread.as_deref(),
        };
        let opened = as_of(opened_at, store.open_case(&new)).await?;
        let Opened::Created(case) = opened else {
            continue;
        };
        if thread.is_some() {
            store
                .add_mail_message(&format!("{external}@mail.example.com"), &case.id, "inbound")
                .await?;
        }
        cases += 1;
        if fate == Fate::New {
            continue;
        }
        let operator = &operators[n % operators.len()];
        let mut story = Story {
            store,
            categories: &categories,
            currency: &currency,
            case_id: case.id.clone(),
            category: category.to_owned(),
            order_amount: order.amount.map(doorstep_domain::Money::minor),
            operator,
            at: opened_at,
            // Couriers' calls are promised 15 minutes: answered quickly too.
            quick: couriers_line || matches!(channel, "chat" | "messenger" | "social" | "app"),
        };
        story.take(rng).await?;
        if story.at >= now {
            continue;
        }
        story.reply(rng, channel).await?;
        // Some customers write again before it is settled: it joins.
        if rng.gen_bool(0.15) {
            let again = story.later(rng, 20, 240).min(now - MINUTE);
            let contact = NewContact {
                channel: "chat",
                direction: Direction::Inbound,
                text: "Есть новости по моему обращению?",
                author: "crm",
                external_id: None,
                by_person: false,
                attachment_id: None,
                follows_previous: false,
            };
            must(as_of(again, store.add_contact(&case.id, &contact)).await?.0)?;
        }
        match fate {
            Fate::Open => continue,
            Fate::WaitingCustomer => {
                story
                    .status(rng, CaseStatus::WaitingCustomer, 2, 20)
                    .await?;
                continue;
            }
            Fate::WaitingDepartment => {
                story
                    .status(rng, CaseStatus::WaitingDepartment, 2, 20)
                    .await?;
                let fault = fault_for(category, rng);
                let at = story.later(rng, 1, 5);
                must(
                    as_of(
                        at,
                        store.record_fault(
                            &case.id,
                            fault,
                            Some("ждём ответ отдела"),
                            operator.actor(false),
                        ),
                    )
                    .await?,
                )?;
                continue;
            }
            _ => {}
        }
        // The remedy: the playbook's first; one over the limit waits.
        if !pending_made && category == "damaged" && age < 2 * DAY {
            let over = deployment.operator_limit + 50_000;
            if story
                .remedy(rng, Some(RemedyType::Compensation), Some(over), limit)
                .await?
                .is_some()
            {
                remedies += 1;
                pending_made = true;
            }
        } else if rng.gen_bool(0.7) {
            if let Some(r) = story.remedy(rng, None, None, limit).await? {
                remedies += 1;
                // The company's systems have reported on most requests.
                if r.status == RemedyStatus::Requested.as_str()
                    && story.at < now - HOUR
                    && rng.gen_bool(0.7)
                {
                    // The company's systems report back (one redelivery failed).
                    let outcome = if failed_made {
                        RemedyStatus::Done
                    } else {
                        RemedyStatus::Failed
                    };
                    failed_made = true;
                    let at = story.later(rng, 30, 240).min(now - MINUTE);
                    must(
                        as_of(
                            at,
                            store.remedy_outcome(&r.id, outcome, Some("служба доставки"), "oms"),
                        )
                        .await?,
                    )?;
                }
                if !reversed_made && r.status == RemedyStatus::Applied.as_str() {
                    // Credited to the wrong order by mistake, reversed.
                    let ledger = store.ledger(order.customer_phone.as_str(), 100).await?;
                    if let Some(entry) = ledger
                        .entries
                        .iter()
                        .find(|e| e.remedy_id.as_deref() == Some(r.id.as_str()))
                    {
                        let at = story.later(rng, 5, 30).min(now - MINUTE);
                        must(as_of(at, store.reverse_entry(&entry.id, "начислено по ошибке: компенсация уже выдана по другому обращению", &approver.login)).await?)?;
                        reversed_made = true;
                    }
                }
            }
        }
        if story.at >= now {
            continue;
        }
        // Most are settled within the hour or two; some take a day.
        if story.at < now - 31 * HOUR && rng.gen_bool(0.1) {
            story
                .status(rng, CaseStatus::Resolved, 6 * 60, 30 * 60)
                .await?;
        } else {
            story.status(rng, CaseStatus::Resolved, 5, 120).await?;
        }
        story.rate(rng, now).await?;
        settled.push(Settled {
            order: order.order_number.as_str().to_owned(),
            phone: order.customer_phone.as_str().to_owned(),
            category,
            channel,
            couriers_line,
            resolved_at: story.at,
        });
        if rng.gen_bool(0.75) {
            let fault = fault_for(category, rng);
            let at = story.later(rng, 5, 60).min(now - MINUTE);
            must(
                as_of(
                    at,
                    store.record_fault(&case.id, fault, None, operator.actor(false)),
                )
                .await?,
            )?;
        }
        if fate == Fate::Closed {
            story
                .status(rng, CaseStatus::Closed, 3 * 24 * 60, 4 * 24 * 60)
                .await?;
        }
    }
    cases += repeats(store, rng, now, &categories, &currency, operators, &settled).await?;
    Ok((cases, remedies))
}

/// The instant `business_ms` of `calendar`'s working time before `now`
/// (so that a demo case shows the same SLA state whenever it is loaded,
/// at night as by day).
fn business_ago(
    calendar: &doorstep_domain::helpdesk::sla::Calendar,
    now: i64,
    business_ms: i64,
) -> i64 {
    use doorstep_domain::helpdesk::sla::Clock;
    let (mut early, mut late) = (now - 30 * DAY, now);
    while late - early > 1_000 {
        let mid = early + (late - early) / 2;
        if Clock::started(mid).spent_ms(calendar, now) > business_ms {
            early = mid;
        } else {
            late = mid;
        }
    }
    late
}

/// The customers who rated their case on its status page answered the
/// built-in support survey (channel `support`): their CSAT and an effort
/// score that goes with it, as responses that feed the scores like any
/// other. Cases without an order keep their CSAT on the case only.
async fn support_answers(store: &Store, rng: &mut StdRng, now: i64) -> anyhow::Result<usize> {
    use doorstep_domain::survey::{
        check_answers, Channel, ResponseStatus, SurveyDefinition, SUPPORT_SURVEY_ID,
    };
    use doorstep_store::helpdesk::cases::{CaseFilter, CaseView};
    let Some(record) = store.survey(SUPPORT_SURVEY_ID, None).await? else {
        return Ok(0);
    };
    let survey: SurveyDefinition = serde_json::from_str(&record.definition)?;
    let tagger = store.vocabulary().await?.tagger();
    let tz = store.deployment().await?.tz();
    let mut rated = Vec::new();
    for status in ["resolved", "closed"] {
        let mut filter = CaseFilter::new(CaseView::All);
        filter.status = Some(status.to_owned());
        filter.search = None;
        filter.limit = 1000;
        rated.extend(store.cases(&filter).await?);
    }
    let mut batch = Vec::new();
    for case in rated {
        let (Some(csat), Some(at), Some(order)) = (case.csat, case.csat_at, case.order_number)
        else {
            continue;
        };
        // Effort follows satisfaction, with some spread.
        let ces = (csat + 2 + rng.gen_range(-1..=1)).clamp(1, 7);
        let answers = vec![
            ("support_csat".to_owned(), serde_json::json!(csat)),
            ("support_ces".to_owned(), serde_json::json!(ces)),
        ];
        let checked = check_answers(&survey, ResponseStatus::Completed, &answers)
            .map_err(|p| anyhow::anyhow!("demo ratings do not fit the support survey: {p:?}"))?;
        let id = uuid::Builder::from_random_bytes(rng.gen())
            .into_uuid()
            .to_string();
        let (day, month) = doorstep_domain::time::local_day(at, &tz);
        batch.push(doorstep_store::NewResponse {
            day,
            month,
            facts: doorstep_domain::survey::metrics::facts(&survey, &checked),
            causes: tagger.tag(&checked),
            content_hash: crate::security::sha256_hex(&id),
            id,
            order_number: order,
            survey_id: SUPPORT_SURVEY_ID.to_owned(),
            survey_version: record.version,
            status: ResponseStatus::Completed,
            channel: Channel::Support,
            mode: None,
            language: Some("ru".to_owned()),
            token_id: None,
            started_at: at - 40_000,
            finished_at: at,
            answers: checked,
            review_opened: None,
            recording_consent: None,
        });
    }
    let today = doorstep_domain::time::local_day(now, &tz).0;
    let outcomes = store.store_responses(&batch, None, today).await?;
    Ok(outcomes
        .iter()
        .filter(|o| **o == doorstep_store::ResponseOutcome::Stored)
        .count())
}

/// A resolved demo case its customer may come back about.
struct Settled {
    order: String,
    phone: String,
    category: &'static str,
    channel: &'static str,
    couriers_line: bool,
    resolved_at: i64,
}

/// About one settled case in eight brings the customer back about the same
/// order within a week: a new case, which is a repeat of the first (and
/// takes that one out of first-contact resolution).
async fn repeats(
    store: &Store,
    rng: &mut StdRng,
    now: i64,
    categories: &[CaseCategory],
    currency: &str,
    operators: &[Person],
    settled: &[Settled],
) -> anyhow::Result<usize> {
    let mut made = 0;
    for (k, done) in settled.iter().enumerate() {
        let Settled {
            order,
            phone,
            category,
            channel,
            couriers_line,
            resolved_at,
        } = done;
        let at = resolved_at + rng.gen_range(6 * 60..5 * 24 * 60) * MINUTE;
        if at >= now - HOUR || !rng.gen_bool(0.125) {
            continue;
        }
        let external = format!("demo-repeat-{k}");
        let new = NewCase {
            channel,
            line: if *couriers_line {
                "couriers"
            } else {
                "customers"
            },
            category,
            priority: "normal",
            order_number: Some(order),
            customer_phone: Some(phone),
            text: "Снова пишу по тому же заказу: вопрос так и не решён.",
            external_id: Some(&external),
            direction: Direction::Inbound,
            author: "crm",
            incident_id: None,
            conversation: None,
        };
        let Opened::Created(case) = as_of(at, store.open_case(&new)).await? else {
            continue;
        };
        made += 1;
        let mut story = Story {
            store,
            categories,
            currency,
            case_id: case.id.clone(),
            category: (*category).to_owned(),
            order_amount: None,
            operator: &operators[k % operators.len()],
            at,
            quick: matches!(*channel, "chat" | "messenger" | "social" | "app"),
        };
        story.take(rng).await?;
        story.reply(rng, channel).await?;
        if story.at < now - HOUR {
            story.status(rng, CaseStatus::Resolved, 10, 90).await?;
            story.rate(rng, now).await?;
        }
    }
    Ok(made)
}

/// One customer who claims damage again and again (seed 002: photos of
/// damage that never happened, to win a bonus): a compensation on most of
/// their orders.
async fn abuser(
    store: &Store,
    rng: &mut StdRng,
    now: i64,
    orders: &[OrderRecord],
    operators: &[Person],
) -> anyhow::Result<usize> {
    let mut by_customer: std::collections::HashMap<&str, Vec<&OrderRecord>> =
        std::collections::HashMap::new();
    for o in orders.iter().filter(|o| {
        o.delivered_at
            .is_some_and(|d| d.as_millisecond() < now - DAY)
    }) {
        by_customer
            .entry(o.customer_phone.as_str())
            .or_default()
            .push(o);
    }
    let mut candidates: Vec<(&str, Vec<&OrderRecord>)> = by_customer
        .into_iter()
        .filter(|(_, v)| v.len() >= 6)
        .collect();
    candidates.sort_by_key(|(phone, _)| *phone);
    let Some((phone, theirs)) = candidates
        .get(rng.gen_range(0..candidates.len().max(1)))
        .cloned()
    else {
        return Ok(0);
    };
    let categories = store.case_categories().await?;
    let currency = store.deployment().await?.currency;
    let operator = &operators[0];
    let mut made = 0;
    let mut theirs = theirs;
    theirs.sort_by_key(|o| o.promised_from);
    let recent = theirs.len().saturating_sub(6);
    for (k, o) in theirs[recent..].iter().enumerate() {
        let Some(delivered) = o.delivered_at else {
            continue;
        };
        // Five settled claims, and a sixth just in, waiting for an operator.
        let at = if k < 5 {
            delivered.as_millisecond() + 30 * MINUTE
        } else {
            now - 40 * MINUTE
        };
        let external = format!("demo-claim-{k}");
        let new = NewCase {
            channel: "app",
            line: "customers",
            category: "damaged",
            priority: "normal",
            order_number: Some(o.order_number.as_str()),
            customer_phone: Some(phone),
            text: "Товар повреждён, прикладываю фото. Прошу компенсацию.",
            external_id: Some(&external),
            direction: Direction::Inbound,
            author: "app",
            incident_id: None,
            conversation: None,
        };
        let Opened::Created(case) = as_of(at, store.open_case(&new)).await? else {
            continue;
        };
        let mut story = Story {
            store,
            categories: &categories,
            currency: &currency,
            case_id: case.id.clone(),
            category: "damaged".to_owned(),
            order_amount: o.amount.map(doorstep_domain::Money::minor),
            operator,
            at,
            quick: false,
        };
        if k < 5 {
            story.take(rng).await?;
            story
                .remedy(rng, Some(RemedyType::Compensation), None, None)
                .await?;
            story.status(rng, CaseStatus::Resolved, 5, 30).await?;
            if story.at < now - 3 * DAY {
                story
                    .status(rng, CaseStatus::Closed, 3 * 24 * 60, 4 * 24 * 60)
                    .await?;
            }
        }
        made += 1;
    }
    Ok(made)
}

/// Loads the demo's helpdesk after its answers.
/// A mass notice sent fifty minutes ago: roads closed in Moscow hold up
/// the next deliveries there; their customers were told by SMS or e-mail.
async fn mass_notice(
    store: &Store,
    now: i64,
    orders: &[OrderRecord],
    dispatcher: &Person,
) -> anyhow::Result<()> {
    use doorstep_store::helpdesk::mass::Selection;
    let deployment = store.deployment().await?;
    let at = now - 50 * 60_000;
    // The next undelivered orders in Moscow (at night: the morning's).
    let Some(first) = orders
        .iter()
        .filter(|o| {
            o.city == "Москва" && o.delivered_at.is_none() && o.promised_to.as_millisecond() > now
        })
        .map(|o| o.promised_from.as_millisecond())
        .min()
    else {
        return Ok(());
    };
    let texts = serde_json::json!({
        "ru": "Заказ {order} задержится примерно на час: в Москве перекрыли дороги. Курьер в пути — простите за ожидание.",
        "en": "Order {order} will be about an hour late: roads are closed in Moscow. The courier is on the way — sorry for the wait.",
    });
    let selection = Selection {
        city: Some("Москва".to_owned()),
        window_from: first,
        window_to: first + 2 * HOUR,
        ..Selection::default()
    };
    as_of(
        at,
        store.create_mass_notice(&selection, &texts.to_string(), &dispatcher.id),
    )
    .await?;
    as_of(
        at,
        crate::app::helpdesk::mass::write_all(store, &deployment),
    )
    .await?;
    // Sent as soon as written (even if the demo is made in the quiet
    // hours); any other notice goes back in line for the notices job.
    let horizon = now + 2 * DAY;
    for notice in store.claim_notices(horizon, 10_000).await? {
        if notice.mass_id.is_some() {
            as_of(at + 60_000, store.notice_sent(&notice)).await?;
        }
    }
    store.requeue_stuck_notices(horizon + 1).await?;
    Ok(())
}

/// Chats the assistant settled (seed 003): customers asking where their
/// order is just after the courier left it downstairs; most thank it and
/// go, some ask for a person, whom an operator then answers. Returns how
/// many chats.
async fn self_service(
    store: &Store,
    rng: &mut StdRng,
    now: i64,
    orders: &[OrderRecord],
    operators: &[Person],
) -> anyhow::Result<usize> {
    const MINUTE: i64 = 60_000;
    let deployment = store.deployment().await?;
    let recent: Vec<&OrderRecord> = orders
        .iter()
        .filter(|o| {
            o.delivered_at.is_some_and(|d| {
                let d = d.as_millisecond();
                d > now - 30 * DAY && d < now - DAY
            })
        })
        .collect();
    let mut chats = 0;
    for _ in 0..40 {
        let order = super::pick(rng, &recent);
        let Some(delivered) = order.delivered_at.map(jiff::Timestamp::as_millisecond) else {
            continue;
        };
        let at = delivered + rng.gen_range(5..40) * MINUTE;
        let ask = "Здравствуйте! Где мой заказ? Курьер написал, что доставил.";
        let opened = as_of(
            at,
            store.open_case(&about_order("chat", "other", order, ask, "customer")),
        )
        .await?;
        let Opened::Created(case) = opened else {
            continue;
        };
        chats += 1;
        as_of(
            at,
            crate::app::helpdesk::bot::answer(store, &deployment, &case, "chat", ask, "ru"),
        )
        .await?;
        let wants_person = rng.gen_bool(0.25);
        let text = if wants_person {
            "Его нигде нет. Позовите оператора"
        } else {
            "Нашла у консьержа, спасибо!"
        };
        let said = customer_says("chat", text);
        let case = must(
            as_of(at + 2 * MINUTE, store.add_contact(&case.id, &said))
                .await?
                .0,
        )?;
        as_of(
            at + 2 * MINUTE,
            crate::app::helpdesk::bot::answer(store, &deployment, &case, "chat", text, "ru"),
        )
        .await?;
        if wants_person {
            let operator = super::pick(rng, operators);
            let answer = reply_by(operator, "chat", "Проверили с курьером: заказ оставлен у соседки из 12-й квартиры. Простите за путаницу!");
            must(
                as_of(at + 6 * MINUTE, store.add_contact(&case.id, &answer))
                    .await?
                    .0,
            )?;
            let _ = as_of(
                at + 20 * MINUTE,
                store.set_case_status(&case.id, CaseStatus::Resolved, operator.actor(true)),
            )
            .await?;
        }
    }
    Ok(chats)
}

/// A person's reply on a case.
fn reply_by<'a>(operator: &'a Person, channel: &'a str, text: &'a str) -> NewContact<'a> {
    NewContact {
        channel,
        direction: Direction::Outbound,
        text,
        author: &operator.login,
        external_id: None,
        by_person: true,
        attachment_id: None,
        follows_previous: false,
    }
}

/// A customer's contact about their order that opens a case on the
/// customers' line (or joins their open one).
fn about_order<'a>(
    channel: &'a str,
    category: &'a str,
    order: &'a OrderRecord,
    text: &'a str,
    author: &'a str,
) -> NewCase<'a> {
    NewCase {
        channel,
        line: "customers",
        category,
        priority: "normal",
        order_number: Some(order.order_number.as_str()),
        customer_phone: Some(order.customer_phone.as_str()),
        text,
        external_id: None,
        direction: Direction::Inbound,
        author,
        incident_id: None,
        conversation: None,
    }
}

/// A customer's message on a case.
fn customer_says<'a>(channel: &'a str, text: &'a str) -> NewContact<'a> {
    NewContact {
        channel,
        direction: Direction::Inbound,
        text,
        author: "customer",
        external_id: None,
        by_person: false,
        attachment_id: None,
        follows_previous: false,
    }
}

/// Late orders told first (seed 002): of the orders delivered well after
/// their window in the last sixty days, some got Doorstep's apology ten
/// minutes into the delay — a few of those customers wrote back on their
/// status page — and some customers called before it went out. Customers
/// told first answer the door survey better (the dashboard's "told
/// first"); the cases older than a day are resolved. Returns how many.
async fn told_first(
    store: &Store,
    rng: &mut StdRng,
    now: i64,
    orders: &[OrderRecord],
    operators: &[Person],
) -> anyhow::Result<usize> {
    const MINUTE: i64 = 60_000;
    let deployment = store.deployment().await?;
    let late: Vec<&OrderRecord> = orders
        .iter()
        .filter(|o| {
            let to = o.promised_to.as_millisecond();
            o.delivered_at
                .is_some_and(|d| d.as_millisecond() > to + 20 * MINUTE)
                && to > now - 60 * DAY
                && to < now - 2 * 3_600_000
        })
        .collect();
    let numbers: Vec<&str> = late.iter().map(|o| o.order_number.as_str()).collect();
    let scores = store.order_nps(&numbers).await?;
    let mut told = 0;
    for order in late {
        let number = order.order_number.as_str();
        // Those who answered well were told first more often.
        let nps = scores.get(number).copied();
        let chance = match nps {
            Some(n) if n >= 7 => 0.7,
            Some(_) => 0.3,
            None => 0.5,
        };
        if !rng.gen_bool(chance) {
            continue;
        }
        let Some(view) = store.order(number).await? else {
            continue;
        };
        let to = order.promised_to.as_millisecond();
        let operator = super::pick(rng, operators);
        let called_first = rng.gen_bool(0.25);
        if called_first {
            let asked = "Где мой заказ? Обещали привезти, а курьера всё нет.";
            let opened = as_of(
                to + 3 * MINUTE,
                store.open_case(&about_order("phone", "late", order, asked, &operator.login)),
            )
            .await?;
            // The operator who took the call answers at once.
            let answer = reply_by(
                operator,
                "phone",
                "Курьер задерживается, заказ уже в пути. Извините!",
            );
            must(
                as_of(
                    to + 4 * MINUTE,
                    store.add_contact(&opened.case().id, &answer),
                )
                .await?
                .0,
            )?;
        }
        let at = to + 10 * MINUTE;
        let notice = as_of(
            at,
            crate::app::helpdesk::late::tell(store, &deployment, &view, at),
        )
        .await?;
        let Some((notice, case_id)) = notice.and_then(|n| n.case_id.clone().map(|c| (n, c))) else {
            continue;
        };
        as_of(at + MINUTE, store.notice_sent(&notice)).await?;
        if !called_first && rng.gen_bool(0.3) {
            let thanks = customer_says("chat", "Спасибо, что предупредили. Жду.");
            must(
                as_of(at + 25 * MINUTE, store.add_contact(&case_id, &thanks))
                    .await?
                    .0,
            )?;
            let answer = reply_by(
                operator,
                "chat",
                "Спасибо за понимание! Курьер будет совсем скоро.",
            );
            must(
                as_of(at + 27 * MINUTE, store.add_contact(&case_id, &answer))
                    .await?
                    .0,
            )?;
        }
        if to < now - DAY {
            let closed = order
                .delivered_at
                .map_or(at, jiff::Timestamp::as_millisecond)
                + 30 * MINUTE;
            let _ = as_of(
                closed,
                store.set_case_status(&case_id, CaseStatus::Resolved, operator.actor(true)),
            )
            .await?;
        }
        told += 1;
    }
    Ok(told)
}

pub async fn load(
    store: &Store,
    rng: &mut StdRng,
    orders: &[OrderRecord],
) -> anyhow::Result<Summary> {
    let now = doorstep_store::now_millis();
    let dispatchers = people(store, &["dispatcher", "anna", "boris"]).await?;
    let operators = people(store, &["operator", "olga", "ivan", "maria"]).await?;
    let approver = &dispatchers[0];
    calendars(store, now).await?;
    let (incidents, open, to_cases) = incidents(store, rng, now, &dispatchers).await?;
    let (mut cases, remedies) = Box::pin(cases(
        store,
        rng,
        now,
        orders,
        &to_cases,
        &dispatchers,
        &operators,
        approver,
    ))
    .await?;
    cases += abuser(store, rng, now, orders, &operators).await?;
    cases += told_first(store, rng, now, orders, &operators).await?;
    mass_notice(store, now, orders, &dispatchers[0]).await?;
    cases += self_service(store, rng, now, orders, &operators).await?;
    let ratings = support_answers(store, rng, now).await?;
    Ok(Summary {
        incidents,
        open_incidents: open,
        cases,
        remedies,
        ratings,
    })
}
