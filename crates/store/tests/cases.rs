//! Cases, remedies and the bonus ledger under concurrency, on both
//! backends and with two servers on one database: one case per contact
//! and per open problem, one credit per idempotency key, one reversal per
//! entry, no debit past the balance.

use std::sync::Arc;

use doorstep_domain::helpdesk::cases::{CaseStatus, Direction, Fault};
use doorstep_domain::helpdesk::remedies::{RemedyStatus, RemedyType};
use doorstep_store::helpdesk::cases::{CaseRefusal, CaseView, NewCase, NewContact, Opened};
use doorstep_store::helpdesk::ledger::{LedgerRefusal, NewRemedy};
use doorstep_store::helpdesk::Actor;
use doorstep_store::testing::TestDb;
use doorstep_store::Store;
use tokio::sync::Barrier;

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { super::$name("sqlite").await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { super::$name("postgres").await } )* }
    };
}

on_both_backends!(
    one_contact_sent_by_eight_clients_at_once_opens_one_case,
    contacts_about_one_order_join_its_open_case_until_it_is_resolved,
    a_credit_sent_eight_times_at_once_credits_once_and_reverses_once,
    debits_at_once_never_take_the_balance_below_zero,
    a_credit_over_the_limit_waits_for_one_approval,
);

const OPERATOR: Actor<'static> = Actor {
    id: "u-operator",
    login: "olga",
    overrides: false,
};
const DISPATCHER: Actor<'static> = Actor {
    id: "u-dispatcher",
    login: "dmitry",
    overrides: true,
};

fn contact<'a>(order: Option<&'a str>, external_id: Option<&'a str>, text: &'a str) -> NewCase<'a> {
    NewCase {
        channel: "chat",
        line: "customers",
        category: "late",
        priority: "normal",
        order_number: order,
        customer_phone: Some("+79161234567"),
        text,
        external_id,
        direction: Direction::Inbound,
        author: "crm",
        incident_id: None,
        conversation: None,
    }
}

async fn two_servers(backend: &str) -> (TestDb, Store, Store) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url).await.unwrap();
    let second = Store::connect(&db.url).await.unwrap();
    (db, store, second)
}

/// Runs `n` copies of `work` at once, alternating the two servers.
async fn at_once<T, F, Fut>(stores: [&Store; 2], n: usize, work: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Store, usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|k| {
            let barrier = Arc::clone(&barrier);
            let run = work(stores[k % 2].clone(), k);
            tokio::spawn(async move {
                barrier.wait().await;
                run.await
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

async fn event_names(store: &Store) -> Vec<String> {
    store.number_events().await.unwrap();
    store
        .events_after(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect()
}

fn count(names: &[String], name: &str) -> usize {
    names.iter().filter(|n| *n == name).count()
}

/// The same chat message, delivered to two servers by a CRM that resends
/// on every hiccup, eight times at once: one case, one contact, one
/// `case.created`; every sender is told the same case.
async fn one_contact_sent_by_eight_clients_at_once_opens_one_case(backend: &str) {
    let (_db, store, second) = two_servers(backend).await;
    let opened = at_once([&store, &second], 8, |s, _| async move {
        s.open_case(&contact(Some("A-1"), Some("chat-77"), "Where is my order?"))
            .await
            .unwrap()
    })
    .await;
    let created = opened
        .iter()
        .filter(|o| matches!(o, Opened::Created(_)))
        .count();
    assert_eq!(created, 1, "{opened:?}");
    let id = &opened[0].case().id;
    assert!(
        opened.iter().all(|o| &o.case().id == id),
        "one case for all"
    );
    let entries = store.case_entries(id).await.unwrap();
    assert_eq!(entries.len(), 1, "one contact: {entries:?}");
    assert_eq!(store.case(id).await.unwrap().unwrap().contacts, 1);
    let names = event_names(&store).await;
    assert_eq!(count(&names, "case.created"), 1);
    assert_eq!(count(&names, "case.updated"), 0);
    store.close().await;
    second.close().await;
}

/// Eight different messages about one order at once join one case; after
/// it is resolved the next contact opens a new case, and the old one
/// cannot be reopened while the new one is open.
async fn contacts_about_one_order_join_its_open_case_until_it_is_resolved(backend: &str) {
    let (_db, store, second) = two_servers(backend).await;
    let opened = at_once([&store, &second], 8, |s, k| async move {
        let id = format!("msg-{k}");
        s.open_case(&contact(Some("A-1"), Some(&id), "Still nothing"))
            .await
            .unwrap()
    })
    .await;
    assert_eq!(
        opened
            .iter()
            .filter(|o| matches!(o, Opened::Created(_)))
            .count(),
        1
    );
    let first = store.case(&opened[0].case().id).await.unwrap().unwrap();
    assert_eq!(first.contacts, 8, "every message counted on the one case");
    assert_eq!(store.case_entries(&first.id).await.unwrap().len(), 8);

    // The operator takes it, answers, waits on the customer; the customer
    // writes back and the case is work again.
    let taken = store
        .assign_case(&first.id, OPERATOR, OPERATOR)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (taken.status.as_str(), taken.owner_login.as_deref()),
        ("open", Some("olga"))
    );
    assert_eq!(
        store
            .assign_case(
                &first.id,
                Actor {
                    id: "u-other",
                    login: "oleg",
                    overrides: false
                },
                Actor {
                    id: "u-other",
                    login: "oleg",
                    overrides: false
                }
            )
            .await
            .unwrap(),
        Err(CaseRefusal::OwnedBy("olga".to_owned())),
        "another operator cannot take it over"
    );
    let reply = NewContact {
        channel: "chat",
        direction: Direction::Outbound,
        text: "Your order is on its way",
        author: "olga",
        external_id: None,
        by_person: true,
        attachment_id: None,
        follows_previous: false,
    };
    let (answered, new) = store.add_contact(&first.id, &reply).await.unwrap();
    let answered = answered.unwrap();
    assert!(new && answered.first_response_at.is_some());
    assert_eq!(
        answered.contacts, 8,
        "a reply is not the customer's contact"
    );
    store
        .set_case_status(&first.id, CaseStatus::WaitingCustomer, OPERATOR)
        .await
        .unwrap()
        .unwrap();
    let back = store
        .open_case(&contact(Some("A-1"), Some("msg-late"), "It came, but cold"))
        .await
        .unwrap();
    assert!(matches!(&back, Opened::Joined(c) if c.id == first.id && c.status == "open"));

    let resolved = store
        .set_case_status(&first.id, CaseStatus::Resolved, OPERATOR)
        .await
        .unwrap()
        .unwrap();
    assert!(resolved.resolved_at.is_some());
    let fault = store
        .record_fault(
            &first.id,
            Fault::Courier,
            Some("left it at the door"),
            OPERATOR,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fault.handed_to.as_deref(), Some("courier"));
    let handed = store
        .cases(&doorstep_store::helpdesk::cases::CaseFilter::new(
            CaseView::Department("courier".to_owned()),
        ))
        .await
        .unwrap();
    assert_eq!(handed.len(), 1, "the courier department's inbox has it");
    let (refused, _) = store
        .add_contact(
            &first.id,
            &NewContact {
                direction: Direction::Inbound,
                by_person: false,
                ..reply.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(refused, Err(CaseRefusal::NotOpen));
    let again = store
        .open_case(&contact(Some("A-1"), Some("msg-next-week"), "Late again"))
        .await
        .unwrap();
    let Opened::Created(second_case) = again else {
        panic!("a contact after resolution opens a new case: {again:?}")
    };
    assert_eq!(second_case.number, first.number + 1);
    assert!(matches!(
        store
            .set_case_status(&first.id, CaseStatus::Open, OPERATOR)
            .await
            .unwrap(),
        Err(CaseRefusal::AnotherOpen(n)) if n == second_case.number
    ));
    let names = event_names(&store).await;
    assert_eq!(count(&names, "case.created"), 2);
    assert_eq!(count(&names, "case.resolved"), 1);
    assert_eq!(count(&names, "case.handed_off"), 1);
    store.close().await;
    second.close().await;
}

async fn a_case(store: &Store) -> String {
    store
        .open_case(&contact(Some("A-9"), None, "Late by two hours"))
        .await
        .unwrap()
        .case()
        .id
        .clone()
}

fn credit<'a>(case_id: &'a str, key: &'a str, amount: i64, limit: Option<i64>) -> NewRemedy<'a> {
    NewRemedy {
        case_id,
        kind: RemedyType::BonusCredit,
        amount: Some(amount),
        currency: "RUB",
        idempotency_key: key,
        note: None,
        actor: OPERATOR,
        limit,
    }
}

/// A double click on two servers, eight times at once: one remedy, one
/// ledger entry, balance 300; the key again with another amount is
/// refused; the reversal, also sent eight times, brings it to 0 once.
async fn a_credit_sent_eight_times_at_once_credits_once_and_reverses_once(backend: &str) {
    let (_db, store, second) = two_servers(backend).await;
    let case_id = a_case(&store).await;
    let results = at_once([&store, &second], 8, |s, _| {
        let case_id = case_id.clone();
        async move {
            s.apply_remedy(&credit(&case_id, "click-1", 30_000, None))
                .await
                .unwrap()
                .unwrap()
        }
    })
    .await;
    assert_eq!(results.iter().filter(|(_, new)| *new).count(), 1);
    assert!(results.iter().all(|(r, _)| r.id == results[0].0.id));
    assert_eq!(results[0].0.status, RemedyStatus::Applied.as_str());
    let ledger = store.ledger("+79161234567", 100).await.unwrap();
    assert_eq!((ledger.balance, ledger.entries.len()), (30_000, 1));
    assert!(matches!(
        store
            .apply_remedy(&credit(&case_id, "click-1", 50_000, None))
            .await
            .unwrap(),
        Err(LedgerRefusal::KeyReused(_))
    ));

    let entry = ledger.entries[0].id.clone();
    let reversals = at_once([&store, &second], 8, |s, _| {
        let entry = entry.clone();
        async move {
            s.reverse_entry(&entry, "credited to the wrong customer", "dmitry")
                .await
                .unwrap()
                .unwrap()
        }
    })
    .await;
    assert_eq!(reversals.iter().filter(|(_, new)| *new).count(), 1);
    let ledger = store.ledger("+79161234567", 100).await.unwrap();
    assert_eq!((ledger.balance, ledger.entries.len()), (0, 2));
    assert_eq!(
        store
            .reverse_entry(&reversals[0].0.id, "undo the undo", "dmitry")
            .await
            .unwrap(),
        Err(LedgerRefusal::IsReversal)
    );
    let remedy = store.remedy(&results[0].0.id).await.unwrap().unwrap();
    assert_eq!(remedy.status, "reversed");
    let names = event_names(&store).await;
    assert_eq!(count(&names, "remedy.applied"), 1);
    assert_eq!(count(&names, "ledger.entry"), 2);
    store.close().await;
    second.close().await;
}

/// 300 credited; eight debits of 100 at once on two servers: three go
/// through, five are refused with the balance, which ends at 0.
async fn debits_at_once_never_take_the_balance_below_zero(backend: &str) {
    let (_db, store, second) = two_servers(backend).await;
    let case_id = a_case(&store).await;
    store
        .apply_remedy(&credit(&case_id, "k", 30_000, None))
        .await
        .unwrap()
        .unwrap();
    let debits = at_once([&store, &second], 8, |s, k| async move {
        s.debit(
            "+79161234567",
            10_000,
            "RUB",
            &format!("checkout-{k}"),
            Some("paid with bonuses"),
            "shop",
        )
        .await
        .unwrap()
    })
    .await;
    let taken = debits.iter().filter(|d| d.is_ok()).count();
    assert_eq!(taken, 3, "{debits:?}");
    assert!(debits
        .iter()
        .filter_map(|d| d.as_ref().err())
        .all(|e| matches!(e, LedgerRefusal::Insufficient(b) if *b < 10_000)));
    assert_eq!(store.ledger("+79161234567", 100).await.unwrap().balance, 0);
    // A retried debit is the same debit, not a refusal for want of money.
    let retry = store
        .debit("+79161234567", 10_000, "RUB", "checkout-0", None, "shop")
        .await
        .unwrap();
    if debits[0].is_ok() {
        assert!(matches!(retry, Ok((_, false))), "{retry:?}");
    }
    store.close().await;
    second.close().await;
}

/// An operator's 600 over a limit of 500 waits; two dispatchers approve
/// it at once: one credit of 600. A refusal says why.
async fn a_credit_over_the_limit_waits_for_one_approval(backend: &str) {
    let (_db, store, second) = two_servers(backend).await;
    let case_id = a_case(&store).await;
    let (under, _) = store
        .apply_remedy(&credit(&case_id, "a", 20_000, Some(50_000)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(under.status, "applied");
    let (over, _) = store
        .apply_remedy(&credit(&case_id, "b", 40_000, Some(50_000)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(over.status, "pending_approval", "200 + 400 > 500");
    assert_eq!(
        store.ledger("+79161234567", 10).await.unwrap().balance,
        20_000
    );
    assert_eq!(store.pending_count().await.unwrap(), 1);
    let decisions = at_once([&store, &second], 2, |s, _| {
        let id = over.id.clone();
        async move { s.decide_remedy(&id, true, None, DISPATCHER).await.unwrap() }
    })
    .await;
    assert_eq!(
        decisions.iter().filter(|d| d.is_ok()).count(),
        1,
        "{decisions:?}"
    );
    assert!(decisions
        .iter()
        .any(|d| matches!(d, Err(LedgerRefusal::NotPending(s)) if s == "applied")));
    assert_eq!(
        store.ledger("+79161234567", 10).await.unwrap().balance,
        60_000
    );
    let (third, _) = store
        .apply_remedy(&credit(&case_id, "c", 10_000, Some(50_000)))
        .await
        .unwrap()
        .unwrap();
    let (refused, _) = store
        .decide_remedy(
            &third.id,
            false,
            Some("already compensated twice"),
            DISPATCHER,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (refused.status.as_str(), refused.decision_note.as_deref()),
        ("refused", Some("already compensated twice"))
    );
    assert_eq!(
        store.ledger("+79161234567", 10).await.unwrap().balance,
        60_000
    );
    // A redelivery goes to the company's systems; their outcome comes back
    // once.
    let (redeliver, _) = store
        .apply_remedy(&NewRemedy {
            kind: RemedyType::RedeliverFree,
            amount: None,
            ..credit(&case_id, "d", 0, Some(50_000))
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(redeliver.status, "requested");
    let done = store
        .remedy_outcome(
            &redeliver.id,
            RemedyStatus::Done,
            Some("courier K-7"),
            "oms",
        )
        .await
        .unwrap();
    assert!(matches!(done, Ok((_, true))));
    assert!(matches!(
        store
            .remedy_outcome(&redeliver.id, RemedyStatus::Done, None, "oms")
            .await
            .unwrap(),
        Ok((_, false))
    ));
    assert!(matches!(
        store
            .remedy_outcome(&redeliver.id, RemedyStatus::Failed, None, "oms")
            .await
            .unwrap(),
        Err(LedgerRefusal::NotPending(s)) if s == "done"
    ));
    store.close().await;
    second.close().await;
}
