//! The demo's calls: 90 days of both lines' queues with a believable shape
//! — a morning peak (09–11) when more customers call than the agents on
//! shift can take, so waits grow, callers give up and the service level
//! falls under 80/20, a quieter afternoon, fewer calls at weekends — stored
//! through the same path as an imported queue_log.

use doorstep_domain::calls::{CallEvent, Presence};
use doorstep_store::Store;
use rand::rngs::StdRng;
use rand::Rng;

/// Calls an hour on a weekday, by hour of the day (00–23), for the
/// customers' queue; the couriers' queue gets a fifth of them.
const ARRIVALS: [u32; 24] = [
    0, 0, 0, 0, 0, 0, 0, 2, 8, 16, 15, 10, 8, 7, 7, 6, 6, 7, 8, 7, 5, 3, 1, 0,
];

/// Agents on shift by hour: the morning peak has too few.
const AGENTS: [u32; 24] = [
    1, 1, 1, 1, 1, 1, 1, 2, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 2, 1, 1,
];

/// Stores the demo's calls; how many.
pub async fn load(store: &Store, rng: &mut StdRng, days: i64) -> anyhow::Result<usize> {
    let deployment = store.deployment().await?;
    let tz = deployment.tz();
    let today = jiff::Timestamp::now().to_zoned(tz.clone()).date();
    let now = jiff::Timestamp::now().as_second();
    let mut events = Vec::new();
    let mut presence: Vec<Presence> = Vec::new();
    let mut calls = 0;
    for back in (0..days).rev() {
        let date = today.checked_sub(jiff::Span::new().days(back))?;
        let weekend = date.weekday().to_monday_zero_offset() >= 5;
        for hour in 0..24u8 {
            let start = date
                .at(i8::try_from(hour)?, 0, 0, 0)
                .to_zoned(tz.clone())?
                .timestamp()
                .as_second();
            for (queue, share) in [("support", 1.0), ("couriers", 0.2)] {
                let mean = f64::from(ARRIVALS[usize::from(hour)])
                    * share
                    * if weekend { 0.6 } else { 1.0 };
                let n = (mean + rng.gen_range(-0.3..0.3) * mean).round().max(0.0) as u32;
                // How crowded the hour is: calls per agent.
                let load = f64::from(n) / f64::from(AGENTS[usize::from(hour)]) / 4.0;
                for _ in 0..n {
                    let at = start + rng.gen_range(0..3600);
                    if at > now {
                        continue;
                    }
                    calls += 1;
                    let id = format!("{at}.{calls}");
                    let wait = (rng.gen_range(2.0..20.0) * (0.6 + load * load)).round() as i64;
                    let caller = format!("+7916{:07}", rng.gen_range(0..400_000));
                    let event = |name: &str, t: i64, agent: &str, data: Vec<String>| CallEvent {
                        call_id: id.clone(),
                        event: name.to_owned(),
                        at: t * 1000,
                        queue: queue.to_owned(),
                        agent: agent.to_owned(),
                        data,
                    };
                    events.push(event(
                        "ENTERQUEUE",
                        at,
                        "",
                        vec![String::new(), caller, "1".into()],
                    ));
                    let gives_up = wait > 25
                        && rng.gen_bool(
                            (f64::from(u32::try_from(wait).unwrap_or(0)) / 200.0).min(0.6),
                        )
                        || rng.gen_bool(0.02);
                    if gives_up {
                        let waited = if wait > 25 {
                            rng.gen_range(10..wait)
                        } else {
                            rng.gen_range(1..6)
                        };
                        events.push(event(
                            "ABANDON",
                            at + waited,
                            "",
                            vec!["1".into(), "1".into(), waited.to_string()],
                        ));
                    } else {
                        let agent = format!(
                            "SIP/{}",
                            101 + rng.gen_range(0..AGENTS[usize::from(hour)] + 2)
                        );
                        let talk = rng.gen_range(45..330);
                        events.push(event(
                            "CONNECT",
                            at + wait,
                            &agent,
                            vec![wait.to_string(), String::new(), "1".into()],
                        ));
                        let ended = at + wait + talk;
                        if ended <= now {
                            events.push(event(
                                "COMPLETECALLER",
                                ended,
                                &agent,
                                vec![wait.to_string(), talk.to_string(), "1".into()],
                            ));
                            // Most calls are wrapped up with a reason.
                            let wrapped = ended + rng.gen_range(5..40);
                            if wrapped <= now && rng.gen_bool(0.9) {
                                let reason = reason(rng, queue);
                                events.push(event("WRAPUP", wrapped, &agent, vec![reason.into()]));
                            }
                        }
                    }
                }
            }
        }
        // The shift of each hour: that many agents on duty in the
        // customers' queue (the first ones), logged as the PBX logs
        // dynamic members coming and going.
        for hour in 0..24u8 {
            let start = date
                .at(i8::try_from(hour)?, 0, 0, 0)
                .to_zoned(tz.clone())?
                .timestamp()
                .as_millisecond();
            let on = AGENTS[usize::from(hour)] + 2;
            let before = if hour == 0 {
                0
            } else {
                AGENTS[usize::from(hour) - 1] + 2
            };
            for agent in 0..on.max(before) {
                let change = match (agent < before, agent < on) {
                    (false, true) => Some(true),
                    (true, false) => Some(false),
                    _ => None,
                };
                if let Some(on) = change.filter(|_| start <= now * 1000) {
                    presence.push(Presence {
                        agent: format!("SIP/{}", 101 + agent),
                        queue: "support".to_owned(),
                        at: start,
                        on,
                    });
                }
            }
        }
        if events.len() > 5_000 {
            store
                .record_call_events(&std::mem::take(&mut events), deployment.country())
                .await?;
        }
    }
    // Three callers waiting right now (for the live view).
    for (i, (queue, ago)) in [("support", 25), ("support", 70), ("couriers", 12)]
        .into_iter()
        .enumerate()
    {
        let at = now - ago;
        events.push(CallEvent {
            call_id: format!("{at}.now{i}"),
            event: "ENTERQUEUE".to_owned(),
            at: at * 1000,
            queue: queue.to_owned(),
            agent: String::new(),
            data: vec![
                String::new(),
                format!("+7916{:07}", rng.gen_range(0..400_000)),
                (i + 1).to_string(),
            ],
        });
        calls += 1;
    }
    store
        .record_call_events(&events, deployment.country())
        .await?;
    store.record_presence(&presence).await?;
    store.set_call_queue_line("couriers", "couriers").await?;
    // The demo's operator is the PBX's first agent.
    if let Some(operator) = store
        .users()
        .await?
        .into_iter()
        .find(|u| u.login == "operator")
    {
        store
            .set_call_agent_person("SIP/101", Some(&operator.id))
            .await?;
    }
    Ok(calls)
}

/// A wrap-up reason as a queue's callers bring them (seed 003: most are
/// general questions — where is my order, change it).
fn reason(rng: &mut StdRng, queue: &str) -> &'static str {
    let roll = rng.gen_range(0.0..1.0);
    if queue == "couriers" {
        return if roll < 0.8 { "courier" } else { "other" };
    }
    match roll {
        r if r < 0.45 => "where_is_order",
        r if r < 0.65 => "change_delivery",
        r if r < 0.77 => "complaint",
        r if r < 0.87 => "payment",
        _ => "other",
    }
}
