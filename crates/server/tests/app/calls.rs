//! Call events from a PBX through `POST /api/v1/calls/events`: each kept
//! once, each call written from all of its events, other events ignored,
//! broken ones rejected by name; only an integration token may send them.

use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::surveys::post;

on_both_backends!(
    a_pbx_sends_call_events_through_the_api,
    contact_center_figures_as_worked_out_by_hand,
    kept_slots_agree_with_the_calls_whatever_arrives_in_which_order,
    staffing_sets_the_agents_on_duty_beside_those_needed
);

async fn a_pbx_sends_call_events_through_the_api(backend: &str) {
    let a = TestApp::spawn(backend).await;
    let integration = a.token("integration", None).await;
    let first = json!({"events": [
        {"call_id": "p-1", "event": "ENTERQUEUE", "at": "2026-11-02T10:00:00+03:00", "queue": "support",
         "data": ["", "8 916 123-45-67", "1"]},
        {"call_id": "p-1", "event": "CONNECT", "at": 1_793_602_818, "queue": "support", "agent": "Olga",
         "data": ["18", "p-1.2", "3"]},
        {"call_id": "p-1", "event": "AGENTLOGIN", "at": 1_793_602_818, "queue": "support"},
        {"call_id": "p-2", "event": "ABANDON", "at": "yesterday", "queue": "support", "data": ["1", "1", "4"]},
        {"call_id": "p-3", "event": "ABANDON", "at": 1_793_602_818, "queue": "support", "data": ["1", "1", "soon"]},
        {"call_id": "p-4", "event": "ENTERQUEUE", "queue": "support"}
    ]});
    let (status, body) = post(&a, &integration, "/api/v1/calls/events", &first).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            body["accepted"].as_i64(),
            body["ignored"].as_i64(),
            body["rejected"].as_i64()
        ),
        (Some(2), Some(1), Some(3)),
        "{body}"
    );
    assert_eq!(body["new_events"], 2);
    assert_eq!(
        body["items"][3]["errors"][0]["field"], "events[3].at",
        "{body}"
    );
    assert_eq!(
        body["items"][4]["errors"][0]["field"], "events[4].data",
        "{body}"
    );
    assert!(
        body["items"][5]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("missing field `at`"),
        "{body}"
    );
    let call = a.store.call("p-1").await.unwrap().unwrap();
    assert_eq!(
        (
            call.outcome.as_str(),
            call.wait_seconds,
            call.agent.as_deref()
        ),
        ("talking", Some(18), Some("Olga"))
    );
    assert_eq!(call.customer_phone.as_deref(), Some("+79161234567"));

    // The end comes later; the first batch again adds nothing.
    let (_, body) = post(
        &a,
        &integration,
        "/api/v1/calls/events",
        &json!([{"call_id": "p-1", "event": "COMPLETEAGENT", "at": 1_793_602_958, "queue": "support",
                 "agent": "Olga", "data": ["18", "140", "1"]}]),
    )
    .await;
    assert_eq!(body["new_events"], 1, "{body}");
    let (_, again) = post(&a, &integration, "/api/v1/calls/events", &first).await;
    assert_eq!(again["new_events"], 0, "{again}");
    let call = a.store.call("p-1").await.unwrap().unwrap();
    assert_eq!(
        (call.outcome.as_str(), call.talk_seconds),
        ("answered", Some(140))
    );

    let terminal = a.token("terminal", None).await;
    let (status, _) = post(&a, &terminal, "/api/v1/calls/events", &first).await;
    assert_eq!(status, 403);
    let (status, problem) = post(
        &a,
        &integration,
        "/api/v1/calls/events",
        &json!({"calls": []}),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
}

/// One call's events as the API takes them: entered at `at` (Moscow, 2
/// November 2026), then answered after `wait` seconds and talked `talk`,
/// or left after `wait` by `left` (ABANDON, EXITWITHTIMEOUT).
fn call(
    id: &str,
    queue: &str,
    at: &str,
    wait: i64,
    end: Result<i64, &str>,
) -> Vec<serde_json::Value> {
    let start: jiff::Timestamp = format!("2026-11-02T{at}:00+03:00").parse().unwrap();
    let t = |s: i64| (start.as_second() + s) as f64;
    let mut events = vec![
        json!({"call_id": id, "event": "ENTERQUEUE", "at": t(0), "queue": queue, "data": ["", "+79161234567", "1"]}),
    ];
    match end {
        Ok(talk) => {
            events.push(json!({"call_id": id, "event": "CONNECT", "at": t(wait), "queue": queue, "agent": "Olga", "data": [wait.to_string(), "", "1"]}));
            events.push(json!({"call_id": id, "event": "COMPLETECALLER", "at": t(wait + talk), "queue": queue, "agent": "Olga", "data": [wait.to_string(), talk.to_string(), "1"]}));
        }
        Err(left) => events.push(json!({"call_id": id, "event": left, "at": t(wait), "queue": queue, "data": ["1", "1", wait.to_string()]})),
    }
    events
}

/// Six calls whose figures are worked out by hand: in the support queue
/// two answered at 10:00 (in 12 s and 30 s) and one at 11:00 (in 5 s), one
/// abandoned after 3 s (short: left out of the service level) and one
/// after 40 s; in the couriers' queue one that timed out after 300 s.
async fn contact_center_figures_as_worked_out_by_hand(backend: &str) {
    let a = TestApp::spawn(backend).await;
    let integration = a.token("integration", None).await;
    let mut events = Vec::new();
    events.extend(call("f1", "support", "10:00", 12, Ok(100)));
    events.extend(call("f2", "support", "10:05", 30, Ok(200)));
    events.extend(call("f3", "support", "10:10", 3, Err("ABANDON")));
    events.extend(call("f4", "support", "10:20", 40, Err("ABANDON")));
    events.extend(call("f5", "support", "11:00", 5, Ok(60)));
    events.extend(call("f6", "couriers", "11:30", 300, Err("EXITWITHTIMEOUT")));
    let (status, body) = post(&a, &integration, "/api/v1/calls/events", &json!(events)).await;
    assert_eq!(
        (status, body["rejected"].as_i64()),
        (200, Some(0)),
        "{body}"
    );
    // The admin says in Settings that the couriers' queue serves their line.
    let admin = a.signed_in("admin").await;
    let page = a.page(&admin, "/settings/channels").await;
    assert!(
        page.contains(">support<") && page.contains(">couriers<"),
        "the queues are listed: {page}"
    );
    let csrf = a.csrf(&admin).await;
    let form = |path: &'static str, fields: Vec<(&'static str, &'static str)>| {
        let (admin, url, csrf) = (admin.clone(), a.at(path), csrf.clone());
        async move {
            let mut fields: Vec<(&str, String)> =
                fields.into_iter().map(|(k, v)| (k, v.to_owned())).collect();
            fields.push(("csrf", csrf));
            admin.post(url).form(&fields).send().await.unwrap()
        }
    };
    let saved = form(
        "/settings/queues",
        vec![("queue", "couriers"), ("line", "couriers")],
    )
    .await;
    assert_eq!(saved.status(), 303);

    let get = |q: &str| {
        let path = format!("/api/v1/calls/metrics?from=2026-11-02&to=2026-11-02&{q}");
        let (a, token) = (&a, integration.clone());
        async move { a.get_json(&path, &token).await }
    };
    let (status, by_queue) = get("group_by=queue").await;
    assert_eq!(status, 200, "{by_queue}");
    let support = &by_queue["groups"][1];
    assert_eq!(support["key"], "support", "{by_queue}");
    assert_eq!(
        (
            support["offered"].as_i64(),
            support["answered"].as_i64(),
            support["abandoned"].as_i64()
        ),
        (Some(5), Some(3), Some(2))
    );
    // In time: 12 s and 5 s, of 4 (the 3-second abandon left out).
    assert_eq!(support["service_level"].as_f64(), Some(50.0), "{support}");
    assert_eq!(support["answer_rate"].as_f64(), Some(60.0));
    assert_eq!(support["abandonment_rate"].as_f64(), Some(40.0));
    // (12 + 30 + 5) / 3 and (100 + 200 + 60) / 3.
    assert_eq!(support["asa_seconds"].as_f64(), Some(15.7));
    assert_eq!(support["aht_seconds"].as_f64(), Some(120.0));
    assert_eq!(support["longest_wait_seconds"].as_i64(), Some(40));
    let couriers = &by_queue["groups"][0];
    assert_eq!(
        (
            couriers["key"].as_str(),
            couriers["service_level"].as_f64(),
            couriers["asa_seconds"].as_f64()
        ),
        (Some("couriers"), Some(0.0), None)
    );
    assert_eq!(by_queue["target"], json!({"percent": 80, "seconds": 20}));

    let (_, by_hour) = get("group_by=hour").await;
    let hours = by_hour["groups"].as_array().unwrap();
    assert_eq!(hours.len(), 24, "every hour of the day");
    assert_eq!(
        (hours[10]["key"].as_str(), hours[10]["offered"].as_i64()),
        (Some("10"), Some(4))
    );
    assert_eq!(hours[11]["offered"].as_i64(), Some(2));
    assert_eq!(hours[9]["offered"].as_i64(), Some(0));

    let (_, couriers_line) = get("group_by=all&line=couriers").await;
    assert_eq!(
        couriers_line["groups"][0]["offered"].as_i64(),
        Some(1),
        "{couriers_line}"
    );
    let (_, by_line) = get("group_by=line").await;
    let keys: Vec<&str> = by_line["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["key"].as_str())
        .collect();
    assert_eq!(keys, ["couriers", "customers"], "{by_line}");
    let (_, by_agent) = get("group_by=agent").await;
    let olga = by_agent["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "Olga")
        .unwrap();
    assert_eq!(olga["answered"].as_i64(), Some(3), "{by_agent}");

    // The same figures from `doorstep report --section calls`, as CSV.
    let out = a.data_dir.0.join("calls.csv");
    let o = crate::cli::doorstep(
        &a.db_url,
        &[
            "report",
            "--section",
            "calls",
            "--from",
            "2026-11-02",
            "--to",
            "2026-11-02",
            "--group-by",
            "queue",
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("2 groups, 6 calls offered"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let csv = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines,
        [
            "key,offered,answered,abandoned,answer_rate,service_level,asa_seconds,aht_seconds,abandonment_rate,longest_wait_seconds,share,target",
            // The timed-out caller did not hang up: not abandoned.
            "couriers,1,0,0,0,0,,,0,300,16.7,80/20",
            "support,5,3,2,60,50,15.7,120,40,40,83.3,80/20",
        ]
    );
    // A survey filter has no meaning for calls: said, and nothing written.
    let refused = a.data_dir.0.join("refused.csv");
    let o = crate::cli::doorstep(
        &a.db_url,
        &[
            "report",
            "--section",
            "calls",
            "--courier",
            "K-1",
            "--format",
            "json",
            "--out",
            refused.to_str().unwrap(),
        ],
        None,
    );
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--courier filters survey answers"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!refused.exists());

    // The same on the console's Calls page, with the calls by hour drawn.
    let dispatcher = a.signed_in("dispatcher").await;
    let page = a
        .page(&dispatcher, "/calls?from=2026-11-02&to=2026-11-02")
        .await;
    assert!(
        page.contains("50.0%") && page.contains("16 s") && page.contains("80% within 20 s"),
        "{page}"
    );
    assert!(page.contains("<svg"), "the calls by hour are drawn");
    // The day's staffing: 10:00–10:30 had 4 calls handled in 150 s on
    // average (A = 1/3 Erlang). One agent answers only 1 − ⅓·e^(−(1 − ⅓)·20/150)
    // = 69.5% within 20 s, so two were needed; one answered (in red); the
    // PBX logged no logins ("—" on duty).
    let staffing = &page[page.find("id=\"staffing\"").expect("the staffing section")..];
    assert!(
        staffing.contains("<td>10:00</td><td class=\"num\">4</td><td class=\"num\">150 s</td><td class=\"num strong\">2</td><td class=\"num\">—</td><td class=\"num failed-text\">1</td>"),
        "{staffing}"
    );
    let page = a
        .page(
            &dispatcher,
            "/calls?from=2026-11-02&to=2026-11-02&group_by=line&line=couriers",
        )
        .await;
    assert!(
        page.contains("Couriers") && !page.contains("Customers and partners</td>"),
        "{page}"
    );
    let operator = a.signed_in("operator").await;
    let r = operator.get(a.at("/calls")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    // The caller's personal file shows their calls, though they never ordered.
    let file = a.page(&operator, "/customers/%2B79161234567").await;
    assert!(
        file.contains("Call to support")
            && file.contains("Answered by Olga after 12 s; talked 100 s")
            && file.contains("Hung up after waiting 40 s"),
        "{file}"
    );
    // A case of the caller's: their call attached as a contact, once; a
    // stranger's call is not theirs to attach.
    let (status, opened) = post(&a, &integration, "/api/v1/cases",
        &json!({"channel": "chat", "category": "other", "customer_phone": "+79161234567", "text": "Мне звонили?"})).await;
    assert_eq!(status, 201, "{opened}");
    let number = opened["number"].as_i64().unwrap();
    let page = a.page(&operator, &format!("/cases/{number}")).await;
    assert!(
        page.contains("Attach as their contact") && page.contains("answered by Olga"),
        "{page}"
    );
    let csrf = a.csrf(&operator).await;
    for _ in 0..2 {
        let r = operator
            .post(a.at(&format!("/cases/{number}/calls")))
            .form(&[("call", "f1"), ("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
    }
    let id = opened["id"].as_str().unwrap();
    let (_, case) = a
        .get_json(&format!("/api/v1/cases/{id}"), &integration)
        .await;
    assert_eq!(case["contacts"], 2, "the chat and the call, once: {case}");
    let r = operator
        .post(a.at(&format!("/cases/{number}/calls")))
        .form(&[("call", "p-none"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Erased, the caller's number goes from the calls and their events.
    let erased = a
        .store
        .erase_customer(doorstep_store::Erasee::Phone("+79161234567"))
        .await
        .unwrap()
        .expect("known by their calls");
    let call = a.store.call("f1").await.unwrap().unwrap();
    assert_eq!(
        (call.caller, call.customer_phone.as_deref()),
        (None, Some(erased.pseudonym.as_str()))
    );

    // A target of 90/30: the 30-second answer is in time now (3 of 4).
    let refused = form(
        "/settings/service-level",
        vec![("service_level", "90 percent")],
    )
    .await;
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("The target was not saved"));
    let saved = form("/settings/service-level", vec![("service_level", "90/30")]).await;
    assert_eq!(saved.status(), 303);
    let (_, by_queue) = get("group_by=queue").await;
    assert_eq!(by_queue["target"], json!({"percent": 90, "seconds": 30}));
    assert_eq!(
        by_queue["groups"][1]["service_level"].as_f64(),
        Some(75.0),
        "{by_queue}"
    );

    let (status, problem) = get("group_by=shift").await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "group_by", "{problem}");
}

/// The figures kept in 15-minute slots equal the figures counted from the
/// calls, however a day's events arrive: in pieces, out of order, again,
/// through two servers at once, with wrap-up codes changed later — and
/// after the target changes and the slots are built anew.
async fn kept_slots_agree_with_the_calls_whatever_arrives_in_which_order(backend: &str) {
    use doorstep_domain::calls::CallEvent;
    use doorstep_store::calls::{CallCut, CallSums};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    let a = TestApp::spawn(backend).await;
    let b = a.beside().await;
    let country = doorstep_domain::Country::from_code("RU").unwrap();
    let mut rng = StdRng::seed_from_u64(27);
    let day = 1_793_566_800_000_i64; // 2026-11-02 00:00 Moscow
    let mut events: Vec<CallEvent> = Vec::new();
    for n in 0..300 {
        // Three days: a local day's figures by agent read its whole UTC
        // day from the day rows and its edges from the slots.
        let at = day + rng.gen_range(0..3 * 86_400) * 1000;
        let id = format!("k-{n}");
        let queue = ["support", "couriers"][n % 2];
        let ev = |name: &str, t: i64, agent: &str, data: Vec<String>| CallEvent {
            call_id: id.clone(),
            event: name.to_owned(),
            at: t,
            queue: queue.to_owned(),
            agent: agent.to_owned(),
            data,
        };
        events.push(ev(
            "ENTERQUEUE",
            at,
            "",
            vec![String::new(), format!("+7916{n:07}"), "1".into()],
        ));
        let wait: i64 = rng.gen_range(1..60);
        match rng.gen_range(0..10) {
            0 | 1 => events.push(ev(
                "ABANDON",
                at + wait * 1000,
                "",
                vec!["1".into(), "1".into(), wait.to_string()],
            )),
            2 => {} // still waiting
            _ => {
                let agent = format!("SIP/{}", 101 + rng.gen_range(0..4));
                let talk: i64 = rng.gen_range(30..300);
                events.push(ev(
                    "CONNECT",
                    at + wait * 1000,
                    &agent,
                    vec![wait.to_string(), String::new(), "1".into()],
                ));
                if rng.gen_bool(0.9) {
                    events.push(ev(
                        "COMPLETECALLER",
                        at + (wait + talk) * 1000,
                        &agent,
                        vec![wait.to_string(), talk.to_string(), "1".into()],
                    ));
                    let code = ["where_is_order", "complaint", "other"][rng.gen_range(0..3)];
                    events.push(ev(
                        "WRAPUP",
                        at + (wait + talk + 5) * 1000,
                        &agent,
                        vec![code.into()],
                    ));
                    if rng.gen_bool(0.2) {
                        // The reason changed later in the console.
                        events.push(ev(
                            "WRAPUP",
                            at + (wait + talk + 60) * 1000,
                            "olga",
                            vec!["payment".into()],
                        ));
                    }
                }
            }
        }
    }
    // Out of order, in pieces, half of them twice, through two servers.
    for i in (1..events.len()).rev() {
        events.swap(i, rng.gen_range(0..=i));
    }
    let pieces: Vec<Vec<CallEvent>> = events.chunks(37).map(<[CallEvent]>::to_vec).collect();
    let again: Vec<Vec<CallEvent>> = pieces.iter().step_by(2).cloned().collect();
    let (one, two) = tokio::join!(
        async {
            for p in &pieces {
                a.store.record_call_events(p, country).await.unwrap();
            }
        },
        async {
            for p in again.iter().rev() {
                b.store.record_call_events(p, country).await.unwrap();
            }
        },
    );
    let ((), ()) = (one, two);
    let sorted = |mut v: Vec<CallSums>| {
        v.sort_by(|x, y| {
            (x.slot, &x.queue, &x.agent, &x.reason).cmp(&(y.slot, &y.queue, &y.agent, &y.reason))
        });
        v
    };
    let periods = [
        (day, day + 86_400_000),
        (day + 86_400_000, day + 3 * 86_400_000),
        (day, day + 3 * 86_400_000),
    ];
    let (from, to) = periods[0];
    for ((target, short), (from, to)) in [(20, 5), (30, 5)]
        .into_iter()
        .flat_map(|t| periods.map(|p| (t, p)))
    {
        if target != 20 && (from, to) == periods[0] {
            a.store.rebuild_call_slots(target).await.unwrap();
        }
        for cut in [
            CallCut::Slots,
            CallCut::Queue,
            CallCut::Agent,
            CallCut::Reason,
        ] {
            let kept = sorted(
                a.store
                    .call_sums(from, to, cut, target, short)
                    .await
                    .unwrap(),
            );
            let counted = sorted(
                a.store
                    .call_sums_from_calls(from, to, cut, target, short)
                    .await
                    .unwrap(),
            );
            assert!(!counted.is_empty());
            assert_eq!(kept, counted, "{cut:?} at {target} s from {from} to {to}");
        }
    }
    // Slots kept for 30 s: a target of 20 s is counted from the calls.
    let counted = sorted(
        a.store
            .call_sums_from_calls(from, to, CallCut::Queue, 20, 5)
            .await
            .unwrap(),
    );
    let read = sorted(
        a.store
            .call_sums(from, to, CallCut::Queue, 20, 5)
            .await
            .unwrap(),
    );
    assert_eq!(read, counted);
}

/// The staffing view sets the agents on duty — as the PBX logged them
/// coming and going (ADDMEMBER, REMOVEMEMBER) — beside those needed and
/// those who answered; importing the log again adds nothing.
async fn staffing_sets_the_agents_on_duty_beside_those_needed(backend: &str) {
    let a = TestApp::spawn(backend).await;
    let dir = crate::helpers::DataDir::new();
    let log = dir.0.join("queue_log");
    // 2026-11-02, Moscow: 09:00 is 1793599200.
    std::fs::write(
        &log,
        "1793599200|NONE|support|SIP/101|ADDMEMBER|\n\
         1793599200|NONE|support|SIP/102|ADDMEMBER|\n\
         1793599800|s-1|support|NONE|ENTERQUEUE||+79161234567|1\n\
         1793599810|s-1|support|SIP/101|CONNECT|10|s-1.1|2\n\
         1793599900|s-1|support|SIP/101|COMPLETECALLER|10|90|1\n\
         1793601000|NONE|support|SIP/102|REMOVEMEMBER|\n\
         1793601600|s-2|support|NONE|ENTERQUEUE||+79161234568|1\n\
         1793601605|s-2|support|SIP/101|CONNECT|5|s-2.1|2\n\
         1793601700|s-2|support|SIP/101|COMPLETECALLER|5|95|1\n",
    )
    .unwrap();
    for round in 0..2 {
        let report =
            doorstep::import::calls::import_calls(&a.store, log.clone(), |_| {}, |_, _| {})
                .await
                .unwrap();
        assert_eq!(report.presence, if round == 0 { 3 } else { 0 }, "kept once");
    }
    let tz = jiff::tz::TimeZone::get("Europe/Moscow").unwrap();
    let day = jiff::civil::date(2026, 11, 2);
    let halves = doorstep::app::calls::staffing(&a.store, &tz, day, None)
        .await
        .unwrap();
    let seen: Vec<(&str, Option<usize>, usize)> = halves
        .iter()
        .map(|h| (h.start.as_str(), h.on_duty, h.answered_by))
        .collect();
    assert_eq!(seen, vec![("09:00", Some(2), 1), ("09:30", Some(1), 1)]);
    let quality = a.signed_in("quality").await;
    let page = a
        .page(
            &quality,
            "/calls?from=2026-11-02&to=2026-11-02&day=2026-11-02",
        )
        .await;
    assert!(
        page.contains("Agents on duty") || page.contains("Операторов на линии"),
        "{page}"
    );
}
