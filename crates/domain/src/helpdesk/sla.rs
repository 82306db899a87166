//! SLA clocks: deadlines counted in a line's business hours.
//!
//! A line's [`Calendar`] says when it works: open intervals per weekday
//! (several a day; a 24/7 line has one, all day), days off and holidays,
//! in the deployment's time zone. A [`Clock`] runs from an instant over
//! that calendar, except while the case waits on the customer (its
//! pauses); [`Clock::due_at`] is the instant a budget of business time
//! runs out, [`Clock::spent_ms`] the business time that has run by an
//! instant. Everything is a pure function of instants (milliseconds since
//! the epoch) and the calendar's own time zone — never the server's.
//!
//! Local times that a daylight-saving change skips do not exist and are
//! never open; local times it repeats are open once per real instant, so
//! an interval that spans the change is an hour shorter or longer in real
//! time, as the people working it experience it.

use std::collections::BTreeSet;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

use super::alerts::Priority;
use super::cases::CaseChannel;
use super::vocabulary;

/// Minutes in a day: an interval may end at 24:00.
pub const DAY_MINUTES: u16 = 24 * 60;

/// How far ahead a deadline is looked for: a calendar with no open hours
/// in this many days has no deadline.
const HORIZON_DAYS: i64 = 400;

/// What is wrong with a calendar, for the person who wrote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error(
        "{weekday}: {start}–{end} is not an interval of the day (minutes 0–1440, start before end)"
    )]
    BadInterval {
        weekday: &'static str,
        start: u16,
        end: u16,
    },
    #[error("{weekday}: intervals overlap or are out of order ({a_start}–{a_end}, then {b_start}–{b_end})")]
    Overlap {
        weekday: &'static str,
        a_start: u16,
        a_end: u16,
        b_start: u16,
        b_end: u16,
    },
}

/// Weekday names, Monday first, for messages.
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// A line's working time.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    tz: TimeZone,
    /// Per weekday (Monday first), open intervals as minutes from local
    /// midnight, `[start, end)`, in order and apart.
    week: [Vec<(u16, u16)>; 7],
    /// Local dates closed all day (holidays, days off).
    closed: BTreeSet<Date>,
}

impl Calendar {
    /// A calendar open in `week`'s intervals (Monday first; minutes from
    /// local midnight, `[start, end)`, `end` up to 1440) except on
    /// `closed` dates, in `tz`.
    pub fn new(
        tz: TimeZone,
        week: [Vec<(u16, u16)>; 7],
        closed: impl IntoIterator<Item = Date>,
    ) -> Result<Calendar, CalendarError> {
        for (day, intervals) in week.iter().enumerate() {
            let weekday = WEEKDAYS[day];
            for &(start, end) in intervals {
                if start >= end || end > DAY_MINUTES {
                    return Err(CalendarError::BadInterval {
                        weekday,
                        start,
                        end,
                    });
                }
            }
            for pair in intervals.windows(2) {
                let ((a_start, a_end), (b_start, b_end)) = (pair[0], pair[1]);
                if b_start < a_end {
                    return Err(CalendarError::Overlap {
                        weekday,
                        a_start,
                        a_end,
                        b_start,
                        b_end,
                    });
                }
            }
        }
        Ok(Calendar {
            tz,
            week,
            closed: closed.into_iter().collect(),
        })
    }

    /// Open all day every day (a 24/7 line).
    pub fn always(tz: TimeZone) -> Calendar {
        Calendar {
            tz,
            week: std::array::from_fn(|_| vec![(0, DAY_MINUTES)]),
            closed: BTreeSet::new(),
        }
    }

    /// The calendar's time zone.
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// The open intervals of local date `date`, as instants `[start, end)`
    /// (empty when the date is closed).
    fn open_on(&self, date: Date) -> Vec<(i64, i64)> {
        if self.closed.contains(&date) {
            return Vec::new();
        }
        let weekday = usize::try_from(date.weekday().to_monday_zero_offset()).unwrap_or(0);
        self.week[weekday]
            .iter()
            .filter_map(|&(start, end)| {
                let a = self.instant(date, start)?;
                let b = self.instant(date, end)?;
                (a < b).then_some((a, b))
            })
            .collect()
    }

    /// The instant of `minute` minutes after local midnight of `date`
    /// (1440: the next midnight).
    fn instant(&self, date: Date, minute: u16) -> Option<i64> {
        let (date, minute) = if minute >= DAY_MINUTES {
            (date.tomorrow().ok()?, minute - DAY_MINUTES)
        } else {
            (date, minute)
        };
        let time = Time::new(
            i8::try_from(minute / 60).ok()?,
            i8::try_from(minute % 60).ok()?,
            0,
            0,
        )
        .ok()?;
        // A skipped local time is read as the clocks show after the jump
        // (03:30 in a 03:00 → 04:00 gap is 04:30); a repeated one is its
        // first occurrence.
        let zoned = date.to_datetime(time).to_zoned(self.tz.clone()).ok()?;
        Some(zoned.timestamp().as_millisecond())
    }

    /// The local date of instant `ms`.
    fn date_of(&self, ms: i64) -> Option<Date> {
        let at = jiff::Timestamp::from_millisecond(ms).ok()?;
        Some(at.to_zoned(self.tz.clone()).date())
    }

    /// The open intervals that end after `from`, in order, clipped to
    /// start no earlier than it, up to [`HORIZON_DAYS`] ahead.
    fn open_from(&self, from: i64) -> impl Iterator<Item = (i64, i64)> + '_ {
        // The day before too: an interval may begin on the day before
        // `from`'s local date and run past it (24:00 into a repeated hour).
        let first = self
            .date_of(from)
            .and_then(|d| d.yesterday().ok())
            .unwrap_or(Date::MIN);
        (0..HORIZON_DAYS)
            .map_while(move |i| first.checked_add(jiff::Span::new().days(i)).ok())
            .flat_map(move |date| self.open_on(date))
            .filter(move |&(_, end)| end > from)
            .map(move |(start, end)| (start.max(from), end))
    }

    /// Whether instant `ms` is inside an open interval (its start counts,
    /// its end does not).
    pub fn is_open(&self, ms: i64) -> bool {
        self.open_from(ms)
            .next()
            .is_some_and(|(start, end)| start <= ms && ms < end)
    }
}

/// An SLA clock: started at an instant, running in a calendar's open hours
/// except during pauses (the case waiting on the customer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    pub started_at: i64,
    /// Pauses, `[from, to)`, in order and apart; the last may be open
    /// (`to` is `None`: waiting still).
    pub pauses: Vec<(i64, Option<i64>)>,
}

impl Clock {
    /// A clock started at `started_at`, never paused.
    pub fn started(started_at: i64) -> Clock {
        Clock {
            started_at,
            pauses: Vec::new(),
        }
    }

    /// Whether the clock is paused now (its last pause is open).
    pub fn paused(&self) -> bool {
        self.pauses.last().is_some_and(|(_, to)| to.is_none())
    }

    /// The intervals the clock runs in: the calendar's open hours from the
    /// start, less the pauses.
    fn running<'a>(&'a self, calendar: &'a Calendar) -> impl Iterator<Item = (i64, i64)> + 'a {
        calendar
            .open_from(self.started_at)
            .flat_map(move |(start, end)| {
                let mut pieces = Vec::new();
                let mut at = start;
                for &(from, to) in &self.pauses {
                    let to = to.unwrap_or(i64::MAX);
                    if to <= at || from >= end {
                        continue;
                    }
                    if from > at {
                        pieces.push((at, from));
                    }
                    at = at.max(to);
                    if at >= end {
                        break;
                    }
                }
                if at < end {
                    pieces.push((at, end));
                }
                pieces
            })
    }

    /// The instant `budget_ms` of business time run out (a deadline):
    /// always inside an open, unpaused interval or at its end. `None`
    /// while paused with the budget not yet spent, or when the calendar
    /// has no open hours within a year ahead.
    pub fn due_at(&self, calendar: &Calendar, budget_ms: i64) -> Option<i64> {
        let mut left = budget_ms.max(0);
        for (start, end) in self.running(calendar) {
            if left <= end - start {
                return Some(start + left);
            }
            left -= end - start;
        }
        None
    }

    /// The business time the clock has run by instant `at`.
    pub fn spent_ms(&self, calendar: &Calendar, at: i64) -> i64 {
        let mut spent = 0;
        for (start, end) in self.running(calendar) {
            if start >= at {
                break;
            }
            spent += end.min(at) - start;
        }
        spent
    }
}

vocabulary! {
    /// Where a case stands against its deadlines.
    SlaState {
        /// Every deadline due so far was met and none is near.
        Within => "within",
        /// A deadline is near: a quarter of its time or less is left.
        AtRisk => "at_risk",
        /// A deadline was missed.
        Breached => "breached",
        /// Waiting on the customer: the clocks stand still.
        Paused => "paused",
        /// Resolved with every deadline met.
        Met => "met",
    }
}

/// A line's promise for one channel and priority: how much business time
/// the first reply, each next reply (after the customer wrote again) and
/// the resolution may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Policy {
    pub first_response_ms: i64,
    pub next_response_ms: i64,
    pub resolution_ms: i64,
}

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;

impl Policy {
    /// The default promise (seeds 000, 002): a first reply within 5
    /// minutes on chat, messenger, social and app, within an hour on
    /// e-mail and every other channel; next replies as fast; resolution
    /// within a working day (8 business hours) — halved for urgent cases,
    /// and the replies of urgent and high cases within their channel's
    /// time.
    pub fn default_for(channel: CaseChannel, priority: Priority) -> Policy {
        let reply = match channel {
            CaseChannel::Chat | CaseChannel::Messenger | CaseChannel::Social | CaseChannel::App => {
                5 * MINUTE_MS
            }
            CaseChannel::Email
            | CaseChannel::Phone
            | CaseChannel::Terminal
            | CaseChannel::Survey
            | CaseChannel::Proactive => HOUR_MS,
        };
        let resolution = match priority {
            Priority::Urgent => 4 * HOUR_MS,
            Priority::High | Priority::Normal => 8 * HOUR_MS,
        };
        Policy {
            first_response_ms: reply,
            next_response_ms: reply,
            resolution_ms: resolution,
        }
    }
}

/// A line's promise for one channel (and, optionally, one priority),
/// as an administrator sets it, in minutes of business time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PolicyRule {
    pub channel: CaseChannel,
    /// `None`: every priority without a rule of its own.
    pub priority: Option<Priority>,
    pub first_response_minutes: u32,
    pub next_response_minutes: u32,
    pub resolution_minutes: u32,
}

/// The most minutes a promise may be (a year of business time).
pub const MAX_PROMISE_MINUTES: u32 = 366 * 24 * 60;

/// A line's SLA: when it works and what it promises. Stored as JSON per
/// line; a line nobody set up works all day, every day, on the default
/// promises.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct LineSla {
    /// Open intervals per weekday, Monday first, as minutes from local
    /// midnight `[start, end)`; an empty `week` is open all day, every day.
    #[serde(default)]
    pub week: Vec<Vec<(u16, u16)>>,
    /// Local dates closed all day.
    #[serde(default)]
    pub holidays: Vec<Date>,
    /// Promises that differ from the defaults.
    #[serde(default)]
    pub rules: Vec<PolicyRule>,
}

/// What is wrong with a line's SLA, for the person who wrote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineSlaError {
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error(
        "the week has {0} days; give seven (Monday first) or none for a line open all the time"
    )]
    Week(usize),
    #[error("{channel}: promises are 1 to {MAX_PROMISE_MINUTES} minutes")]
    Minutes { channel: CaseChannel },
    #[error("{channel}: two promises for the same channel and priority")]
    Twice { channel: CaseChannel },
    #[error("the calendar has no working hour at all: no deadline could ever fall")]
    NeverOpen,
}

impl LineSla {
    /// The line's calendar in `tz`.
    pub fn calendar(&self, tz: TimeZone) -> Result<Calendar, LineSlaError> {
        if self.week.is_empty() {
            return Ok(Calendar::new(
                tz,
                std::array::from_fn(|_| vec![(0, DAY_MINUTES)]),
                self.holidays.iter().copied(),
            )?);
        }
        let week: [Vec<(u16, u16)>; 7] = self
            .week
            .clone()
            .try_into()
            .map_err(|w: Vec<_>| LineSlaError::Week(w.len()))?;
        Ok(Calendar::new(tz, week, self.holidays.iter().copied())?)
    }

    /// The line's calendar in `tz`, or (for a stored one that no longer
    /// reads) open all the time, so that no deadline is lost.
    pub fn calendar_or_always(&self, tz: TimeZone) -> Calendar {
        self.calendar(tz.clone())
            .unwrap_or_else(|_| Calendar::always(tz))
    }

    /// The promise for a case on `channel` with `priority`: the rule for
    /// both, else the channel's rule, else the default.
    pub fn policy(&self, channel: CaseChannel, priority: Priority) -> Policy {
        let rule = self
            .rules
            .iter()
            .find(|r| r.channel == channel && r.priority == Some(priority))
            .or_else(|| {
                self.rules
                    .iter()
                    .find(|r| r.channel == channel && r.priority.is_none())
            });
        match rule {
            Some(r) => Policy {
                first_response_ms: i64::from(r.first_response_minutes) * MINUTE_MS,
                next_response_ms: i64::from(r.next_response_minutes) * MINUTE_MS,
                resolution_ms: i64::from(r.resolution_minutes) * MINUTE_MS,
            },
            None => Policy::default_for(channel, priority),
        }
    }

    /// Checks what an administrator wrote; intervals sorted, holidays
    /// sorted and unique.
    pub fn validated(mut self) -> Result<LineSla, LineSlaError> {
        for day in &mut self.week {
            day.sort_unstable();
        }
        self.holidays.sort_unstable();
        self.holidays.dedup();
        let calendar = self.calendar(TimeZone::UTC)?;
        if !self.week.is_empty() && self.week.iter().all(Vec::is_empty) {
            return Err(LineSlaError::NeverOpen);
        }
        drop(calendar);
        let mut seen = BTreeSet::new();
        for r in &self.rules {
            let minutes = [
                r.first_response_minutes,
                r.next_response_minutes,
                r.resolution_minutes,
            ];
            if minutes.iter().any(|m| *m == 0 || *m > MAX_PROMISE_MINUTES) {
                return Err(LineSlaError::Minutes { channel: r.channel });
            }
            if !seen.insert((r.channel, r.priority)) {
                return Err(LineSlaError::Twice { channel: r.channel });
            }
        }
        Ok(self)
    }
}

/// Reads a day's working hours as people write them: `09:00-13:00,
/// 14:00-18:00` (a dash or an en dash; `24:00` ends at midnight; blank: a
/// day off).
pub fn parse_hours(text: &str) -> Result<Vec<(u16, u16)>, String> {
    let minute = |t: &str| -> Result<u16, String> {
        let t = t.trim();
        let (h, m) = t.split_once(':').unwrap_or((t, "0"));
        match (h.trim().parse::<u16>(), m.trim().parse::<u16>()) {
            (Ok(h), Ok(m)) if m < 60 && (h < 24 || (h == 24 && m == 0)) => Ok(h * 60 + m),
            _ => Err(format!("{t:?} is not a time of day (write 09:00 or 24:00)")),
        }
    };
    let mut out = Vec::new();
    for part in text
        .split([',', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (a, b) = part
            .split_once(['-', '–', '—'])
            .ok_or_else(|| format!("{part:?} is not an interval (write 09:00-18:00)"))?;
        let (a, b) = (minute(a)?, minute(b)?);
        if a >= b {
            return Err(format!("{part:?} ends before it starts"));
        }
        out.push((a, b));
    }
    out.sort_unstable();
    Ok(out)
}

/// A day's working hours as [`parse_hours`] reads them.
pub fn format_hours(intervals: &[(u16, u16)]) -> String {
    intervals
        .iter()
        .map(|(a, b)| format!("{:02}:{:02}-{:02}:{:02}", a / 60, a % 60, b / 60, b % 60))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What happened on a case, as its SLA counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Happened {
    /// The customer wrote or called (an inbound contact).
    CustomerContact,
    /// A person replied to the customer (an outbound contact, a public
    /// reply); notes and automatic messages do not count.
    Reply,
    /// The case began waiting on the customer.
    Waiting,
    /// The case stopped waiting (the customer answered, or an operator
    /// took it up again).
    Resumed,
    Resolved,
    Reopened,
}

/// A case's deadlines and where it stands, at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub first_response_due_at: Option<i64>,
    /// The reply owed for the customer's latest contact, when one is owed.
    pub next_response_due_at: Option<i64>,
    pub resolution_due_at: Option<i64>,
    pub state: SlaState,
    /// Deadlines missed so far (first response, each next response,
    /// resolution), and those met.
    pub breaches: u32,
    pub met: u32,
    /// Whether the first reply came in time: `None` while it is still
    /// owed and not yet late.
    pub first_response_met: Option<bool>,
    /// Whether the resolution came in time: `None` while the case is
    /// open and not yet late.
    pub resolution_met: Option<bool>,
    /// The business time the first reply took.
    pub first_response_ms: Option<i64>,
    /// The next instant after `now` at which the standing changes by the
    /// clock alone (a deadline turns at risk or is missed); `None` when
    /// nothing pending can change without something happening.
    pub check_at: Option<i64>,
}

/// Whether a deadline due at `due` was met by `done`, as of `now`: `None`
/// while it is still owed and not yet late.
fn verdict(due: Option<i64>, done: Option<i64>, now: i64) -> Option<bool> {
    match (due, done) {
        (Some(due), Some(done)) => Some(done <= due),
        (Some(due), None) => (now > due).then_some(false),
        (None, Some(_)) => Some(true),
        (None, None) => None,
    }
}

/// Where a case opened at `opened_at`, with `timeline` (in time order, up
/// to `now`), stands against `policy` in `calendar`'s business hours at
/// `now`. The clocks stand still while the case waits on the customer and
/// between a resolution and a reopening.
pub fn standing(
    policy: &Policy,
    calendar: &Calendar,
    opened_at: i64,
    timeline: &[(i64, Happened)],
    now: i64,
) -> Standing {
    standing_from(policy, calendar, opened_at, Some(opened_at), timeline, now)
}

/// [`standing`] of a case whose customer first wrote at `asked_at` — the
/// opening, unless the company opened the case to tell them first (then
/// their first contact after it, `None` until they write): the first
/// response is owed from then.
pub fn standing_from(
    policy: &Policy,
    calendar: &Calendar,
    opened_at: i64,
    asked_at: Option<i64>,
    timeline: &[(i64, Happened)],
    now: i64,
) -> Standing {
    // The pauses: waiting on the customer, and resolved until reopened.
    let mut pauses: Vec<(i64, Option<i64>)> = Vec::new();
    let mut resolved_at: Option<i64> = None;
    for &(at, what) in timeline {
        match what {
            Happened::Waiting | Happened::Resolved => {
                if !pauses.last().is_some_and(|(_, to)| to.is_none()) {
                    pauses.push((at, None));
                }
                if what == Happened::Resolved {
                    resolved_at = Some(at);
                }
            }
            Happened::Resumed | Happened::Reopened | Happened::CustomerContact => {
                // A customer's contact ends a wait for the customer (not a
                // resolution: a contact after it is a repeat, reopened
                // explicitly).
                let ends = what != Happened::CustomerContact || resolved_at.is_none();
                if ends {
                    if let Some(last) = pauses.last_mut().filter(|(_, to)| to.is_none()) {
                        last.1 = Some(at.max(last.0));
                    }
                }
                if what == Happened::Reopened {
                    resolved_at = None;
                }
            }
            Happened::Reply => {}
        }
    }
    // A deadline met or missed at `done` is judged by the pauses before
    // it (the pause a resolution begins does not hold back the resolution
    // it ends); one still owed, by every pause.
    let clock = |from: i64, done: Option<i64>| Clock {
        started_at: from,
        pauses: pauses
            .iter()
            .copied()
            .filter(|(start, _)| done.is_none_or(|d| *start < d))
            .collect(),
    };
    let due =
        |from: i64, budget: i64, done: Option<i64>| clock(from, done).due_at(calendar, budget);
    let mut met = 0;
    let mut breaches = 0;
    let mut judge = |due: Option<i64>, done: Option<i64>| match (due, done) {
        (Some(due), Some(done)) if done <= due => met += 1,
        (Some(_), Some(_)) => breaches += 1,
        (Some(due), None) if now > due => breaches += 1,
        _ => {}
    };
    // First response: from `asked_at` to the first reply after it; none
    // is owed while the customer has not written.
    let first_reply = asked_at.and_then(|asked| {
        timeline
            .iter()
            .find(|(at, w)| *w == Happened::Reply && *at >= asked)
            .map(|(at, _)| *at)
    });
    let first_due = asked_at.and_then(|asked| due(asked, policy.first_response_ms, first_reply));
    judge(first_due, first_reply);
    // Next responses: from each customer contact after a reply (one owed
    // at a time: the earliest unanswered contact starts the clock).
    let mut owed_since: Option<i64> = None;
    let mut replied = false;
    for &(at, what) in timeline {
        match what {
            Happened::Reply => {
                if let Some(since) = owed_since.take() {
                    judge(due(since, policy.next_response_ms, Some(at)), Some(at));
                }
                replied = true;
            }
            Happened::CustomerContact if replied && owed_since.is_none() => {
                owed_since = Some(at);
            }
            _ => {}
        }
    }
    let next_due_now = owed_since.and_then(|since| due(since, policy.next_response_ms, None));
    judge(next_due_now, None);
    // Resolution: from the opening to the (last) resolution.
    let resolution_due = due(opened_at, policy.resolution_ms, resolved_at);
    judge(resolution_due, resolved_at);
    let state = if resolved_at.is_some() {
        if breaches == 0 {
            SlaState::Met
        } else {
            SlaState::Breached
        }
    } else if breaches > 0 {
        SlaState::Breached
    } else if clock(opened_at, None).paused() {
        SlaState::Paused
    } else {
        // At risk when a pending deadline has a quarter of its time left.
        let near = |due: Option<i64>, from: i64, budget: i64| {
            due.is_some_and(|_| {
                let spent = clock(from, None).spent_ms(calendar, now);
                budget - spent <= budget / 4
            })
        };
        let first_pending = first_reply.is_none()
            && asked_at.is_some_and(|asked| near(first_due, asked, policy.first_response_ms));
        let next_pending =
            owed_since.is_some_and(|since| near(next_due_now, since, policy.next_response_ms));
        let resolution_pending = near(resolution_due, opened_at, policy.resolution_ms);
        if first_pending || next_pending || resolution_pending {
            SlaState::AtRisk
        } else {
            SlaState::Within
        }
    };
    // When a pending deadline next turns at risk (a quarter left) or is
    // missed.
    let mut check_at: Option<i64> = None;
    let mut watch = |from: i64, budget: i64, due: Option<i64>| {
        let risk = clock(from, None).due_at(calendar, budget - budget / 4);
        for at in [risk, due].into_iter().flatten() {
            if at >= now {
                check_at = Some(check_at.map_or(at, |c| c.min(at)));
            }
        }
    };
    if resolved_at.is_none() {
        if let (None, Some(asked)) = (first_reply, asked_at) {
            watch(asked, policy.first_response_ms, first_due);
        }
        if let Some(since) = owed_since {
            watch(since, policy.next_response_ms, next_due_now);
        }
        watch(opened_at, policy.resolution_ms, resolution_due);
    }
    Standing {
        first_response_due_at: first_due,
        next_response_due_at: next_due_now,
        resolution_due_at: resolution_due,
        state,
        breaches,
        met,
        first_response_met: verdict(first_due, first_reply, now),
        resolution_met: verdict(resolution_due, resolved_at, now),
        first_response_ms: first_reply
            .zip(asked_at)
            .map(|(at, asked)| clock(asked, Some(at)).spent_ms(calendar, at)),
        check_at: check_at.map(|at| at + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    const MIN: i64 = 60_000;
    const HOUR: i64 = 60 * MIN;

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn at(tz_name: &str, text: &str) -> i64 {
        let dt: jiff::civil::DateTime = text.parse().unwrap();
        dt.to_zoned(tz(tz_name))
            .unwrap()
            .timestamp()
            .as_millisecond()
    }

    /// Weekdays 9:00–13:00 and 14:00–18:00, Saturday 10:00–14:00, Sunday
    /// off; New Year's Day and 8 March 2027 closed.
    fn office(tz_name: &str) -> Calendar {
        let day = vec![(9 * 60, 13 * 60), (14 * 60, 18 * 60)];
        Calendar::new(
            tz(tz_name),
            [
                day.clone(),
                day.clone(),
                day.clone(),
                day.clone(),
                day,
                vec![(10 * 60, 14 * 60)],
                Vec::new(),
            ],
            [Date::constant(2027, 1, 1), Date::constant(2027, 3, 8)],
        )
        .unwrap()
    }

    /// A calendar of random intervals and closed days.
    fn random_calendar(rng: &mut StdRng, tz_name: &str) -> Calendar {
        let week = std::array::from_fn(|_| {
            let mut minutes: Vec<u16> = (0..rng.gen_range(0..=3) * 2)
                .map(|_| rng.gen_range(0..=DAY_MINUTES))
                .collect();
            minutes.sort_unstable();
            minutes.dedup();
            minutes
                .chunks_exact(2)
                .map(|p| (p[0], p[1]))
                .collect::<Vec<_>>()
        });
        let closed: Vec<Date> = (0..rng.gen_range(0..6))
            .map(|_| {
                Date::constant(2026, 3, 1)
                    .checked_add(jiff::Span::new().days(rng.gen_range(0..300)))
                    .unwrap()
            })
            .collect();
        Calendar::new(tz(tz_name), week, closed).unwrap()
    }

    #[test]
    fn deadlines_count_only_open_hours() {
        let cal = office("Europe/Moscow");
        // Opened Friday 17:50: 10 minutes that day, then Saturday 10:00.
        let opened = at("Europe/Moscow", "2026-12-04T17:50");
        let clock = Clock::started(opened);
        assert_eq!(
            clock.due_at(&cal, 30 * MIN),
            Some(at("Europe/Moscow", "2026-12-05T10:20"))
        );
        // An hour from 12:30 crosses the lunch break.
        let clock = Clock::started(at("Europe/Moscow", "2026-12-07T12:30"));
        assert_eq!(
            clock.due_at(&cal, HOUR),
            Some(at("Europe/Moscow", "2026-12-07T14:30"))
        );
        // A budget that ends exactly at closing time is due at closing time,
        // not at the next opening.
        let clock = Clock::started(at("Europe/Moscow", "2026-12-07T17:00"));
        assert_eq!(
            clock.due_at(&cal, HOUR),
            Some(at("Europe/Moscow", "2026-12-07T18:00"))
        );
        // A reply at the boundary minute spent exactly the budget.
        assert_eq!(
            clock.spent_ms(&cal, at("Europe/Moscow", "2026-12-07T18:00")),
            HOUR
        );
        assert!(!cal.is_open(at("Europe/Moscow", "2026-12-07T18:00")));
        assert!(cal.is_open(at("Europe/Moscow", "2026-12-07T17:59")));
    }

    #[test]
    fn a_case_opened_on_a_holiday_evening_waits_for_the_next_working_day() {
        let cal = office("Europe/Moscow");
        // 31 December 2026 is a Thursday; 1 January is closed, the 2nd a
        // Saturday (10:00–14:00).
        let clock = Clock::started(at("Europe/Moscow", "2026-12-31T21:00"));
        assert_eq!(
            clock.due_at(&cal, 5 * MIN),
            Some(at("Europe/Moscow", "2027-01-02T10:05"))
        );
        // International Women's Day, a Monday, closed: Tuesday 9:00.
        let clock = Clock::started(at("Europe/Moscow", "2027-03-07T20:00"));
        assert_eq!(
            clock.due_at(&cal, HOUR),
            Some(at("Europe/Moscow", "2027-03-09T10:00"))
        );
    }

    #[test]
    fn a_pause_stops_the_clock_and_an_open_pause_has_no_deadline() {
        let cal = Calendar::always(tz("Europe/Kyiv"));
        let opened = at("Europe/Kyiv", "2026-12-07T10:00");
        let mut clock = Clock::started(opened);
        // Waiting on the customer from 10:02: no deadline while waiting.
        clock.pauses.push((opened + 2 * MIN, None));
        assert!(clock.paused());
        assert_eq!(clock.due_at(&cal, 5 * MIN), None);
        // A budget already spent before the pause stays due.
        assert_eq!(clock.due_at(&cal, MIN), Some(opened + MIN));
        // The customer answers at 11:00: three minutes left from then.
        clock.pauses[0].1 = Some(opened + HOUR);
        assert_eq!(clock.due_at(&cal, 5 * MIN), Some(opened + HOUR + 3 * MIN));
        assert_eq!(clock.spent_ms(&cal, opened + HOUR + 3 * MIN), 5 * MIN);
    }

    #[test]
    fn a_reopened_case_runs_on_from_what_it_had_spent() {
        // Reopening is a pause from the resolution to the reopening.
        let cal = office("Europe/Moscow");
        let opened = at("Europe/Moscow", "2026-12-07T09:00");
        let resolved = at("Europe/Moscow", "2026-12-07T11:00");
        let reopened = at("Europe/Moscow", "2026-12-08T16:00");
        let clock = Clock {
            started_at: opened,
            pauses: vec![(resolved, Some(reopened))],
        };
        // 2 h spent before, 2 h left: Tuesday 16:00 → 18:00.
        assert_eq!(
            clock.due_at(&cal, 4 * HOUR),
            Some(at("Europe/Moscow", "2026-12-08T18:00"))
        );
    }

    #[test]
    fn daylight_saving_changes_are_counted_in_real_time() {
        // Berlin's clocks jump from 02:00 to 03:00 on 28 March 2027 and back
        // from 03:00 to 02:00 on 31 October 2027 (Sundays).
        let week: [Vec<(u16, u16)>; 7] = std::array::from_fn(|_| vec![(60, 4 * 60)]);
        let cal = Calendar::new(tz("Europe/Berlin"), week, []).unwrap();
        let spring = Clock::started(at("Europe/Berlin", "2027-03-28T00:00"));
        // 01:00–04:00 local is two real hours that night…
        assert_eq!(
            spring.spent_ms(&cal, at("Europe/Berlin", "2027-03-28T06:00")),
            2 * HOUR
        );
        let autumn = Clock::started(at("Europe/Berlin", "2027-10-31T00:00"));
        // …and four in autumn.
        assert_eq!(
            autumn.spent_ms(&cal, at("Europe/Berlin", "2027-10-31T06:00")),
            4 * HOUR
        );
        // A deadline is never a time that did not exist: 90 minutes from
        // 01:00 in spring is 03:30 (02:00–03:00 was skipped).
        assert_eq!(
            spring.due_at(&cal, 90 * MIN),
            Some(at("Europe/Berlin", "2027-03-28T03:30"))
        );
    }

    #[test]
    fn a_calendar_changed_while_a_case_is_open_counts_from_the_new_hours() {
        // The clock keeps no copy of the calendar: the deadline follows
        // the hours in force when it is computed.
        let clock = Clock::started(at("Europe/Moscow", "2026-12-07T17:00"));
        let office = office("Europe/Moscow");
        let always = Calendar::always(tz("Europe/Moscow"));
        assert_eq!(
            clock.due_at(&office, 2 * HOUR),
            Some(at("Europe/Moscow", "2026-12-08T10:00"))
        );
        assert_eq!(
            clock.due_at(&always, 2 * HOUR),
            Some(at("Europe/Moscow", "2026-12-07T19:00"))
        );
    }

    #[test]
    fn bad_calendars_are_refused_with_the_day_named() {
        let mut week: [Vec<(u16, u16)>; 7] = std::array::from_fn(|_| Vec::new());
        week[2] = vec![(600, 540)];
        assert_eq!(
            Calendar::new(tz("UTC"), week.clone(), [])
                .unwrap_err()
                .to_string(),
            "Wednesday: 600–540 is not an interval of the day (minutes 0–1440, start before end)"
        );
        week[2] = vec![(540, 720), (700, 800)];
        assert!(matches!(
            Calendar::new(tz("UTC"), week, []),
            Err(CalendarError::Overlap {
                weekday: "Wednesday",
                ..
            })
        ));
    }

    /// On random calendars, starts, budgets and pauses: a deadline is open
    /// time (or its end), the business time spent by it is the budget, and
    /// pausing never loses or gains time.
    #[test]
    fn deadlines_hold_on_random_calendars() {
        let mut rng = StdRng::seed_from_u64(0x51A);
        let zones = [
            "Europe/Moscow",
            "Europe/Kyiv",
            "Asia/Tashkent",
            "America/New_York",
            "UTC",
        ];
        let base = at("UTC", "2026-03-01T00:00");
        for round in 0..300 {
            let zone = zones[round % zones.len()];
            let cal = random_calendar(&mut rng, zone);
            let start = base + rng.gen_range(0..250 * 24 * HOUR);
            let budget = rng.gen_range(1..40 * HOUR);
            let clock = Clock::started(start);
            let Some(due) = clock.due_at(&cal, budget) else {
                // Only a calendar with no open hours ahead has no deadline.
                assert!(
                    cal.open_from(start).map(|(a, b)| b - a).sum::<i64>() < budget,
                    "round {round}: no deadline for {budget} ms"
                );
                continue;
            };
            assert!(due >= start, "round {round}");
            assert_eq!(
                clock.spent_ms(&cal, due),
                budget,
                "round {round}: spent by the deadline"
            );
            // Inside an open interval, or at its end…
            assert!(
                cal.is_open(due - 1),
                "round {round}: {due} is not the end of open time"
            );
            // …and not before: a moment earlier, less was spent.
            assert!(clock.spent_ms(&cal, due - 1) < budget, "round {round}");
            // A pause of random length somewhere: the deadline moves by
            // exactly the open time inside the pause.
            let from = start + rng.gen_range(0..=(due - start).max(1));
            let to = from + rng.gen_range(1..48 * HOUR);
            let paused = Clock {
                started_at: start,
                pauses: vec![(from, Some(to))],
            };
            if let Some(later) = paused.due_at(&cal, budget) {
                assert!(
                    later >= due,
                    "round {round}: a pause never brings a deadline nearer"
                );
                assert_eq!(paused.spent_ms(&cal, later), budget, "round {round}");
                // Time spent = open time from the start less the open time
                // inside the pause.
                let open = Clock::started(start).spent_ms(&cal, later);
                let inside = Clock::started(from).spent_ms(&cal, to.min(later))
                    - Clock::started(from).spent_ms(&cal, from);
                assert_eq!(
                    open - inside.max(0),
                    budget,
                    "round {round}: pause lost or gained time"
                );
            }
        }
    }

    fn chat() -> Policy {
        Policy::default_for(CaseChannel::Chat, Priority::Normal)
    }

    #[test]
    fn a_case_opened_to_tell_first_owes_a_reply_only_once_the_customer_writes() {
        let cal = Calendar::always(tz("Europe/Moscow"));
        let t = at("Europe/Moscow", "2026-12-07T10:00");
        let quiet = standing_from(&chat(), &cal, t, None, &[], t + HOUR);
        assert_eq!(quiet.first_response_due_at, None);
        assert_eq!((quiet.state, quiet.breaches), (SlaState::Within, 0));
        assert_eq!(quiet.resolution_due_at, Some(t + 8 * HOUR));
        // The customer writes at 10:40: a reply is owed by 10:45.
        let asked = t + 40 * MIN;
        let timeline = [(asked, Happened::CustomerContact)];
        let s = standing_from(&chat(), &cal, t, Some(asked), &timeline, t + 41 * MIN);
        assert_eq!(s.first_response_due_at, Some(asked + 5 * MIN));
        let late = standing_from(&chat(), &cal, t, Some(asked), &timeline, t + 46 * MIN);
        assert_eq!(
            (late.state, late.first_response_met),
            (SlaState::Breached, Some(false))
        );
    }

    #[test]
    fn verdicts_and_the_next_check_follow_the_clock() {
        let cal = Calendar::always(tz("Europe/Moscow"));
        let t = at("Europe/Moscow", "2026-12-07T10:00");
        // Nothing yet: the first change by the clock alone is at risk at
        // 10:03:45 (a quarter of five minutes left).
        let s = standing(&chat(), &cal, t, &[], t + MIN);
        assert_eq!((s.first_response_met, s.resolution_met), (None, None));
        assert_eq!(s.check_at, Some(t + 3 * MIN + 45_000 + 1));
        // At risk: next, the breach just after 10:05.
        let s = standing(&chat(), &cal, t, &[], t + 4 * MIN);
        assert_eq!(s.check_at, Some(t + 5 * MIN + 1));
        let s = standing(&chat(), &cal, t, &[], t + 5 * MIN + 1);
        assert_eq!(s.first_response_met, Some(false));
        // Replied at 10:02 and resolved at 11:00: both met, nothing to
        // watch, two minutes of business time to the first reply.
        let timeline = [
            (t + 2 * MIN, Happened::Reply),
            (t + HOUR, Happened::Resolved),
        ];
        let s = standing(&chat(), &cal, t, &timeline, t + 2 * HOUR);
        assert_eq!(
            (s.first_response_met, s.resolution_met),
            (Some(true), Some(true))
        );
        assert_eq!((s.first_response_ms, s.check_at), (Some(2 * MIN), None));
        // Waiting on the customer: nothing changes by the clock.
        let timeline = [
            (t + 2 * MIN, Happened::Reply),
            (t + 3 * MIN, Happened::Waiting),
        ];
        let s = standing(&chat(), &cal, t, &timeline, t + 4 * MIN);
        assert_eq!((s.state, s.check_at), (SlaState::Paused, None));
    }

    #[test]
    fn a_line_sla_picks_the_most_specific_promise_and_checks_what_is_written() {
        let rule = |channel, priority, minutes| PolicyRule {
            channel,
            priority,
            first_response_minutes: minutes,
            next_response_minutes: minutes,
            resolution_minutes: 600,
        };
        let sla = LineSla {
            week: Vec::new(),
            holidays: Vec::new(),
            rules: vec![
                rule(CaseChannel::Email, None, 120),
                rule(CaseChannel::Email, Some(Priority::Urgent), 15),
            ],
        }
        .validated()
        .unwrap();
        assert_eq!(
            sla.policy(CaseChannel::Email, Priority::Normal)
                .first_response_ms,
            120 * MIN
        );
        assert_eq!(
            sla.policy(CaseChannel::Email, Priority::Urgent)
                .first_response_ms,
            15 * MIN
        );
        assert_eq!(
            sla.policy(CaseChannel::Chat, Priority::Normal),
            Policy::default_for(CaseChannel::Chat, Priority::Normal)
        );
        // An empty week is open all the time.
        let cal = sla.calendar(tz("Asia/Tashkent")).unwrap();
        assert!(cal.is_open(at("Asia/Tashkent", "2026-12-06T03:00")));
        // Stored as JSON and read back the same.
        let json = serde_json::to_string(&sla).unwrap();
        assert_eq!(serde_json::from_str::<LineSla>(&json).unwrap(), sla);
        // What an administrator may not write.
        let twice = LineSla {
            rules: vec![
                rule(CaseChannel::Chat, None, 5),
                rule(CaseChannel::Chat, None, 7),
            ],
            ..LineSla::default()
        };
        assert!(matches!(twice.validated(), Err(LineSlaError::Twice { .. })));
        let zero = LineSla {
            rules: vec![rule(CaseChannel::Chat, None, 0)],
            ..LineSla::default()
        };
        assert!(matches!(
            zero.validated(),
            Err(LineSlaError::Minutes { .. })
        ));
        let six_days = LineSla {
            week: vec![vec![(540, 1080)]; 6],
            ..LineSla::default()
        };
        assert_eq!(six_days.validated(), Err(LineSlaError::Week(6)));
        let closed = LineSla {
            week: vec![Vec::new(); 7],
            ..LineSla::default()
        };
        assert_eq!(closed.validated(), Err(LineSlaError::NeverOpen));
        let overlap = LineSla {
            week: vec![vec![(540, 800), (700, 900)]; 7],
            ..LineSla::default()
        };
        assert!(matches!(
            overlap.validated(),
            Err(LineSlaError::Calendar(_))
        ));
    }

    #[test]
    fn hours_are_read_as_people_write_them() {
        assert_eq!(
            parse_hours("09:00-13:00, 14:00–18:00"),
            Ok(vec![(540, 780), (840, 1080)])
        );
        assert_eq!(parse_hours("0-24"), Ok(vec![(0, DAY_MINUTES)]));
        assert_eq!(parse_hours("  "), Ok(Vec::new()));
        assert!(parse_hours("18:00-09:00")
            .unwrap_err()
            .contains("ends before"));
        assert!(parse_hours("9 to 5")
            .unwrap_err()
            .contains("not an interval"));
        assert!(parse_hours("09:00-25:00")
            .unwrap_err()
            .contains("not a time"));
        let hours = parse_hours("14:00-18:00, 09:00-13:00").unwrap();
        assert_eq!(format_hours(&hours), "09:00-13:00, 14:00-18:00");
        assert_eq!(parse_hours(&format_hours(&hours)), Ok(hours));
    }

    #[test]
    fn default_promises_follow_the_channel() {
        assert_eq!(chat().first_response_ms, 5 * MIN);
        assert_eq!(
            Policy::default_for(CaseChannel::Email, Priority::Normal).first_response_ms,
            HOUR
        );
        assert_eq!(
            Policy::default_for(CaseChannel::App, Priority::Urgent).resolution_ms,
            4 * HOUR
        );
    }

    #[test]
    fn a_chat_case_is_within_then_at_risk_then_breached() {
        let cal = Calendar::always(tz("Europe/Moscow"));
        let t = at("Europe/Moscow", "2026-12-07T10:00");
        let mut timeline = vec![(t + 3 * MIN, Happened::Reply)];
        let s = standing(&chat(), &cal, t, &timeline, t + 4 * MIN);
        assert_eq!(s.first_response_due_at, Some(t + 5 * MIN));
        assert_eq!(s.next_response_due_at, None);
        assert_eq!(s.resolution_due_at, Some(t + 8 * HOUR));
        assert_eq!((s.state, s.met, s.breaches), (SlaState::Within, 1, 0));
        // The customer writes again at 10:10: a reply is owed by 10:15.
        timeline.push((t + 10 * MIN, Happened::CustomerContact));
        let s = standing(&chat(), &cal, t, &timeline, t + 12 * MIN);
        assert_eq!(s.next_response_due_at, Some(t + 15 * MIN));
        assert_eq!(s.state, SlaState::Within);
        // A minute left of five: at risk.
        let s = standing(&chat(), &cal, t, &timeline, t + 14 * MIN);
        assert_eq!(s.state, SlaState::AtRisk);
        // Past it: breached, and it stays breached after the late reply.
        let s = standing(&chat(), &cal, t, &timeline, t + 16 * MIN);
        assert_eq!((s.state, s.breaches), (SlaState::Breached, 1));
        timeline.push((t + 20 * MIN, Happened::Reply));
        let s = standing(&chat(), &cal, t, &timeline, t + 21 * MIN);
        assert_eq!(
            (s.state, s.next_response_due_at),
            (SlaState::Breached, None)
        );
        // Resolved in time, but a reply was late: the case did not meet
        // its promise.
        timeline.push((t + HOUR, Happened::Resolved));
        let s = standing(&chat(), &cal, t, &timeline, t + 2 * HOUR);
        assert_eq!((s.state, s.met, s.breaches), (SlaState::Breached, 2, 1));
    }

    #[test]
    fn waiting_on_the_customer_stops_every_clock() {
        let cal = Calendar::always(tz("Europe/Moscow"));
        let t = at("Europe/Moscow", "2026-12-07T10:00");
        let mut timeline = vec![(t + MIN, Happened::Reply), (t + 2 * MIN, Happened::Waiting)];
        // Three days later the resolution (8 h) is not breached: paused.
        let s = standing(&chat(), &cal, t, &timeline, t + 72 * HOUR);
        assert_eq!(s.state, SlaState::Paused);
        assert_eq!(s.resolution_due_at, None);
        // The customer answers after three days: the clocks run again, and
        // a reply is owed within five minutes of the answer.
        let back = t + 72 * HOUR;
        timeline.push((back, Happened::CustomerContact));
        let s = standing(&chat(), &cal, t, &timeline, back + MIN);
        assert_eq!(s.state, SlaState::Within);
        assert_eq!(s.next_response_due_at, Some(back + 5 * MIN));
        assert_eq!(s.resolution_due_at, Some(back + 8 * HOUR - 2 * MIN));
        timeline.push((back + 30 * MIN, Happened::Resolved));
        let s = standing(&chat(), &cal, t, &timeline, back + HOUR);
        assert_eq!(
            (s.state, s.breaches),
            (SlaState::Breached, 1),
            "the reply was late"
        );
    }

    #[test]
    fn an_email_on_friday_evening_is_due_on_saturday_morning() {
        let cal = office("Europe/Moscow");
        let policy = Policy::default_for(CaseChannel::Email, Priority::Normal);
        // Friday 17:30: half an hour that day, half an hour on Saturday
        // (10:00–14:00) — due Saturday 10:30.
        let opened = at("Europe/Moscow", "2026-12-04T17:30");
        let s = standing(
            &policy,
            &cal,
            opened,
            &[],
            at("Europe/Moscow", "2026-12-04T23:00"),
        );
        assert_eq!(
            s.first_response_due_at,
            Some(at("Europe/Moscow", "2026-12-05T10:30"))
        );
        assert_eq!(s.state, SlaState::Within, "no time runs at night");
        // A reply at the due minute is in time; resolved on Monday within
        // its 8 business hours (0.5 Fri + 4 Sat + 3.5 Mon → Monday 12:30).
        let timeline = [
            (at("Europe/Moscow", "2026-12-05T10:30"), Happened::Reply),
            (at("Europe/Moscow", "2026-12-07T12:00"), Happened::Resolved),
        ];
        let s = standing(
            &policy,
            &cal,
            opened,
            &timeline,
            at("Europe/Moscow", "2026-12-08T09:00"),
        );
        assert_eq!(
            s.resolution_due_at,
            Some(at("Europe/Moscow", "2026-12-07T12:30"))
        );
        assert_eq!((s.state, s.met, s.breaches), (SlaState::Met, 2, 0));
    }

    #[test]
    fn a_reopened_case_is_due_from_the_time_it_had_left() {
        let cal = office("Europe/Moscow");
        let policy = Policy::default_for(CaseChannel::Phone, Priority::Normal);
        let opened = at("Europe/Moscow", "2026-12-07T09:00");
        let mut timeline = vec![
            (at("Europe/Moscow", "2026-12-07T09:10"), Happened::Reply),
            (at("Europe/Moscow", "2026-12-07T11:00"), Happened::Resolved),
        ];
        let s = standing(
            &policy,
            &cal,
            opened,
            &timeline,
            at("Europe/Moscow", "2026-12-08T12:00"),
        );
        assert_eq!(s.state, SlaState::Met);
        // Reopened on Tuesday at 16:00 with 6 of its 8 hours left: due
        // Wednesday 13:00 (16–18 on Tuesday, 9–13 on Wednesday).
        timeline.push((at("Europe/Moscow", "2026-12-08T16:00"), Happened::Reopened));
        let s = standing(
            &policy,
            &cal,
            opened,
            &timeline,
            at("Europe/Moscow", "2026-12-08T16:05"),
        );
        assert_eq!(s.state, SlaState::Within);
        assert_eq!(
            s.resolution_due_at,
            Some(at("Europe/Moscow", "2026-12-09T13:00"))
        );
        // Wednesday 12:00: one hour of eight left — at risk.
        let s = standing(
            &policy,
            &cal,
            opened,
            &timeline,
            at("Europe/Moscow", "2026-12-09T12:00"),
        );
        assert_eq!(s.state, SlaState::AtRisk);
    }

    #[test]
    fn a_deadline_does_not_depend_on_the_zone_it_is_read_in() {
        // The same instants whatever the server's zone: a calendar in
        // Tashkent read back as Moscow or UTC wall time is the same instant.
        let cal = office("Asia/Tashkent");
        let clock = Clock::started(at("Asia/Tashkent", "2026-12-07T17:30"));
        let due = clock.due_at(&cal, HOUR).unwrap();
        assert_eq!(due, at("Asia/Tashkent", "2026-12-08T09:30"));
        assert_eq!(due, at("Europe/Moscow", "2026-12-08T07:30"));
        assert_eq!(due, at("UTC", "2026-12-08T04:30"));
    }
}
