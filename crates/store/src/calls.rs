//! Calls from the PBX: their events kept once each, and each call as its
//! events tell it, written in the same transaction.

use std::collections::{BTreeMap, BTreeSet};

use doorstep_domain::calls::{fold, Call, CallEvent, Outcome, Presence};
use doorstep_domain::Country;

use crate::db::{sql, Arg, Tx};
use crate::{Store, StoreError};

/// The line a queue serves until an admin says otherwise.
pub const DEFAULT_LINE: &str = "customers";

/// What storing a batch of call events did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallsStored {
    /// Events not stored before.
    pub new_events: u64,
    /// Calls written (new, or told more of).
    pub calls: u64,
}

impl CallsStored {
    pub fn add(&mut self, other: CallsStored) {
        self.new_events += other.new_events;
        self.calls += other.calls;
    }
}

/// A call as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CallRow {
    pub id: String,
    pub queue: String,
    pub caller: Option<String>,
    pub customer_phone: Option<String>,
    pub entered_at: i64,
    pub answered_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub agent: Option<String>,
    pub wait_seconds: Option<i64>,
    pub talk_seconds: Option<i64>,
    pub outcome: String,
    pub entered: bool,
    /// The contact reason (wrap-up code).
    pub reason: Option<String>,
}

const CALL_COLUMNS: &str =
    "id, queue, caller, customer_phone, entered_at, answered_at, ended_at, agent, \
     wait_seconds, talk_seconds, outcome, entered, reason";

/// A stored event row.
#[derive(sqlx::FromRow)]
struct EventRow {
    call_id: String,
    event: String,
    at: i64,
    agent: String,
    queue: String,
    data: String,
}

impl EventRow {
    fn event(self) -> CallEvent {
        CallEvent {
            call_id: self.call_id,
            event: self.event,
            at: self.at,
            queue: self.queue,
            agent: self.agent,
            data: serde_json::from_str(&self.data).unwrap_or_default(),
        }
    }
}

impl Store {
    /// Stores call events (those stored before are passed over) and writes
    /// every call they belong to again from all of its events, in one
    /// transaction. `country` reads callers' numbers as phones.
    pub async fn record_call_events(
        &self,
        events: &[CallEvent],
        country: Country,
    ) -> Result<CallsStored, StoreError> {
        if events.is_empty() {
            return Ok(CallsStored::default());
        }
        // One row per key: a multi-row insert may not name a key twice.
        let mut unique: BTreeMap<(&str, &str, i64, &str), &CallEvent> = BTreeMap::new();
        for e in events {
            unique
                .entry((&e.call_id, &e.event, e.at, &e.agent))
                .or_insert(e);
        }
        let rows: Vec<&CallEvent> = unique.into_values().collect();
        let ids: Vec<&str> = rows
            .iter()
            .map(|e| e.call_id.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let now = crate::now_millis();
        let mut tx = self.db.begin().await?;
        let new_events = tx
            .exec_rows(
                "INSERT INTO call_events (call_id, event, at, agent, queue, data) VALUES",
                6,
                "ON CONFLICT (call_id, event, at, agent) DO NOTHING",
                &rows,
                |q, e| {
                    q.push_arg(e.call_id.as_str());
                    q.push_arg(e.event.as_str());
                    q.push_arg(e.at);
                    q.push_arg(e.agent.as_str());
                    q.push_arg(e.queue.as_str());
                    q.push_arg(serde_json::to_string(&e.data).unwrap_or_else(|_| "[]".into()));
                },
            )
            .await?;
        // Hold the calls (in one order) before reading their events: a
        // concurrent import of the same calls waits here, then reads every
        // event the first committed (PostgreSQL takes a fresh snapshot per
        // statement), so the call written last is written from them all.
        tx.exec_rows(
            "INSERT INTO calls (id, queue, entered_at, outcome, entered, updated_at) VALUES",
            6,
            "ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at",
            &ids,
            |q, id| {
                q.push_arg(*id);
                q.push_arg("");
                q.push_arg(now);
                q.push_arg(Outcome::Waiting.as_str());
                q.push_arg(Arg::Bool(Some(false)));
                q.push_arg(now);
            },
        )
        .await?;
        let stored: Vec<EventRow> = tx
            .all_in(
                "SELECT call_id, event, at, agent, queue, data FROM call_events WHERE call_id IN",
                &ids,
                "",
                |q, id| q.push_arg(*id),
            )
            .await?;
        let mut by_call: BTreeMap<String, Vec<CallEvent>> = BTreeMap::new();
        for row in stored {
            by_call
                .entry(row.call_id.clone())
                .or_default()
                .push(row.event());
        }
        let calls: Vec<Call> = by_call.values().filter_map(|e| fold(e)).collect();
        // What the calls counted for before (held above), to take away
        // from the kept slots.
        let before: Vec<CallRow> = tx
            .all_in(
                &format!("SELECT {CALL_COLUMNS} FROM calls WHERE id IN"),
                &ids,
                "",
                |q, id| q.push_arg(*id),
            )
            .await?;
        let shrunk = keep_slots(&mut tx, &before, &calls).await?;
        write_calls(&mut tx, &calls, country, now).await?;
        longest_again(&mut tx, &shrunk).await?;
        // Every queue is listed (for Settings), serving the customers'
        // line until an admin says otherwise.
        let queues: Vec<&str> = calls
            .iter()
            .map(|c| c.queue.as_str())
            .filter(|q| !q.is_empty())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        tx.exec_rows(
            "INSERT INTO call_queues (queue, line, updated_at) VALUES",
            3,
            "ON CONFLICT (queue) DO NOTHING",
            &queues,
            |q, queue| {
                q.push_arg(*queue);
                q.push_arg(DEFAULT_LINE);
                q.push_arg(now);
            },
        )
        .await?;
        let agents: Vec<&str> = calls
            .iter()
            .filter_map(|c| c.agent.as_deref())
            .filter(|a| !a.is_empty())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        tx.exec_rows(
            "INSERT INTO call_agents (agent, updated_at) VALUES",
            2,
            "ON CONFLICT (agent) DO NOTHING",
            &agents,
            |q, agent| {
                q.push_arg(*agent);
                q.push_arg(now);
            },
        )
        .await?;
        tx.commit().await?;
        Ok(CallsStored {
            new_events,
            calls: calls.len() as u64,
        })
    }

    /// A call by its PBX id.
    pub async fn call(&self, id: &str) -> Result<Option<CallRow>, StoreError> {
        self.db
            .opt(sql(format!("SELECT {CALL_COLUMNS} FROM calls WHERE id = $1")).bind(id))
            .await
    }

    /// A customer's calls, newest first, at most `limit`.
    pub async fn customer_calls(
        &self,
        phone: &str,
        limit: i64,
    ) -> Result<Vec<CallRow>, StoreError> {
        self.db
            .all(
                sql(format!(
                    "SELECT {CALL_COLUMNS} FROM calls WHERE customer_phone = $1 \
                     ORDER BY entered_at DESC, id LIMIT $2"
                ))
                .bind(phone)
                .bind(limit),
            )
            .await
    }

    /// Calls that reached a queue within `[from, to)`, oldest first, at
    /// most `limit`.
    pub async fn calls_between(
        &self,
        from: i64,
        to: i64,
        limit: i64,
    ) -> Result<Vec<CallRow>, StoreError> {
        self.db
            .all(
                sql(format!(
                    "SELECT {CALL_COLUMNS} FROM calls WHERE entered_at >= $1 AND entered_at < $2 \
                     ORDER BY entered_at, id LIMIT $3"
                ))
                .bind(from)
                .bind(to)
                .bind(limit),
            )
            .await
    }
}

/// Fifteen minutes: every time zone's offset is a whole number of them,
/// so sums by these slots of UTC time add up to any local hour, day,
/// week or month.
pub const SLOT_MS: i64 = 15 * 60 * 1000;

/// What the call figures are summed by, besides the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallCut {
    /// By slot and queue (periods, hours of the day, lines, the whole).
    Slots,
    /// By queue.
    Queue,
    /// By agent and queue.
    Agent,
    /// By contact reason and queue.
    Reason,
}

/// The sums of one group of calls that reached a queue (METRICS.md,
/// "Contact center"). `slot` is `entered_at / SLOT_MS` (0 when not cut
/// by slot); `agent` is `""` when not cut by agent, or for calls nobody
/// answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct CallSums {
    pub slot: i64,
    pub queue: String,
    pub agent: String,
    /// The contact reason when cut by it (`""`: none given).
    pub reason: String,
    pub offered: i64,
    pub answered: i64,
    pub abandoned: i64,
    /// Abandoned within the short-abandon limit: left out of the service
    /// level's both sides.
    pub short_abandoned: i64,
    /// Answered within the service level's seconds.
    pub answered_in_time: i64,
    /// Seconds waited by the answered calls.
    pub answered_wait: i64,
    /// Ended answered calls and their talk time.
    pub handled: i64,
    pub handle_seconds: i64,
    pub longest_wait: i64,
}

impl Store {
    /// The call figures' sums of calls that reached a queue within
    /// `[from, to)`, cut as asked: `in_time_seconds` is the service
    /// level's Y, `short_seconds` the short-abandon limit. Calls still
    /// waiting are not counted until they are answered or leave (the live
    /// view shows them). Read from the kept 15-minute slots when they were
    /// kept for this target and the period is whole slots (a local day
    /// always is); else from the calls.
    pub async fn call_sums(
        &self,
        from: i64,
        to: i64,
        cut: CallCut,
        in_time_seconds: i64,
        short_seconds: i64,
    ) -> Result<Vec<CallSums>, StoreError> {
        let kept: Option<(String,)> = self
            .db
            .opt(sql("SELECT value FROM settings WHERE key = $1").bind(SLOTS_SECONDS_SETTING))
            .await?;
        let kept = kept.and_then(|(v,)| v.parse::<i64>().ok()) == Some(in_time_seconds)
            && short_seconds == SHORT_ABANDON_SECONDS
            && from % SLOT_MS == 0
            && to % SLOT_MS == 0;
        if kept {
            return self.slot_sums(from, to, cut).await;
        }
        self.call_sums_from_calls(from, to, cut, in_time_seconds, short_seconds)
            .await
    }

    /// [`Store::call_sums`] counted from the calls themselves.
    pub async fn call_sums_from_calls(
        &self,
        from: i64,
        to: i64,
        cut: CallCut,
        in_time_seconds: i64,
        short_seconds: i64,
    ) -> Result<Vec<CallSums>, StoreError> {
        let (slot, agent, reason, group) = match cut {
            CallCut::Slots => (format!("entered_at / {SLOT_MS}"), "''", "''", "1, 2"),
            CallCut::Queue => ("0".to_owned(), "''", "''", "2"),
            CallCut::Agent => ("0".to_owned(), "COALESCE(agent, '')", "''", "2, 3"),
            CallCut::Reason => ("0".to_owned(), "''", "COALESCE(reason, '')", "2, 4"),
        };
        self.db
            .all(
                sql(format!(
                    "SELECT CAST({slot} AS BIGINT) AS slot, queue, {agent} AS agent, {reason} AS reason, {SUMS_SQL} \
                     FROM calls WHERE entered AND outcome <> 'waiting' AND entered_at >= $1 AND entered_at < $2 \
                     GROUP BY {group}"
                ))
                .bind(from)
                .bind(to)
                .bind(in_time_seconds)
                .bind(short_seconds),
            )
            .await
    }

    /// [`Store::call_sums`] from the kept slots.
    async fn slot_sums(
        &self,
        from: i64,
        to: i64,
        cut: CallCut,
    ) -> Result<Vec<CallSums>, StoreError> {
        let (name, slot, agent, reason, group) = match cut {
            CallCut::Slots => ("", "slot", "''", "''", "slot, queue"),
            CallCut::Queue => ("", "0", "''", "''", "queue"),
            CallCut::Agent => ("agent", "0", "key", "''", "queue, key"),
            CallCut::Reason => ("reason", "0", "''", "key", "queue, key"),
        };
        if cut == CallCut::Agent || cut == CallCut::Reason {
            // The whole UTC days from the day rows, the edges of the
            // period (a local day starts within one) from the slots.
            let first_day = (from + DAY_MS - 1).div_euclid(DAY_MS);
            let last_day = to.div_euclid(DAY_MS);
            let (days, head, tail) = if first_day < last_day {
                (
                    (first_day, last_day),
                    (from / SLOT_MS, first_day * DAY_MS / SLOT_MS),
                    (last_day * DAY_MS / SLOT_MS, to / SLOT_MS),
                )
            } else {
                ((0, 0), (from / SLOT_MS, to / SLOT_MS), (0, 0))
            };
            return self
                .db
                .all(
                    sql(format!(
                        "SELECT CAST(0 AS BIGINT) AS slot, queue, {agent} AS agent, {reason} AS reason, {SLOT_SUMS_SQL} \
                         FROM (SELECT * FROM call_slots WHERE cut = $1 AND slot >= $2 AND slot < $3 \
                         UNION ALL SELECT * FROM call_slots WHERE cut = $4 AND slot >= $5 AND slot < $6 \
                         UNION ALL SELECT * FROM call_slots WHERE cut = $4 AND slot >= $7 AND slot < $8) s \
                         GROUP BY {group}"
                    ))
                    .bind(format!("{name}_day"))
                    .bind(days.0)
                    .bind(days.1)
                    .bind(name)
                    .bind(head.0)
                    .bind(head.1)
                    .bind(tail.0)
                    .bind(tail.1),
                )
                .await;
        }
        self.db
            .all(
                sql(format!(
                    "SELECT CAST({slot} AS BIGINT) AS slot, queue, {agent} AS agent, {reason} AS reason, {SLOT_SUMS_SQL} \
                     FROM call_slots WHERE cut = $1 AND slot >= $2 AND slot < $3 GROUP BY {group}"
                ))
                .bind(name)
                .bind(from / SLOT_MS)
                .bind(to / SLOT_MS),
            )
            .await
    }

    /// Builds the kept slots anew from the calls, counting answers within
    /// `in_time_seconds` (a new service-level target, a migration,
    /// `doorstep rollups rebuild`), in one transaction that writers of
    /// calls wait for. Returns the slots' rows.
    pub async fn rebuild_call_slots(&self, in_time_seconds: i64) -> Result<u64, StoreError> {
        let mut tx = self.db.begin().await?;
        if tx.backend() == crate::db::Backend::Postgres {
            tx.exec(sql("LOCK TABLE call_slots IN EXCLUSIVE MODE"))
                .await?;
        }
        tx.exec(sql("DELETE FROM call_slots")).await?;
        let mut rows = 0;
        for cut in &SLOT_CUTS {
            let (name, span, key) = (cut.name, cut.span, cut.key_sql(""));
            if span != SLOT_MS {
                // A day's rows from its 96 slots' rows of the same key,
                // written just before (far fewer rows than the calls).
                let of = SLOT_CUTS
                    .iter()
                    .find(|c| c.by == cut.by && c.span == SLOT_MS)
                    .map_or("", |c| c.name);
                rows += tx
                    .exec(sql(format!(
                        "INSERT INTO call_slots (cut, slot, queue, key, offered, answered, abandoned, short_abandoned, \
                         answered_in_time, answered_wait, handled, handle_seconds, longest_wait) \
                         SELECT '{name}', slot / {per}, queue, key, SUM(offered), SUM(answered), SUM(abandoned), \
                         SUM(short_abandoned), SUM(answered_in_time), SUM(answered_wait), SUM(handled), \
                         SUM(handle_seconds), MAX(longest_wait) FROM call_slots WHERE cut = '{of}' \
                         GROUP BY slot / {per}, queue, key",
                        per = span / SLOT_MS
                    )))
                    .await?;
                continue;
            }
            rows += tx
                .exec(
                    sql(format!(
                        "INSERT INTO call_slots (cut, slot, queue, key, offered, answered, abandoned, short_abandoned, \
                         answered_in_time, answered_wait, handled, handle_seconds, longest_wait) \
                         SELECT '{name}', entered_at / {span}, queue, {key}, {SUMS_SQL} FROM calls \
                         WHERE entered AND outcome <> 'waiting' AND entered_at >= $1 AND entered_at < $2 \
                         GROUP BY entered_at / {span}, queue{}",
                        if cut.by == By::Nothing { String::new() } else { format!(", {key}") }
                    ))
                    .bind(i64::MIN)
                    .bind(i64::MAX)
                    .bind(in_time_seconds)
                    .bind(SHORT_ABANDON_SECONDS),
                )
                .await?;
        }
        tx.exec(
            sql("INSERT INTO settings (key, value) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(SLOTS_SECONDS_SETTING)
            .bind(in_time_seconds.to_string()),
        )
        .await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Who answered the calls that reached a queue within `[from, to)`:
    /// (slot, queue, agent), once each.
    pub async fn call_agents(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        self.db
            .all(
                sql(format!(
                    "SELECT DISTINCT CAST(entered_at / {SLOT_MS} AS BIGINT), queue, agent FROM calls \
                     WHERE entered AND answered_at IS NOT NULL AND agent IS NOT NULL \
                     AND entered_at >= $1 AND entered_at < $2"
                ))
                .bind(from)
                .bind(to),
            )
            .await
    }

    /// The calls waiting in each queue now — answered by nobody and not
    /// ended, that reached it after `since` (older ones lost their end to
    /// a missing log) — and when the longest waiting one arrived.
    pub async fn calls_waiting(&self, since: i64) -> Result<Vec<(String, i64, i64)>, StoreError> {
        self.db
            .all(sql(
                "SELECT queue, COUNT(*), MIN(entered_at) FROM calls \
                 WHERE outcome = 'waiting' AND entered AND entered_at >= $1 GROUP BY queue ORDER BY queue",
            )
            .bind(since))
            .await
    }

    /// Keeps agents' coming on duty and leaving (each once); how many
    /// were new.
    pub async fn record_presence(&self, events: &[Presence]) -> Result<u64, StoreError> {
        if events.is_empty() {
            return Ok(0);
        }
        let mut unique: BTreeMap<(&str, &str, i64, bool), &Presence> = BTreeMap::new();
        for e in events {
            unique.entry((&e.agent, &e.queue, e.at, e.on)).or_insert(e);
        }
        let rows: Vec<&Presence> = unique.into_values().collect();
        let mut tx = self.db.begin().await?;
        let n = tx
            .exec_rows(
                "INSERT INTO agent_presence (agent, queue, at, on_duty) VALUES",
                4,
                "ON CONFLICT (agent, queue, at, on_duty) DO NOTHING",
                &rows,
                |q, e| {
                    q.push_arg(e.agent.as_str());
                    q.push_arg(e.queue.as_str());
                    q.push_arg(e.at);
                    q.push_arg(Arg::Bool(Some(e.on)));
                },
            )
            .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// The presence events before `to`, from a day before `from` (who was
    /// on duty when it began), in time order.
    pub async fn presence_between(&self, from: i64, to: i64) -> Result<Vec<Presence>, StoreError> {
        let rows: Vec<(String, String, i64, bool)> = self
            .db
            .all(
                sql("SELECT agent, queue, at, on_duty FROM agent_presence WHERE at >= $1 AND at < $2 \
                     ORDER BY at, on_duty")
                .bind(from - 86_400_000)
                .bind(to),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(agent, queue, at, on)| Presence {
                agent,
                queue,
                at,
                on,
            })
            .collect())
    }

    /// Every agent who answered a call, with the person of the console it
    /// is (a user id), if said.
    pub async fn call_agent_people(&self) -> Result<Vec<(String, Option<String>)>, StoreError> {
        self.db
            .all(sql("SELECT agent, user_id FROM call_agents ORDER BY agent"))
            .await
    }

    /// Says which person of the console an agent is (`None`: nobody).
    pub async fn set_call_agent_person(
        &self,
        agent: &str,
        user_id: Option<&str>,
    ) -> Result<(), StoreError> {
        self.db
            .exec(
                sql("INSERT INTO call_agents (agent, user_id, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (agent) DO UPDATE SET user_id = excluded.user_id, updated_at = excluded.updated_at")
                .bind(agent)
                .bind(user_id)
                .bind(crate::now_millis()),
            )
            .await?;
        Ok(())
    }

    /// Every queue calls came to, with the line it serves.
    pub async fn call_queue_lines(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.db
            .all(sql("SELECT queue, line FROM call_queues ORDER BY queue"))
            .await
    }

    /// Says which line a queue serves.
    pub async fn set_call_queue_line(&self, queue: &str, line: &str) -> Result<(), StoreError> {
        self.db
            .exec(
                sql("INSERT INTO call_queues (queue, line, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (queue) DO UPDATE SET line = excluded.line, updated_at = excluded.updated_at")
                .bind(queue)
                .bind(line)
                .bind(crate::now_millis()),
            )
            .await?;
        Ok(())
    }
}

/// Writes calls as folded (every column but the id from the events).
async fn write_calls(
    tx: &mut Tx<'_>,
    calls: &[Call],
    country: Country,
    now: i64,
) -> Result<(), StoreError> {
    tx.exec_rows(
        "INSERT INTO calls (id, queue, caller, customer_phone, entered_at, answered_at, ended_at, agent, \
         wait_seconds, talk_seconds, outcome, entered, updated_at, reason) VALUES",
        14,
        "ON CONFLICT (id) DO UPDATE SET queue = excluded.queue, caller = excluded.caller, \
         customer_phone = excluded.customer_phone, entered_at = excluded.entered_at, \
         answered_at = excluded.answered_at, ended_at = excluded.ended_at, agent = excluded.agent, \
         wait_seconds = excluded.wait_seconds, talk_seconds = excluded.talk_seconds, \
         outcome = excluded.outcome, entered = excluded.entered, updated_at = excluded.updated_at, \
         reason = excluded.reason",
        calls,
        |q, c| {
            let phone = c
                .caller
                .as_deref()
                .and_then(|n| doorstep_domain::Phone::parse(n, country).ok())
                .map(doorstep_domain::Phone::into_string);
            q.push_arg(c.id.as_str());
            q.push_arg(c.queue.as_str());
            q.push_arg(c.caller.as_deref());
            q.push_arg(phone);
            q.push_arg(c.entered_at);
            q.push_arg(c.answered_at);
            q.push_arg(c.ended_at);
            q.push_arg(c.agent.as_deref());
            q.push_arg(c.wait_seconds);
            q.push_arg(c.talk_seconds);
            q.push_arg(c.outcome.as_str());
            q.push_arg(Arg::Bool(Some(c.entered)));
            q.push_arg(now);
            q.push_arg(c.reason.as_deref());
        },
    )
    .await?;
    Ok(())
}

/// A call abandoned within this many seconds is left out of the service
/// level (the caller dialled wrong, or hung up at once).
pub const SHORT_ABANDON_SECONDS: i64 = 5;

/// The setting that holds the target's seconds the kept slots count
/// answers in time by (see the migration `0027_call_slots.sql`).
pub const SLOTS_SECONDS_SETTING: &str = "call_slots_seconds";

/// The sums of the calls of one group, as SQL over `calls` (`$3`: the
/// target's seconds, `$4`: the short-abandon limit).
const SUMS_SQL: &str = "COUNT(*) AS offered, \
     CAST(COALESCE(SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS answered, \
     CAST(COALESCE(SUM(CASE WHEN outcome = 'abandoned' THEN 1 ELSE 0 END), 0) AS BIGINT) AS abandoned, \
     CAST(COALESCE(SUM(CASE WHEN outcome = 'abandoned' AND wait_seconds <= $4 THEN 1 ELSE 0 END), 0) AS BIGINT) AS short_abandoned, \
     CAST(COALESCE(SUM(CASE WHEN answered_at IS NOT NULL AND wait_seconds <= $3 THEN 1 ELSE 0 END), 0) AS BIGINT) AS answered_in_time, \
     CAST(COALESCE(SUM(CASE WHEN answered_at IS NOT NULL THEN wait_seconds ELSE 0 END), 0) AS BIGINT) AS answered_wait, \
     CAST(COALESCE(SUM(CASE WHEN outcome = 'answered' AND talk_seconds IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS handled, \
     CAST(COALESCE(SUM(CASE WHEN outcome = 'answered' THEN talk_seconds ELSE 0 END), 0) AS BIGINT) AS handle_seconds, \
     CAST(COALESCE(MAX(wait_seconds), 0) AS BIGINT) AS longest_wait";

/// The kept sums' columns, as read.
const SLOT_SUMS_SQL: &str = "CAST(SUM(offered) AS BIGINT) AS offered, CAST(SUM(answered) AS BIGINT) AS answered, \
     CAST(SUM(abandoned) AS BIGINT) AS abandoned, CAST(SUM(short_abandoned) AS BIGINT) AS short_abandoned, \
     CAST(SUM(answered_in_time) AS BIGINT) AS answered_in_time, CAST(SUM(answered_wait) AS BIGINT) AS answered_wait, \
     CAST(SUM(handled) AS BIGINT) AS handled, CAST(SUM(handle_seconds) AS BIGINT) AS handle_seconds, \
     CAST(MAX(longest_wait) AS BIGINT) AS longest_wait";

/// A UTC day in milliseconds: 96 slots.
const DAY_MS: i64 = 86_400_000;

/// What a kept cut is keyed by beside its slot and queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Nothing,
    Agent,
    Reason,
}

/// A cut the slots are kept by.
struct SlotCut {
    name: &'static str,
    by: By,
    /// Its slots' length in milliseconds: 15 minutes, or a UTC day for
    /// the agents' and reasons' rows a period's whole days are read from
    /// (a month by agent is then ~30 rows per agent, not ~2,900).
    span: i64,
}

impl SlotCut {
    /// Its key over `calls`.
    fn key_sql(&self, table: &str) -> String {
        match self.by {
            By::Nothing => "''".to_owned(),
            By::Agent => format!("COALESCE({table}agent, '')"),
            By::Reason => format!("COALESCE({table}reason, '')"),
        }
    }
}

/// The cuts the slots are kept by.
const SLOT_CUTS: [SlotCut; 5] = [
    SlotCut {
        name: "",
        by: By::Nothing,
        span: SLOT_MS,
    },
    SlotCut {
        name: "agent",
        by: By::Agent,
        span: SLOT_MS,
    },
    SlotCut {
        name: "reason",
        by: By::Reason,
        span: SLOT_MS,
    },
    SlotCut {
        name: "agent_day",
        by: By::Agent,
        span: DAY_MS,
    },
    SlotCut {
        name: "reason_day",
        by: By::Reason,
        span: DAY_MS,
    },
];

/// What of a call the kept sums count, as stored or as just folded.
struct Counted<'a> {
    queue: &'a str,
    agent: &'a str,
    reason: &'a str,
    /// Its slot: `None` when it counts for nothing (not entered, or still
    /// waiting).
    slot: Option<i64>,
    answered: bool,
    abandoned: bool,
    /// Answered and over.
    done: bool,
    wait: Option<i64>,
    talk: Option<i64>,
}

impl<'a> Counted<'a> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        queue: &'a str,
        agent: Option<&'a str>,
        reason: Option<&'a str>,
        entered: bool,
        outcome: &str,
        entered_at: i64,
        answered: bool,
        wait: Option<i64>,
        talk: Option<i64>,
    ) -> Counted<'a> {
        Counted {
            queue,
            agent: agent.unwrap_or_default(),
            reason: reason.unwrap_or_default(),
            slot: (entered && outcome != Outcome::Waiting.as_str()).then_some(entered_at / SLOT_MS),
            answered,
            abandoned: outcome == Outcome::Abandoned.as_str(),
            done: outcome == Outcome::Answered.as_str(),
            wait,
            talk,
        }
    }

    fn of_row(c: &'a CallRow) -> Counted<'a> {
        Counted::new(
            &c.queue,
            c.agent.as_deref(),
            c.reason.as_deref(),
            c.entered,
            &c.outcome,
            c.entered_at,
            c.answered_at.is_some(),
            c.wait_seconds,
            c.talk_seconds,
        )
    }

    fn of_call(c: &'a Call) -> Counted<'a> {
        Counted::new(
            &c.queue,
            c.agent.as_deref(),
            c.reason.as_deref(),
            c.entered,
            c.outcome.as_str(),
            c.entered_at,
            c.answered_at.is_some(),
            c.wait_seconds,
            c.talk_seconds,
        )
    }

    /// Its group's key in a cut of [`SLOT_CUTS`].
    fn key(&self, by: By) -> &'a str {
        match by {
            By::Agent => self.agent,
            By::Reason => self.reason,
            By::Nothing => "",
        }
    }

    /// What it adds to its slot's sums.
    fn sums(&self, in_time: i64) -> CallSums {
        let wait = self.wait.unwrap_or(0);
        let flag = |b: bool| i64::from(b);
        CallSums {
            offered: 1,
            answered: flag(self.answered),
            abandoned: flag(self.abandoned),
            short_abandoned: flag(
                self.abandoned && self.wait.is_some_and(|w| w <= SHORT_ABANDON_SECONDS),
            ),
            answered_in_time: flag(self.answered && self.wait.is_some_and(|w| w <= in_time)),
            answered_wait: if self.answered { wait } else { 0 },
            handled: flag(self.done && self.talk.is_some()),
            handle_seconds: if self.done { self.talk.unwrap_or(0) } else { 0 },
            longest_wait: wait,
            ..CallSums::default()
        }
    }
}

/// The change to the kept sums, by (cut, slot, queue, key).
#[derive(Default)]
struct SlotChanges(BTreeMap<SlotKey, CallSums>);

impl SlotChanges {
    /// Adds (`sign` 1) or takes away (`sign` -1) a call's part, `slot`
    /// being its 15-minute slot.
    fn add(&mut self, call: &Counted<'_>, slot: i64, s: &CallSums, sign: i64) {
        for (i, cut) in SLOT_CUTS.iter().enumerate() {
            let e = self
                .0
                .entry((
                    i,
                    slot * SLOT_MS / cut.span,
                    call.queue.to_owned(),
                    call.key(cut.by).to_owned(),
                ))
                .or_default();
            e.offered += sign * s.offered;
            e.answered += sign * s.answered;
            e.abandoned += sign * s.abandoned;
            e.short_abandoned += sign * s.short_abandoned;
            e.answered_in_time += sign * s.answered_in_time;
            e.answered_wait += sign * s.answered_wait;
            e.handled += sign * s.handled;
            e.handle_seconds += sign * s.handle_seconds;
            if sign > 0 {
                e.longest_wait = e.longest_wait.max(s.longest_wait);
            }
        }
    }
}

/// Keeps the slots of the calls a transaction rewrites: their new parts
/// less their old ones, added to the kept rows (in key order: two writers
/// meet in the same order). Returns the groups whose longest wait must be
/// looked up again.
async fn keep_slots(
    tx: &mut Tx<'_>,
    old: &[CallRow],
    new: &[Call],
) -> Result<Vec<SlotKey>, StoreError> {
    let seconds: Option<(String,)> = tx
        .opt(sql("SELECT value FROM settings WHERE key = $1").bind(SLOTS_SECONDS_SETTING))
        .await?;
    let Some(in_time) = seconds.and_then(|(v,)| v.parse::<i64>().ok()) else {
        // Not kept (being built anew): read from the calls meanwhile.
        return Ok(Vec::new());
    };
    let mut changes = SlotChanges::default();
    // The groups a call left, or waited less in than before: their
    // longest wait is looked up again once the calls are written.
    let mut shrunk: BTreeSet<SlotKey> = BTreeSet::new();
    let new_by_id: BTreeMap<&str, &Call> = new.iter().map(|c| (c.id.as_str(), c)).collect();
    for c in old {
        let was = Counted::of_row(c);
        let Some(slot) = was.slot else { continue };
        changes.add(&was, slot, &was.sums(in_time), -1);
        let now = new_by_id.get(c.id.as_str()).map(|n| Counted::of_call(n));
        for (i, cut) in SLOT_CUTS.iter().enumerate() {
            let stays = now.as_ref().is_some_and(|n| {
                n.slot == Some(slot)
                    && n.queue == was.queue
                    && n.key(cut.by) == was.key(cut.by)
                    && n.wait.unwrap_or(0) >= was.wait.unwrap_or(0)
            });
            if !stays {
                shrunk.insert((
                    i,
                    slot * SLOT_MS / cut.span,
                    was.queue.to_owned(),
                    was.key(cut.by).to_owned(),
                ));
            }
        }
    }
    for c in new {
        let now = Counted::of_call(c);
        if let Some(slot) = now.slot {
            changes.add(&now, slot, &now.sums(in_time), 1);
        }
    }
    let rows: Vec<_> = changes
        .0
        .into_iter()
        .filter(|(_, s)| *s != CallSums::default())
        .collect();
    tx.exec_rows(
        "INSERT INTO call_slots (cut, slot, queue, key, offered, answered, abandoned, short_abandoned, \
         answered_in_time, answered_wait, handled, handle_seconds, longest_wait) VALUES",
        13,
        "ON CONFLICT (cut, slot, queue, key) DO UPDATE SET offered = call_slots.offered + excluded.offered, \
         answered = call_slots.answered + excluded.answered, abandoned = call_slots.abandoned + excluded.abandoned, \
         short_abandoned = call_slots.short_abandoned + excluded.short_abandoned, \
         answered_in_time = call_slots.answered_in_time + excluded.answered_in_time, \
         answered_wait = call_slots.answered_wait + excluded.answered_wait, \
         handled = call_slots.handled + excluded.handled, \
         handle_seconds = call_slots.handle_seconds + excluded.handle_seconds, \
         longest_wait = CASE WHEN excluded.longest_wait > call_slots.longest_wait \
            THEN excluded.longest_wait ELSE call_slots.longest_wait END",
        &rows,
        |q, ((cut, slot, queue, key), s)| {
            q.push_arg(SLOT_CUTS[*cut].name);
            q.push_arg(*slot);
            q.push_arg(queue.as_str());
            q.push_arg(key.as_str());
            for v in [
                s.offered,
                s.answered,
                s.abandoned,
                s.short_abandoned,
                s.answered_in_time,
                s.answered_wait,
                s.handled,
                s.handle_seconds,
                s.longest_wait,
            ] {
                q.push_arg(v);
            }
        },
    )
    .await?;
    Ok(shrunk.into_iter().collect())
}

/// A kept group: (its cut's place in [`SLOT_CUTS`], slot, queue, key).
type SlotKey = (usize, i64, String, String);

/// The longest wait of the groups a call left (or waited less in), from
/// the calls written: the most seen can only be kept while it grows.
async fn longest_again(tx: &mut Tx<'_>, groups: &[SlotKey]) -> Result<(), StoreError> {
    for (i, slot, queue, key) in groups {
        let cut = &SLOT_CUTS[*i];
        let column = cut.key_sql("c.");
        tx.exec(
            sql(format!(
                "UPDATE call_slots SET longest_wait = (SELECT CAST(COALESCE(MAX(c.wait_seconds), 0) AS BIGINT) \
                 FROM calls c WHERE c.entered AND c.outcome <> 'waiting' AND c.entered_at >= $1 AND c.entered_at < $2 \
                 AND c.queue = $3 AND {column} = $4) \
                 WHERE cut = $5 AND slot = $6 AND queue = $3 AND key = $4"
            ))
            .bind(slot * cut.span)
            .bind((slot + 1) * cut.span)
            .bind(queue.as_str())
            .bind(key.as_str())
            .bind(cut.name)
            .bind(*slot),
        )
        .await?;
    }
    Ok(())
}
