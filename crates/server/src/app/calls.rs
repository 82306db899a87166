//! The contact center's figures (METRICS.md, "Contact center") for a
//! period: offered, answered, abandoned, answer rate, service level X/Y
//! (calls abandoned within 5 seconds left out of both sides), ASA, AHT,
//! abandonment rate and the longest wait — by line, queue, agent, hour of
//! the day, day, week or month, in the deployment's time zone.

use std::collections::{BTreeMap, HashMap};

use doorstep_domain::helpdesk::cases::Line;
use doorstep_domain::time::{date_of_day, day_number, day_range, local_day, to_millis, week_start};
use doorstep_store::calls::{CallCut, CallSums, SLOT_MS};
use doorstep_store::Store;
use serde::Serialize;

use crate::app::{problem, Problem};

/// The key of the calls no reason was given for, by reason.
pub const NO_REASON: &str = "none";

/// The setting that holds the contact reasons (JSON).
pub const REASONS_SETTING: &str = "call_reasons";

/// A contact reason (wrap-up code) of the editable list, with its names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CallReason {
    pub id: String,
    pub en: String,
    pub ru: String,
}

impl CallReason {
    /// Its name in `lang` (Russian, else English).
    pub fn name(&self, lang: &str) -> &str {
        if lang == "ru" {
            &self.ru
        } else {
            &self.en
        }
    }
}

/// The reasons a deployment starts with (seed 003: most calls are general
/// questions — where is the order, change it).
fn default_reasons() -> Vec<CallReason> {
    [
        ("where_is_order", "Where is my order", "Где мой заказ"),
        (
            "change_delivery",
            "Change the time or address",
            "Изменить время или адрес",
        ),
        ("complaint", "Complaint", "Жалоба"),
        ("payment", "Payment or refund", "Оплата или возврат"),
        ("courier", "A courier's question", "Вопрос курьера"),
        ("other", "Other", "Другое"),
    ]
    .into_iter()
    .map(|(id, en, ru)| CallReason {
        id: id.to_owned(),
        en: en.to_owned(),
        ru: ru.to_owned(),
    })
    .collect()
}

/// The deployment's contact reasons.
pub async fn reasons(store: &Store) -> Result<Vec<CallReason>, doorstep_store::StoreError> {
    Ok(store
        .setting(REASONS_SETTING)
        .await?
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_else(default_reasons))
}

/// Reads the reasons as Settings shows them: one per line, `id | English
/// | Русский`; what is wrong names its line.
pub fn parse_reasons(text: &str) -> Result<Vec<CallReason>, String> {
    let mut out: Vec<CallReason> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let id = parts[0];
        if id.is_empty()
            || id.len() > 40
            || !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(format!(
                "line {}: {id:?} is not a code (lower-case letters, digits and _, at most 40)",
                i + 1
            ));
        }
        if id == NO_REASON {
            return Err(format!(
                "line {}: {NO_REASON:?} means no reason given; choose another code",
                i + 1
            ));
        }
        if out.iter().any(|r| r.id == id) {
            return Err(format!("line {}: {id:?} is listed twice", i + 1));
        }
        let en = parts
            .get(1)
            .copied()
            .filter(|t| !t.is_empty())
            .unwrap_or(id);
        let ru = parts
            .get(2)
            .copied()
            .filter(|t| !t.is_empty())
            .unwrap_or(en);
        out.push(CallReason {
            id: id.to_owned(),
            en: en.chars().take(100).collect(),
            ru: ru.chars().take(100).collect(),
        });
    }
    if out.is_empty() {
        return Err("no reason: list at least one".to_owned());
    }
    Ok(out)
}

/// The reasons as Settings shows them.
pub fn reasons_text(reasons: &[CallReason]) -> String {
    reasons
        .iter()
        .map(|r| format!("{} | {} | {}", r.id, r.en, r.ru))
        .collect::<Vec<_>>()
        .join("\n")
}

pub use doorstep_store::calls::SHORT_ABANDON_SECONDS;

/// The service-level target X/Y: `percent` of calls answered within
/// `seconds` (Settings; 80/20 unless changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ServiceLevel {
    pub percent: i64,
    pub seconds: i64,
}

impl Default for ServiceLevel {
    fn default() -> Self {
        ServiceLevel {
            percent: 80,
            seconds: 20,
        }
    }
}

/// The settings that keep the target.
pub const SERVICE_LEVEL_SETTING: &str = "service_level";

impl ServiceLevel {
    /// `80/20`.
    pub fn parse(text: &str) -> Result<ServiceLevel, String> {
        let (p, s) = text
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("{text:?}: write it as percent/seconds, e.g. 80/20"))?;
        let percent: i64 = p
            .trim()
            .parse()
            .map_err(|_| format!("{p:?} is not a percentage"))?;
        let seconds: i64 = s
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not a number of seconds"))?;
        if !(1..=100).contains(&percent) || !(1..=3600).contains(&seconds) {
            return Err(format!(
                "{text:?}: a percentage of 1 to 100 within 1 to 3600 seconds"
            ));
        }
        Ok(ServiceLevel { percent, seconds })
    }

    /// The deployment's target.
    pub async fn of(store: &Store) -> Result<ServiceLevel, doorstep_store::StoreError> {
        Ok(store
            .setting(SERVICE_LEVEL_SETTING)
            .await?
            .and_then(|v| ServiceLevel::parse(&v).ok())
            .unwrap_or_default())
    }
}

/// Builds the kept call slots anew when they were counted for another
/// target than the deployment's (after the target changed, or a
/// migration kept them for 80/20); the figures are read from the calls
/// meanwhile. Returns whether it built them.
pub async fn keep_slots_current(store: &Store) -> Result<bool, doorstep_store::StoreError> {
    let target = ServiceLevel::of(store).await?;
    let kept = store
        .setting(doorstep_store::calls::SLOTS_SECONDS_SETTING)
        .await?
        .and_then(|v| v.parse::<i64>().ok());
    if kept == Some(target.seconds) {
        return Ok(false);
    }
    let started = std::time::Instant::now();
    let rows = store.rebuild_call_slots(target.seconds).await?;
    tracing::info!(
        rows,
        seconds = target.seconds,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "call figures' slots built for the service-level target"
    );
    Ok(true)
}

/// [`keep_slots_current`] in the background (a year of calls takes a
/// while; the figures are right meanwhile, only slower).
pub fn keep_slots_current_soon(store: &Store) {
    let store = store.clone();
    tokio::spawn(async move {
        if let Err(e) = keep_slots_current(&store).await {
            tracing::warn!(error = %e, "the call figures' slots could not be built; they are read from the calls");
        }
    });
}

/// What to count, as the caller writes it.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallsQuery {
    /// First local day, `YYYY-MM-DD` (default: 29 days before `to`).
    #[param(pattern = r"^\s*(\d{4}-\d{2}-\d{2})?\s*$")]
    pub from: Option<String>,
    /// Last local day, inclusive (default: today).
    #[param(pattern = r"^\s*(\d{4}-\d{2}-\d{2})?\s*$")]
    pub to: Option<String>,
    /// Only the queues of this line: `customers` or `couriers`.
    #[param(pattern = r"^\s*(customers|couriers)?\s*$")]
    pub line: Option<String>,
    /// `all`, `line`, `queue`, `agent`, `reason` (the contact reason, or
    /// `none`), `hour` (of the day), `day`, `week` or `month`; default
    /// `queue`.
    #[param(pattern = r"^\s*(all|line|queue|agent|reason|hour|day|week|month)?\s*$")]
    pub group_by: Option<String>,
}

/// How the figures are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallGrouping {
    All,
    Line,
    Queue,
    Agent,
    /// The contact reason (wrap-up code); `none` for calls without one.
    Reason,
    /// The hour of the day (00–23), over every day of the period.
    Hour,
    Day,
    Week,
    Month,
}

impl CallGrouping {
    pub const ALL: [CallGrouping; 9] = [
        CallGrouping::All,
        CallGrouping::Line,
        CallGrouping::Queue,
        CallGrouping::Agent,
        CallGrouping::Reason,
        CallGrouping::Hour,
        CallGrouping::Day,
        CallGrouping::Week,
        CallGrouping::Month,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallGrouping::All => "all",
            CallGrouping::Line => "line",
            CallGrouping::Queue => "queue",
            CallGrouping::Agent => "agent",
            CallGrouping::Reason => "reason",
            CallGrouping::Hour => "hour",
            CallGrouping::Day => "day",
            CallGrouping::Week => "week",
            CallGrouping::Month => "month",
        }
    }
}

/// A checked request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallsRequest {
    pub from: jiff::civil::Date,
    pub to: jiff::civil::Date,
    pub line: Option<Line>,
    pub group: CallGrouping,
}

impl CallsQuery {
    /// Reads the query; problems name the parameter.
    pub fn request(&self, today: jiff::civil::Date) -> Result<CallsRequest, Problem> {
        let (from, to) = crate::app::period(self.from.as_deref(), self.to.as_deref(), today)?;
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
        };
        let group = match text(&self.group_by) {
            None => CallGrouping::Queue,
            Some(g) => CallGrouping::ALL
                .into_iter()
                .find(|c| c.as_str() == g)
                .ok_or_else(|| {
                    problem(
                        "group_by",
                        format!("{g:?} is not a grouping (all, line, queue, agent, reason, hour, day, week or month)"),
                    )
                })?,
        };
        let line = match text(&self.line) {
            None => None,
            Some(l) => Some(Line::parse(&l).ok_or_else(|| {
                problem("line", format!("{l:?} is not a line ({})", Line::words()))
            })?),
        };
        Ok(CallsRequest {
            from,
            to,
            line,
            group,
        })
    }
}

/// One group's figures. Rates are percentages (0–100, one decimal);
/// `null` where nothing was counted for them.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CallGroup {
    pub key: String,
    /// Calls that reached a queue.
    pub offered: i64,
    pub answered: i64,
    /// Callers who hung up while waiting.
    pub abandoned: i64,
    /// % answered of offered.
    pub answer_rate: Option<f64>,
    /// % answered within the target's seconds, of offered — calls
    /// abandoned within 5 seconds left out of both.
    pub service_level: Option<f64>,
    /// Average speed of answer: mean seconds the answered calls waited.
    pub asa_seconds: Option<f64>,
    /// Average handle time: mean seconds of the answered calls that ended
    /// (talk and hold as the PBX counts them).
    pub aht_seconds: Option<f64>,
    /// % abandoned of offered.
    pub abandonment_rate: Option<f64>,
    /// The longest a caller waited.
    pub longest_wait_seconds: i64,
    /// % of all the calls offered in the answer that are in this group
    /// (by reason: the share of calls with that reason).
    pub share: Option<f64>,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CallsAnswer {
    pub from: String,
    pub to: String,
    pub group_by: String,
    pub line: Option<String>,
    /// The service level the figures are judged against.
    pub target: ServiceLevel,
    pub groups: Vec<CallGroup>,
}

#[allow(clippy::cast_precision_loss)]
fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

#[allow(clippy::cast_precision_loss)]
fn mean(sum: i64, n: i64) -> Option<f64> {
    (n > 0).then(|| (sum as f64 * 10.0 / n as f64).round() / 10.0)
}

fn add(into: &mut CallSums, s: &CallSums) {
    into.offered += s.offered;
    into.answered += s.answered;
    into.abandoned += s.abandoned;
    into.short_abandoned += s.short_abandoned;
    into.answered_in_time += s.answered_in_time;
    into.answered_wait += s.answered_wait;
    into.handled += s.handled;
    into.handle_seconds += s.handle_seconds;
    into.longest_wait = into.longest_wait.max(s.longest_wait);
}

fn group(key: String, s: &CallSums) -> CallGroup {
    let counted = s.offered - s.short_abandoned;
    CallGroup {
        key,
        offered: s.offered,
        answered: s.answered,
        abandoned: s.abandoned,
        answer_rate: percent(s.answered, s.offered),
        service_level: percent(s.answered_in_time, counted),
        asa_seconds: mean(s.answered_wait, s.answered),
        aht_seconds: mean(s.handle_seconds, s.handled),
        abandonment_rate: percent(s.abandoned, s.offered),
        longest_wait_seconds: s.longest_wait,
        share: None,
    }
}

/// Which line each phone queue serves (the customers' line unless set).
pub(crate) struct QueueLines(HashMap<String, String>);

impl QueueLines {
    pub(crate) async fn load(store: &Store) -> Result<QueueLines, doorstep_store::StoreError> {
        Ok(QueueLines(
            store.call_queue_lines().await?.into_iter().collect(),
        ))
    }

    pub(crate) fn of(&self, queue: &str) -> &str {
        self.0
            .get(queue)
            .map_or(doorstep_store::calls::DEFAULT_LINE, String::as_str)
    }
}

/// The figures for a request, groups in key order (periods and hours in
/// time order, every one of them shown).
pub async fn figures(
    store: &Store,
    tz: &jiff::tz::TimeZone,
    req: &CallsRequest,
) -> Result<CallsAnswer, doorstep_store::StoreError> {
    let target = ServiceLevel::of(store).await?;
    let (lo, hi) = day_range(req.from, req.to, tz);
    let (from, to) = (to_millis(lo), to_millis(hi));
    let cut = match req.group {
        CallGrouping::Queue => CallCut::Queue,
        CallGrouping::Agent => CallCut::Agent,
        CallGrouping::Reason => CallCut::Reason,
        _ => CallCut::Slots,
    };
    let sums = store
        .call_sums(from, to, cut, target.seconds, SHORT_ABANDON_SECONDS)
        .await?;
    let lines = QueueLines::load(store).await?;
    let line_of = |queue: &str| lines.of(queue).to_owned();
    // A slot's local day and hour, each computed once.
    let mut local: HashMap<i64, (i64, i8)> = HashMap::new();
    let mut keyed: BTreeMap<String, CallSums> = BTreeMap::new();
    for s in sums
        .iter()
        .filter(|s| req.line.is_none_or(|l| line_of(&s.queue) == l.as_str()))
    {
        let (day, hour) = *local.entry(s.slot).or_insert_with(|| {
            let at = s.slot * SLOT_MS;
            let hour = doorstep_domain::time::from_millis(at)
                .to_zoned(tz.clone())
                .hour();
            (local_day(at, tz).0, hour)
        });
        let key = match req.group {
            CallGrouping::All => "all".to_owned(),
            CallGrouping::Line => line_of(&s.queue),
            CallGrouping::Queue => s.queue.clone(),
            CallGrouping::Agent => s.agent.clone(),
            CallGrouping::Reason if s.reason.is_empty() => NO_REASON.to_owned(),
            CallGrouping::Reason => s.reason.clone(),
            CallGrouping::Hour => format!("{hour:02}"),
            CallGrouping::Day => date_of_day(day).to_string(),
            CallGrouping::Week => date_of_day(week_start(day)).to_string(),
            CallGrouping::Month => {
                let d = date_of_day(day);
                format!("{:04}-{:02}", d.year(), d.month())
            }
        };
        add(keyed.entry(key).or_default(), s);
    }
    // Every period and hour shown, counted or not.
    let every: Vec<String> = match req.group {
        CallGrouping::All => vec!["all".to_owned()],
        CallGrouping::Hour => (0..24).map(|h| format!("{h:02}")).collect(),
        // Every reason of the list, given or not.
        CallGrouping::Reason => reasons(store).await?.into_iter().map(|r| r.id).collect(),
        CallGrouping::Day | CallGrouping::Week | CallGrouping::Month => {
            let mut keys: Vec<String> = Vec::new();
            for day in day_number(req.from)..=day_number(req.to) {
                let d = date_of_day(day);
                let key = match req.group {
                    CallGrouping::Day => d.to_string(),
                    CallGrouping::Week => date_of_day(week_start(day)).to_string(),
                    _ => format!("{:04}-{:02}", d.year(), d.month()),
                };
                if keys.last() != Some(&key) {
                    keys.push(key);
                }
            }
            keys
        }
        _ => Vec::new(),
    };
    for key in every {
        keyed.entry(key).or_default();
    }
    let offered: i64 = keyed.values().map(|s| s.offered).sum();
    Ok(CallsAnswer {
        from: req.from.to_string(),
        to: req.to.to_string(),
        group_by: req.group.as_str().to_owned(),
        line: req.line.map(|l| l.as_str().to_owned()),
        target,
        groups: keyed
            .iter()
            .map(|(k, s)| CallGroup {
                share: percent(s.offered, offered),
                ..group(k.clone(), s)
            })
            .collect(),
    })
}

/// One half hour of a day's staffing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HalfHour {
    /// `09:30`.
    pub start: String,
    pub offered: i64,
    /// The half hour's average handle time (the day's, when none of its
    /// calls ended).
    pub aht_seconds: Option<f64>,
    /// Agents Erlang C says the half hour needed for the target.
    pub needed: u32,
    /// Agents who answered calls in it (those logged in and taking calls).
    pub answered_by: usize,
    /// Agents on duty in its queues at some moment of it (logged in and
    /// not paused, as the PBX logged it); `None` when the PBX logs no
    /// logins (static queue members).
    pub on_duty: Option<usize>,
    pub service_level: Option<f64>,
}

/// The staffing of one local day (of one line's queues, or all): for each
/// half hour with calls, the agents needed to meet the service-level
/// target at the arrivals and AHT observed (Erlang C), beside the agents
/// who answered calls — why a peak missed the target.
pub async fn staffing(
    store: &Store,
    tz: &jiff::tz::TimeZone,
    day: jiff::civil::Date,
    line: Option<Line>,
) -> Result<Vec<HalfHour>, doorstep_store::StoreError> {
    let target = ServiceLevel::of(store).await?;
    let (lo, hi) = day_range(day, day, tz);
    let (from, to) = (to_millis(lo), to_millis(hi));
    let sums = store
        .call_sums(
            from,
            to,
            CallCut::Slots,
            target.seconds,
            SHORT_ABANDON_SECONDS,
        )
        .await?;
    let agents = store.call_agents(from, to).await?;
    let lines = QueueLines::load(store).await?;
    let wanted = |queue: &str| line.is_none_or(|l| lines.of(queue) == l.as_str());
    let half = |slot: i64| {
        let at = doorstep_domain::time::from_millis(slot * SLOT_MS).to_zoned(tz.clone());
        i32::from(at.hour()) * 2 + i32::from(at.minute() / 30)
    };
    let mut by_half: BTreeMap<i32, CallSums> = BTreeMap::new();
    let mut day_sums = CallSums::default();
    for s in sums.iter().filter(|s| wanted(&s.queue)) {
        add(by_half.entry(half(s.slot)).or_default(), s);
        add(&mut day_sums, s);
    }
    // Each half hour's bounds, from its quarter hours (a day of a clock
    // change has its own).
    let mut bounds: BTreeMap<i32, (i64, i64)> = BTreeMap::new();
    let mut at = from;
    while at < to {
        let b = bounds.entry(half(at / SLOT_MS)).or_insert((at, at));
        b.0 = b.0.min(at);
        b.1 = b.1.max(at + SLOT_MS);
        at += SLOT_MS;
    }
    let presence = store.presence_between(from, to).await?;
    let on_duty = |h: i32| -> Option<usize> {
        if presence.is_empty() {
            return None;
        }
        let (start, end) = bounds.get(&h).copied()?;
        Some(
            doorstep_domain::calls::on_duty(&presence, start, end)
                .iter()
                .filter(|(queue, _)| wanted(queue))
                .map(|(_, agent)| agent)
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
        )
    };
    let mut who: BTreeMap<i32, std::collections::BTreeSet<&str>> = BTreeMap::new();
    for (slot, _, agent) in agents.iter().filter(|(_, q, _)| wanted(q)) {
        who.entry(half(*slot)).or_default().insert(agent);
    }
    #[allow(clippy::cast_precision_loss)]
    let day_aht =
        (day_sums.handled > 0).then(|| day_sums.handle_seconds as f64 / day_sums.handled as f64);
    Ok(by_half
        .into_iter()
        .filter(|(_, s)| s.offered > 0)
        .map(|(h, s)| {
            #[allow(clippy::cast_precision_loss)]
            let aht = if s.handled > 0 {
                Some(s.handle_seconds as f64 / s.handled as f64)
            } else {
                day_aht
            };
            #[allow(clippy::cast_precision_loss)]
            let needed = aht.map_or(0, |aht| {
                doorstep_domain::calls::agents_needed(
                    s.offered as f64,
                    1800.0,
                    aht,
                    target.percent as f64 / 100.0,
                    target.seconds as f64,
                )
            });
            HalfHour {
                start: format!("{:02}:{:02}", h / 2, (h % 2) * 30),
                offered: s.offered,
                aht_seconds: aht.map(|a| (a * 10.0).round() / 10.0),
                needed,
                answered_by: who.get(&h).map_or(0, std::collections::BTreeSet::len),
                on_duty: on_duty(h),
                service_level: percent(s.answered_in_time, s.offered - s.short_abandoned),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_read_line_by_line_and_problems_named() {
        let r = parse_reasons("where_is_order | Where is it | Где заказ\n\nother").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!((r[1].en.as_str(), r[1].ru.as_str()), ("other", "other"));
        assert_eq!(parse_reasons(&reasons_text(&r)).unwrap(), r);
        assert!(parse_reasons("ok\nBad Code")
            .unwrap_err()
            .starts_with("line 2"));
        assert!(parse_reasons("a\na").unwrap_err().contains("twice"));
        assert!(parse_reasons("none")
            .unwrap_err()
            .contains("no reason given"));
        assert!(parse_reasons("  \n").is_err());
    }

    #[test]
    fn the_target_is_read_as_percent_over_seconds() {
        assert_eq!(
            ServiceLevel::parse(" 90 / 15 ").unwrap(),
            ServiceLevel {
                percent: 90,
                seconds: 15
            }
        );
        assert!(ServiceLevel::parse("80").is_err());
        assert!(ServiceLevel::parse("180/20").is_err());
    }

    #[test]
    fn short_abandons_are_left_out_of_both_sides_of_the_service_level() {
        // 10 offered: 6 answered (4 in time), 3 abandoned (1 within 5 s), 1
        // left by the queue's rules.
        let s = CallSums {
            offered: 10,
            answered: 6,
            abandoned: 3,
            short_abandoned: 1,
            answered_in_time: 4,
            answered_wait: 6 * 15,
            handled: 5,
            handle_seconds: 5 * 120 + 7,
            longest_wait: 95,
            ..CallSums::default()
        };
        let g = group("support".into(), &s);
        assert_eq!(g.service_level, Some(44.4), "4 of 9");
        assert_eq!(g.answer_rate, Some(60.0));
        assert_eq!(g.abandonment_rate, Some(30.0));
        assert_eq!((g.asa_seconds, g.aht_seconds), (Some(15.0), Some(121.4)));
        assert_eq!(group("x".into(), &CallSums::default()).service_level, None);
    }
}
