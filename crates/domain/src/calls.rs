//! The contact center's calls, as PBXs write them: Asterisk's `queue_log`
//! (one line per event of a call in a queue) and its CDR (`Master.csv`,
//! one row per call), both turned into the same events, and a call's
//! events folded into what the figures count (METRICS.md, "Contact
//! center"). No I/O: the importer and the API hand records in.

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// The events of a call in a queue that Doorstep reads (Asterisk's names);
/// every other `queue_log` event (agents logging in, queue starts, …) is
/// passed over.
pub const EVENTS: [&str; 11] = [
    "ENTERQUEUE",
    "CONNECT",
    "COMPLETEAGENT",
    "COMPLETECALLER",
    "ABANDON",
    "EXITWITHTIMEOUT",
    "EXITEMPTY",
    "EXITWITHKEY",
    "TRANSFER",
    "RINGNOANSWER",
    // The contact reason (wrap-up code) the agent chose, its first data
    // field: PBXs that have wrap-up codes log it as a custom event
    // (`QueueLog(queue,${UNIQUEID},agent,WRAPUP,code)`), the API and the
    // console send it the same way.
    "WRAPUP",
];

/// One event of a call, as stored: the PBX's call id, the event's name,
/// its instant, queue and agent (`""` where the PBX wrote none), and its
/// data fields as the PBX wrote them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEvent {
    pub call_id: String,
    pub event: String,
    /// Milliseconds since the epoch.
    pub at: i64,
    pub queue: String,
    pub agent: String,
    pub data: Vec<String>,
}

/// Why a line of a call file was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LineProblem(pub String);

fn problem(text: impl Into<String>) -> LineProblem {
    LineProblem(text.into())
}

/// `NONE` and blanks: no queue, no agent.
fn field(value: &str) -> String {
    let v = value.trim();
    if v.eq_ignore_ascii_case("NONE") {
        String::new()
    } else {
        v.to_owned()
    }
}

/// Reads one `queue_log` line's fields (`time|callid|queue|agent|event|
/// data…`): the event, `None` for an event Doorstep does not read, or
/// what is wrong.
pub fn queue_log_event(fields: &[&str]) -> Result<Option<CallEvent>, LineProblem> {
    if fields.len() < 5 {
        return Err(problem(format!(
            "{} fields; a queue_log line has at least 5: time|callid|queue|agent|event",
            fields.len()
        )));
    }
    let seconds: f64 = fields[0].trim().parse().map_err(|_| {
        problem(format!(
            "time {:?} is not a Unix time in seconds",
            fields[0].trim()
        ))
    })?;
    if !(0.0..1e11).contains(&seconds) {
        return Err(problem(format!("time {seconds} is out of range")));
    }
    let event = fields[4].trim().to_ascii_uppercase();
    if !EVENTS.contains(&event.as_str()) {
        return Ok(None);
    }
    let call_id = fields[1].trim();
    if call_id.is_empty() || call_id.eq_ignore_ascii_case("NONE") {
        return Err(problem(format!("{event} without a call id")));
    }
    let data: Vec<String> = fields[5..].iter().map(|d| d.trim().to_owned()).collect();
    let e = CallEvent {
        call_id: call_id.to_owned(),
        event,
        at: (seconds * 1000.0).round() as i64,
        queue: field(fields[2]),
        agent: field(fields[3]),
        data,
    };
    check_numbers(&e)?;
    Ok(Some(e))
}

/// The positions of an event's data fields that hold seconds.
fn second_fields(event: &str) -> &'static [usize] {
    match event {
        "CONNECT" | "RINGNOANSWER" => &[0],
        "COMPLETEAGENT" | "COMPLETECALLER" => &[0, 1],
        "ABANDON" | "EXITWITHTIMEOUT" | "EXITEMPTY" => &[2],
        "EXITWITHKEY" => &[3],
        "TRANSFER" => &[2, 3],
        _ => &[],
    }
}

/// Whole seconds in a data field (RINGNOANSWER's is in milliseconds).
fn number(e: &CallEvent, i: usize) -> Option<i64> {
    e.data.get(i).and_then(|v| v.trim().parse::<i64>().ok())
}

/// The data fields an event needs are numbers where they must be.
fn check_numbers(e: &CallEvent) -> Result<(), LineProblem> {
    for &i in second_fields(&e.event) {
        match e.data.get(i).map(|v| v.trim()) {
            None | Some("") => {
                return Err(problem(format!(
                    "{} needs data field {} (a number of seconds); the line has {}",
                    e.event,
                    i + 1,
                    e.data.len()
                )))
            }
            Some(v) if v.parse::<i64>().map_or(true, |n| n < 0) => {
                return Err(problem(format!(
                    "{}'s data field {} is {v:?}, not a number of seconds",
                    e.event,
                    i + 1
                )))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// How many fields an Asterisk CDR row has (`Master.csv`: accountcode,
/// src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata,
/// start, answer, end, duration, billsec, disposition, amaflags, and on
/// newer versions uniqueid and userfield).
pub const CDR_MIN_FIELDS: usize = 16;

/// Reads a CDR row as the events of its call: it entered the queue at
/// `start`; answered, it connected at `answer` and the caller's side ended
/// it at `end`; otherwise the caller gave up at `end`. Its times are local
/// to `tz` (what Asterisk writes). The queue is the `Queue()` application's
/// first argument (else the destination); the agent, the answering
/// channel without its call suffix (`SIP/101-00000a3f` → `SIP/101`). A row
/// without a `uniqueid` is known by its channel and start.
pub fn cdr_events(fields: &[&str], tz: &TimeZone) -> Result<Vec<CallEvent>, LineProblem> {
    if fields.len() < CDR_MIN_FIELDS {
        return Err(problem(format!(
            "{} fields; an Asterisk CDR row has at least {CDR_MIN_FIELDS}",
            fields.len()
        )));
    }
    let f = |i: usize| fields.get(i).map_or("", |v| v.trim());
    let time = |i: usize, what: &str| -> Result<Option<i64>, LineProblem> {
        let v = f(i);
        if v.is_empty() {
            return Ok(None);
        }
        let local: jiff::civil::DateTime = v.parse().map_err(|_| {
            problem(format!(
                "{what} {v:?} is not a date and time like 2026-11-02 10:00:00"
            ))
        })?;
        let at = local
            .to_zoned(tz.clone())
            .map_err(|e| problem(format!("{what} {v:?}: {e}")))?;
        Ok(Some(at.timestamp().as_millisecond()))
    };
    let start = time(9, "start")?.ok_or_else(|| problem("no start time"))?;
    let answer = time(10, "answer")?;
    let end = time(11, "end")?.unwrap_or(start);
    let seconds = |i: usize, what: &str| -> Result<i64, LineProblem> {
        f(i).parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| problem(format!("{what} {:?} is not a number of seconds", f(i))))
    };
    let duration = seconds(12, "duration")?;
    let billsec = seconds(13, "billsec")?;
    let disposition = f(14).to_ascii_uppercase();
    let queue = if f(7).eq_ignore_ascii_case("Queue") {
        f(8).split([',', '|'])
            .next()
            .unwrap_or("")
            .trim()
            .to_owned()
    } else {
        f(2).to_owned()
    };
    let agent = match f(6).rsplit_once('-') {
        Some((channel, _)) if !channel.is_empty() => channel.to_owned(),
        _ => f(6).to_owned(),
    };
    let call_id = match f(16) {
        "" => format!("{}@{}", f(5), f(9)),
        id => id.to_owned(),
    };
    let caller = match f(1) {
        "" => f(4).to_owned(),
        src => src.to_owned(),
    };
    let event = |name: &str, at: i64, agent: &str, data: Vec<String>| CallEvent {
        call_id: call_id.clone(),
        event: name.to_owned(),
        at,
        queue: queue.clone(),
        agent: agent.to_owned(),
        data,
    };
    let mut out = vec![event("ENTERQUEUE", start, "", vec![String::new(), caller])];
    match (disposition.as_str(), answer) {
        ("ANSWERED", Some(answered)) => {
            let hold = ((answered - start) / 1000).max(0);
            out.push(event("CONNECT", answered, &agent, vec![hold.to_string()]));
            out.push(event(
                "COMPLETECALLER",
                end.max(answered),
                &agent,
                vec![hold.to_string(), billsec.to_string(), "1".to_owned()],
            ));
        }
        ("ANSWERED" | "NO ANSWER" | "BUSY" | "FAILED" | "CONGESTION", _) => {
            out.push(event(
                "ABANDON",
                end,
                "",
                vec!["1".to_owned(), "1".to_owned(), duration.to_string()],
            ));
        }
        (other, _) => {
            return Err(problem(format!(
                "disposition {other:?}; expected ANSWERED, NO ANSWER, BUSY or FAILED"
            )))
        }
    }
    Ok(out)
}

/// How a call ended, or that it has not yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// In the queue now.
    Waiting,
    /// Answered, still talking.
    Talking,
    /// Answered and ended (by either side, or transferred on).
    Answered,
    /// The caller hung up while waiting.
    Abandoned,
    /// Left the queue unanswered by its rules: timed out, no agents,
    /// pressed a key to leave.
    Unanswered,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Waiting => "waiting",
            Outcome::Talking => "talking",
            Outcome::Answered => "answered",
            Outcome::Abandoned => "abandoned",
            Outcome::Unanswered => "unanswered",
        }
    }
}

/// A call as its events tell it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub id: String,
    pub queue: String,
    /// The caller's number as the PBX wrote it.
    pub caller: Option<String>,
    /// When it reached the queue (the first event seen, until its
    /// ENTERQUEUE arrives — a rotated log may bring it later).
    pub entered_at: i64,
    pub answered_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// The agent who answered.
    pub agent: Option<String>,
    /// Seconds waited: until answered, or until it left unanswered.
    pub wait_seconds: Option<i64>,
    /// Seconds talked, once it ended.
    pub talk_seconds: Option<i64>,
    pub outcome: Outcome,
    /// Whether its ENTERQUEUE was seen: a call known only from a later
    /// event is completed when the rest of it arrives.
    pub entered: bool,
    /// The contact reason (wrap-up code) last given for it.
    pub reason: Option<String>,
}

/// Folds a call's events (in any order) into the call; `None` without any.
pub fn fold(events: &[CallEvent]) -> Option<Call> {
    let mut sorted: Vec<&CallEvent> = events.iter().collect();
    sorted.sort_by_key(|e| (e.at, rank(&e.event)));
    let first = sorted.first()?;
    let mut call = Call {
        id: first.call_id.clone(),
        queue: first.queue.clone(),
        caller: None,
        entered_at: first.at,
        answered_at: None,
        ended_at: None,
        agent: None,
        wait_seconds: None,
        talk_seconds: None,
        outcome: Outcome::Waiting,
        entered: false,
        reason: None,
    };
    for e in sorted {
        if call.queue.is_empty() {
            call.queue.clone_from(&e.queue);
        }
        let n = |i: usize| number(e, i);
        match e.event.as_str() {
            "ENTERQUEUE" => {
                call.entered = true;
                call.entered_at = e.at;
                call.queue.clone_from(&e.queue);
                call.caller = e
                    .data
                    .get(1)
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty());
            }
            "CONNECT" => {
                call.answered_at = Some(e.at);
                call.agent = Some(e.agent.clone()).filter(|a| !a.is_empty());
                call.wait_seconds = n(0);
                call.outcome = Outcome::Talking;
            }
            "COMPLETEAGENT" | "COMPLETECALLER" => {
                call.ended_at = Some(e.at);
                call.wait_seconds = call.wait_seconds.or(n(0));
                call.talk_seconds = n(1);
                call.outcome = Outcome::Answered;
            }
            "TRANSFER" => {
                call.ended_at = Some(e.at);
                call.wait_seconds = call.wait_seconds.or(n(2));
                call.talk_seconds = n(3);
                call.outcome = Outcome::Answered;
            }
            "ABANDON" => {
                call.ended_at = Some(e.at);
                call.wait_seconds = n(2);
                call.outcome = Outcome::Abandoned;
            }
            "EXITWITHTIMEOUT" | "EXITEMPTY" => {
                call.ended_at = Some(e.at);
                call.wait_seconds = n(2);
                call.outcome = Outcome::Unanswered;
            }
            "EXITWITHKEY" => {
                call.ended_at = Some(e.at);
                call.wait_seconds = n(3);
                call.outcome = Outcome::Unanswered;
            }
            "WRAPUP" => {
                call.reason = e
                    .data
                    .first()
                    .map(|r| r.trim().to_owned())
                    .filter(|r| !r.is_empty());
            }
            _ => {}
        }
    }
    Some(call)
}

/// The queue_log events that say an agent came on duty in a queue
/// (`true`) or left it (`false`): dynamic members added and removed,
/// agents logging in and off, pauses.
pub const PRESENCE_EVENTS: [(&str, bool); 6] = [
    ("ADDMEMBER", true),
    ("AGENTLOGIN", true),
    ("UNPAUSE", true),
    ("REMOVEMEMBER", false),
    ("AGENTLOGOFF", false),
    ("PAUSE", false),
];

/// An agent coming on duty in a queue, or leaving it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    pub agent: String,
    pub queue: String,
    /// Milliseconds since the epoch.
    pub at: i64,
    pub on: bool,
}

/// A queue_log line's presence event, if it is one with an agent and a
/// queue (a pause of every queue at once names none: passed over).
pub fn queue_log_presence(fields: &[&str]) -> Option<Presence> {
    if fields.len() < 5 {
        return None;
    }
    let event = fields[4].trim().to_ascii_uppercase();
    let on = PRESENCE_EVENTS.iter().find(|(e, _)| *e == event)?.1;
    let seconds: f64 = fields[0].trim().parse().ok()?;
    let (queue, agent) = (field(fields[2]), field(fields[3]));
    if queue.is_empty() || agent.is_empty() || !(0.0..1e11).contains(&seconds) {
        return None;
    }
    Some(Presence {
        agent,
        queue,
        at: (seconds * 1000.0).round() as i64,
        on,
    })
}

/// Who was on duty at some moment of `[from, to)`: (queue, agent), from
/// presence events in time order (those before `from` tell who was on
/// duty when it began).
pub fn on_duty(
    events: &[Presence],
    from: i64,
    to: i64,
) -> std::collections::BTreeSet<(String, String)> {
    let mut since: std::collections::BTreeMap<(&str, &str), i64> =
        std::collections::BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    for e in events.iter().filter(|e| e.at < to) {
        let key = (e.queue.as_str(), e.agent.as_str());
        if e.on {
            since.entry(key).or_insert(e.at);
        } else if let Some(start) = since.remove(&key) {
            // On duty over [start, e.at): was it in the interval?
            if e.at > from && start < to {
                seen.insert((e.queue.clone(), e.agent.clone()));
            }
        }
    }
    for (queue, agent) in since.keys() {
        seen.insert(((*queue).to_owned(), (*agent).to_owned()));
    }
    seen
}

/// Events at the same second in the order they happen.
fn rank(event: &str) -> u8 {
    match event {
        "ENTERQUEUE" => 0,
        "RINGNOANSWER" => 1,
        "CONNECT" => 2,
        _ => 3,
    }
}

/// Erlang C: the probability that a call waits, with `agents` agents and
/// `traffic` Erlangs offered (arrivals × AHT over the interval). 1 when the
/// agents cannot keep up (`agents <= traffic`). Computed through Erlang B's
/// recursion, which stays stable for hundreds of agents.
pub fn erlang_c(agents: u32, traffic: f64) -> f64 {
    let n = f64::from(agents);
    if traffic <= 0.0 {
        return 0.0;
    }
    if n <= traffic {
        return 1.0;
    }
    let mut b = 1.0;
    for k in 1..=agents {
        b = traffic * b / (f64::from(k) + traffic * b);
    }
    n * b / (n - traffic * (1.0 - b))
}

/// The share of calls answered within `target_seconds` with `agents`
/// agents (METRICS.md, "Agents needed"): `1 − P_w · e^(−(N − A) · Y / AHT)`.
pub fn service_level_with(agents: u32, traffic: f64, target_seconds: f64, aht_seconds: f64) -> f64 {
    let n = f64::from(agents);
    if traffic <= 0.0 {
        return 1.0;
    }
    if n <= traffic || aht_seconds <= 0.0 {
        return 0.0;
    }
    1.0 - erlang_c(agents, traffic) * (-(n - traffic) * target_seconds / aht_seconds).exp()
}

/// The agents an interval needs to answer `share` (0–1) of its calls
/// within `target_seconds`, at `calls` arrivals over `interval_seconds`
/// with an average handle time of `aht_seconds`: the smallest N above the
/// traffic that reaches it. 0 without calls.
pub fn agents_needed(
    calls: f64,
    interval_seconds: f64,
    aht_seconds: f64,
    share: f64,
    target_seconds: f64,
) -> u32 {
    let traffic = calls * aht_seconds / interval_seconds;
    if traffic <= 0.0 {
        return 0;
    }
    let mut n = traffic.floor() as u32 + 1;
    while service_level_with(n, traffic, target_seconds, aht_seconds) < share && n < 100_000 {
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the published tables: A = 2 Erlangs on 3 agents waits 44.4%
    /// of the time; the classic worked example — 100 calls in half an hour,
    /// AHT 3 minutes (A = 10), 80/20 — needs 14 agents, reaching 88.4%
    /// (13 reach only 79.6%).
    #[test]
    fn erlang_c_matches_the_published_tables() {
        assert!((erlang_c(3, 2.0) - 0.4444).abs() < 5e-5);
        assert!((erlang_c(12, 10.0) - 0.4494).abs() < 5e-5);
        assert!((erlang_c(14, 10.0) - 0.1741).abs() < 5e-5);
        assert!((service_level_with(13, 10.0, 20.0, 180.0) - 0.7956).abs() < 5e-5);
        assert!((service_level_with(14, 10.0, 20.0, 180.0) - 0.8884).abs() < 5e-5);
        assert_eq!(agents_needed(100.0, 1800.0, 180.0, 0.8, 20.0), 14);
        assert_eq!(agents_needed(0.0, 1800.0, 180.0, 0.8, 20.0), 0);
        assert!(
            (erlang_c(5, 7.0) - 1.0).abs() < f64::EPSILON,
            "too few agents: everyone waits"
        );
        // A large centre stays finite and sensible.
        let big = agents_needed(3000.0, 1800.0, 240.0, 0.8, 20.0);
        assert!((400..430).contains(&big), "{big}");
    }

    fn line(text: &str) -> Result<Option<CallEvent>, LineProblem> {
        let fields: Vec<&str> = text.split('|').collect();
        queue_log_event(&fields)
    }

    #[test]
    fn queue_log_lines_are_read_and_the_other_events_passed_over() {
        let e = line("1793592000|1793592000.17|support|NONE|ENTERQUEUE||+79161234567|1")
            .unwrap()
            .unwrap();
        assert_eq!(
            (e.call_id.as_str(), e.queue.as_str(), e.agent.as_str(), e.at),
            ("1793592000.17", "support", "", 1_793_592_000_000)
        );
        assert_eq!(line("1793592000|NONE|NONE|NONE|QUEUESTART|").unwrap(), None);
        assert_eq!(
            line("1793592000|1793592000.17|support|SIP/101|AGENTLOGIN|").unwrap(),
            None
        );
        assert!(line("yesterday|1.1|support|NONE|ENTERQUEUE||x|1")
            .unwrap_err()
            .0
            .contains("Unix time"));
        assert!(line("1793592000|1.1|support|SIP/101|CONNECT")
            .unwrap_err()
            .0
            .contains("needs data field 1"));
        assert!(line("1793592000|1.1|support|SIP/101|CONNECT|soon|x|3")
            .unwrap_err()
            .0
            .contains("not a number"));
        assert!(line("1793592000|1.1|support")
            .unwrap_err()
            .0
            .contains("3 fields"));
    }

    fn events(lines: &[&str]) -> Vec<CallEvent> {
        lines.iter().filter_map(|l| line(l).unwrap()).collect()
    }

    #[test]
    fn agents_are_on_duty_between_their_login_and_their_logoff() {
        let p = |line: &str| queue_log_presence(&line.split('|').collect::<Vec<_>>());
        let events: Vec<Presence> = [
            "1000|NONE|support|SIP/101|ADDMEMBER|",
            "1000|NONE|support|SIP/102|AGENTLOGIN|SIP/102",
            "4000|NONE|support|SIP/101|PAUSE|lunch",
            "5000|NONE|support|SIP/101|UNPAUSE|",
            "7000|NONE|support|SIP/102|AGENTLOGOFF|SIP/102|6000",
        ]
        .iter()
        .filter_map(|l| p(l))
        .collect();
        assert_eq!(events.len(), 5);
        let at = |s: i64| s * 1000;
        let names = |from: i64, to: i64| -> Vec<String> {
            on_duty(&events, at(from), at(to))
                .into_iter()
                .map(|(_, a)| a)
                .collect()
        };
        assert_eq!(names(2000, 3000), ["SIP/101", "SIP/102"]);
        // Paused through [4000, 5000): only SIP/102 is there.
        assert_eq!(names(4100, 4900), ["SIP/102"]);
        // Back after the pause; SIP/102 gone after 7000.
        assert_eq!(names(7100, 9000), ["SIP/101"]);
        assert_eq!(names(0, 500), Vec::<String>::new());
        // Not presence: a call's event, a pause of every queue.
        assert_eq!(p("1000|7.1|support|SIP/101|CONNECT|3|x|1"), None);
        assert_eq!(p("1000|NONE|NONE|SIP/101|PAUSEALL|"), None);
    }

    #[test]
    fn the_last_wrap_up_code_is_the_calls_reason() {
        let call = fold(&events(&[
            "1793592000|7.1|support|NONE|ENTERQUEUE||+79161234567|1",
            "1793592010|7.1|support|SIP/101|CONNECT|10|7.2|2",
            "1793592100|7.1|support|SIP/101|COMPLETECALLER|10|90|1",
            "1793592110|7.1|support|SIP/101|WRAPUP|where_is_order",
            "1793592120|7.1|support|anna|WRAPUP|address_change",
        ]))
        .unwrap();
        assert_eq!(call.reason.as_deref(), Some("address_change"));
        assert_eq!(
            call.outcome,
            Outcome::Answered,
            "a wrap-up changes nothing else"
        );
        assert_eq!(call.talk_seconds, Some(90));
        let none = fold(&events(&["1793592000|7.2|support|NONE|ENTERQUEUE||x|1"])).unwrap();
        assert_eq!(none.reason, None);
    }

    #[test]
    fn a_calls_events_fold_into_what_it_came_to() {
        let answered = fold(&events(&[
            "1107|c1|support|SIP/101|COMPLETECALLER|12|95|1",
            "1012|c1|support|SIP/101|CONNECT|12|c1.2|3",
            "1000|c1|support|NONE|ENTERQUEUE||+79161234567|1",
            "1000|c1|support|SIP/102|RINGNOANSWER|4000",
        ]))
        .unwrap();
        assert_eq!(answered.outcome, Outcome::Answered);
        assert_eq!(answered.caller.as_deref(), Some("+79161234567"));
        assert_eq!(answered.agent.as_deref(), Some("SIP/101"));
        assert_eq!(
            (answered.wait_seconds, answered.talk_seconds),
            (Some(12), Some(95))
        );
        assert_eq!(answered.entered_at, 1_000_000);
        assert!(answered.entered);

        let abandoned = fold(&events(&[
            "2000|c2|support|NONE|ENTERQUEUE||+79160000000|1",
            "2004|c2|support|NONE|ABANDON|1|1|4",
        ]))
        .unwrap();
        assert_eq!(
            (abandoned.outcome, abandoned.wait_seconds),
            (Outcome::Abandoned, Some(4))
        );
        let left = fold(&events(&["3000|c3|support|NONE|EXITWITHKEY|5|1|1|30"])).unwrap();
        assert_eq!(
            (left.outcome, left.wait_seconds),
            (Outcome::Unanswered, Some(30))
        );
        assert!(!left.entered, "its ENTERQUEUE is in another file");
        let waiting = fold(&events(&["4000|c4|couriers|NONE|ENTERQUEUE||101|1"])).unwrap();
        assert_eq!(waiting.outcome, Outcome::Waiting);
        assert_eq!(fold(&[]), None);
    }

    #[test]
    fn a_cdr_row_is_its_calls_events_in_local_time() {
        let tz = TimeZone::get("Europe/Moscow").unwrap();
        let row = [
            "",
            "+79161234567",
            "700",
            "from-pstn",
            "\"Anna\" <+79161234567>",
            "SIP/trunk-0001",
            "SIP/101-00000a3f",
            "Queue",
            "support,t,,,300",
            "2026-11-02 10:00:00",
            "2026-11-02 10:00:15",
            "2026-11-02 10:03:15",
            "195",
            "180",
            "ANSWERED",
            "DOCUMENTATION",
            "1793592000.17",
            "",
        ];
        let call = fold(&cdr_events(&row, &tz).unwrap()).unwrap();
        assert_eq!(call.id, "1793592000.17");
        assert_eq!(call.queue, "support");
        assert_eq!(call.agent.as_deref(), Some("SIP/101"));
        assert_eq!(
            (call.wait_seconds, call.talk_seconds),
            (Some(15), Some(180))
        );
        assert_eq!(call.outcome, Outcome::Answered);
        // 10:00 in Moscow is 07:00 UTC.
        assert_eq!(
            call.entered_at,
            "2026-11-02T07:00:00Z"
                .parse::<jiff::Timestamp>()
                .unwrap()
                .as_millisecond()
        );

        let mut missed = row;
        missed[10] = "";
        missed[13] = "0";
        missed[14] = "NO ANSWER";
        missed[12] = "8";
        let call = fold(&cdr_events(&missed, &tz).unwrap()).unwrap();
        assert_eq!(
            (call.outcome, call.wait_seconds),
            (Outcome::Abandoned, Some(8))
        );

        let mut broken = row;
        broken[9] = "02.11.2026";
        assert!(cdr_events(&broken, &tz).unwrap_err().0.contains("start"));
        assert!(cdr_events(&row[..10], &tz)
            .unwrap_err()
            .0
            .contains("10 fields"));
    }
}
