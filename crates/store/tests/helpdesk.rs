//! The helpdesk's promises under concurrency, on both backends: an
//! incident per order and rule whatever races it, committed with its
//! event; one dispatcher wins a claim.

mod common;

use std::sync::Arc;

use doorstep_domain::helpdesk::alerts::{AlertRule, Condition, Priority};
use doorstep_domain::helpdesk::incidents::{AttemptResult, IncidentStatus, Outcome};
use doorstep_store::helpdesk::incidents::{Actor, IncidentFilter, Refusal};
use doorstep_store::Store;
use tokio::sync::Barrier;

use common::TwoServers;

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { super::$name("sqlite").await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { super::$name("postgres").await } )* }
    };
}

on_both_backends!(
    every_detractor_raises_one_incident_with_its_event_whatever_races_it,
    of_eight_dispatchers_claiming_at_once_exactly_one_owns_the_incident,
    rules_switched_off_raise_nothing_and_new_rules_apply_at_once,
);

fn queue(limit: i64) -> IncidentFilter {
    IncidentFilter {
        status: Some(IncidentStatus::Open),
        city: None,
        limit,
    }
}

/// All events named `name` (numbered first, as a server would).
async fn events_named(store: &Store, name: &str) -> Vec<serde_json::Value> {
    store.number_events().await.unwrap();
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = store.events_after(after, 1000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.id;
        out.extend(
            page.iter()
                .filter(|e| e.name == name)
                .map(|e| serde_json::from_str(&e.data).unwrap()),
        );
    }
    out
}

/// Six hundred answers stored by four clients on two servers, each batch
/// sent twice (by both servers at once): the detractors among them — the
/// answers with NPS 0–6, counted from the batches — each raised exactly
/// one incident, and one `incident.created` event says so.
async fn every_detractor_raises_one_incident_with_its_event_whatever_races_it(backend: &str) {
    let TwoServers {
        db: _db,
        store,
        second,
        batches,
        today,
        ..
    } = TwoServers::new(backend).await;
    let detractors: usize = batches
        .iter()
        .flatten()
        .filter(|r| r.facts.nps.is_some_and(|n| n <= 6))
        .count();
    assert!(detractors > 100, "the data has detractors: {detractors}");
    let barrier = Arc::new(Barrier::new(4));
    let mut clients = Vec::new();
    for k in 0..4 {
        let s = if k % 2 == 0 {
            store.clone()
        } else {
            second.clone()
        };
        // Clients k and k+1 send the same half of the batches.
        let mine: Vec<_> = batches.iter().skip(k / 2).step_by(2).cloned().collect();
        let barrier = Arc::clone(&barrier);
        clients.push(tokio::spawn(async move {
            barrier.wait().await;
            for b in mine {
                s.store_responses(&b, None, today).await.unwrap();
            }
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    let all = store.incidents(&queue(1000)).await.unwrap();
    // The low ratings of the others fill the call-back queue, once each.
    let low: usize = batches
        .iter()
        .flatten()
        .filter(|r| r.facts.nps.is_none_or(|n| n > 6))
        .filter(|r| {
            doorstep_domain::helpdesk::alerts::CallbackThreshold::default()
                .low(r.status, r.facts.nps, r.facts.lowest_rating)
                .is_some()
        })
        .count();
    let (open, callbacks): (Vec<_>, Vec<_>) =
        all.into_iter().partition(|i| i.rule_id == "detractor");
    assert_eq!(
        callbacks.len(),
        low,
        "one call-back per low rating no rule caught"
    );
    assert!(callbacks
        .iter()
        .all(|i| i.rule_id == "low_rating" && i.priority == "normal"));
    assert_eq!(open.len(), detractors, "one incident per detractor");
    let mut orders: Vec<&str> = open.iter().map(|i| i.order_number.as_str()).collect();
    orders.sort_unstable();
    orders.dedup();
    assert_eq!(orders.len(), detractors, "no order twice");
    let sample = &open[0];
    assert_eq!(sample.rule_id, "detractor");
    assert_eq!(sample.priority, "high");
    assert_eq!(sample.reason, format!("NPS {}", sample.nps.unwrap()));
    let events = events_named(&store, "incident.created").await;
    assert_eq!(events.len(), detractors + low, "one event per incident");
    let mut ids: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    let mut stored: Vec<&str> = open
        .iter()
        .chain(&callbacks)
        .map(|i| i.id.as_str())
        .collect();
    stored.sort_unstable();
    assert_eq!(ids, stored, "the events name the stored incidents");
    // A city filter keeps to its city.
    let kazan = store
        .incidents(&IncidentFilter {
            city: Some("Казань".into()),
            ..queue(1000)
        })
        .await
        .unwrap();
    assert!(!kazan.is_empty() && kazan.len() < detractors);
    assert!(kazan.iter().all(|i| i.city == "Казань"));
    second.close().await;
    store.close().await;
}

/// Eight dispatchers, on two servers, claim one incident at the same
/// moment: one owns it, the seven others are told who does. The owner's
/// attempts and close work; another dispatcher's are refused.
async fn of_eight_dispatchers_claiming_at_once_exactly_one_owns_the_incident(backend: &str) {
    let TwoServers {
        db: _db,
        store,
        second,
        batches,
        today,
        ..
    } = TwoServers::new(backend).await;
    for b in &batches[..3] {
        store.store_responses(b, None, today).await.unwrap();
    }
    let open = store.incidents(&queue(10)).await.unwrap();
    let target = open[0].id.clone();
    let barrier = Arc::new(Barrier::new(8));
    let mut claims = Vec::new();
    for k in 0..8 {
        let s = if k % 2 == 0 {
            store.clone()
        } else {
            second.clone()
        };
        let (barrier, target) = (Arc::clone(&barrier), target.clone());
        claims.push(tokio::spawn(async move {
            let (id, login) = (format!("u{k}"), format!("dispatcher{k}"));
            barrier.wait().await;
            let actor = Actor {
                id: &id,
                login: &login,
                overrides: false,
            };
            (
                login.clone(),
                s.claim_incident(&target, actor).await.unwrap(),
            )
        }));
    }
    let mut winners = Vec::new();
    let mut told = Vec::new();
    for c in claims {
        match c.await.unwrap() {
            (login, Ok(i)) => {
                assert_eq!(i.owner_login.as_deref(), Some(login.as_str()));
                winners.push(login);
            }
            (_, Err(Refusal::ClaimedBy(by))) => told.push(by),
            (_, Err(other)) => panic!("unexpected refusal {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one claim wins: {winners:?}");
    assert_eq!(told.len(), 7);
    assert!(
        told.iter().all(|by| *by == winners[0]),
        "the others are told who: {told:?}"
    );
    let events = events_named(&store, "incident.claimed").await;
    assert_eq!(events.len(), 1, "one claim, one event");
    assert_eq!(events[0]["owner"], winners[0].as_str());

    let k: usize = winners[0].trim_start_matches("dispatcher").parse().unwrap();
    let (owner_id, owner_login) = (format!("u{k}"), winners[0].clone());
    let owner = Actor {
        id: &owner_id,
        login: &owner_login,
        overrides: false,
    };
    let other = Actor {
        id: "someone",
        login: "someone",
        overrides: false,
    };
    // Not reached, call again in an hour: it goes below the due ones.
    let later = doorstep_store::now_millis() + 3_600_000;
    let after = store
        .log_attempt(
            &target,
            owner,
            AttemptResult::NotReached,
            Some("no answer"),
            Some(later),
            None,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!((after.attempts, after.due_at), (1, later));
    assert!(after.first_attempt_at.is_some() && after.reached_at.is_none());
    let live = store
        .incidents(&IncidentFilter {
            status: None,
            city: None,
            limit: 100,
        })
        .await
        .unwrap();
    assert_eq!(
        live.last().unwrap().id,
        target,
        "called again later: last in the queue"
    );
    assert_eq!(
        store
            .log_attempt(&target, other, AttemptResult::Reached, None, None, None)
            .await
            .unwrap(),
        Err(Refusal::ClaimedBy(owner_login.clone()))
    );
    assert_eq!(
        store
            .close_incident(&target, other, Outcome::Recovered, None)
            .await
            .unwrap(),
        Err(Refusal::ClaimedBy(owner_login.clone()))
    );
    let closed = store
        .close_incident(&target, owner, Outcome::Recovered, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(closed.status, "closed");
    assert_eq!(closed.outcome.as_deref(), Some("recovered"));
    assert_eq!(
        store.claim_incident(&target, other).await.unwrap(),
        Err(Refusal::Closed)
    );
    assert_eq!(store.incident_attempts(&target).await.unwrap().len(), 1);
    assert_eq!(
        store.claim_incident("no-such", other).await.unwrap(),
        Err(Refusal::NotFound)
    );
    second.close().await;
    store.close().await;
}

/// With the detractor rule off nothing is raised; a keyword rule saved a
/// moment before applies to the next answer.
async fn rules_switched_off_raise_nothing_and_new_rules_apply_at_once(backend: &str) {
    let TwoServers {
        db: _db,
        store,
        batches,
        today,
        ..
    } = TwoServers::new(backend).await;
    let rules = store.alert_rules().await.unwrap();
    let support = AlertRule {
        id: "support_csat".into(),
        name: "Support CSAT 1–3".into(),
        enabled: true,
        priority: Priority::High,
        condition: Condition::ScaleAtMost {
            question: "support_csat".into(),
            value: 3.0,
        },
    };
    assert_eq!(
        rules,
        vec![AlertRule::detractors(), support],
        "a new deployment: NPS ≤ 6 and a low support CSAT on"
    );
    store
        .save_alert_rule(&AlertRule {
            enabled: false,
            ..AlertRule::detractors()
        })
        .await
        .unwrap();
    // With the call-back queue off too, nothing at all.
    store
        .set_setting(doorstep_domain::helpdesk::alerts::CALLBACK_SETTING, "0")
        .await
        .unwrap();
    store
        .store_responses(&batches[0], None, today)
        .await
        .unwrap();
    assert!(store.incidents(&queue(100)).await.unwrap().is_empty());
    store
        .save_alert_rule(&AlertRule {
            id: "low-speed".into(),
            name: "Slow".into(),
            enabled: true,
            priority: Priority::Urgent,
            condition: Condition::ScaleAtMost {
                question: "speed".into(),
                value: 1.0,
            },
        })
        .await
        .unwrap();
    assert_eq!(store.alert_rules().await.unwrap().len(), 3);
    let fresh: Vec<_> = batches[1..6].iter().flatten().cloned().collect();
    let slow_all = fresh
        .iter()
        .filter(|r| {
            r.answers
                .iter()
                .any(|a| a.question_id == "speed" && a.number.is_some_and(|n| n <= 1.0))
        })
        .count();
    assert!(slow_all > 0, "the data has slow answers");
    store.store_responses(&fresh, None, today).await.unwrap();
    let open = store.incidents(&queue(100)).await.unwrap();
    assert_eq!(open.len(), slow_all);
    assert!(open
        .iter()
        .all(|i| i.rule_id == "low-speed" && i.priority == "urgent"));
    assert!(store.delete_alert_rule("low-speed").await.unwrap());
    assert!(!store.delete_alert_rule("low-speed").await.unwrap());
    store.close().await;
}
