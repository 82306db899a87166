//! The e-mail channel against a real mail system (Dovecot's IMAP, an SMTP
//! server delivering to Maildirs): a customer's e-mail opens a case once
//! however many servers read the mailbox; the status page's notice and an
//! operator's reply go back in the same thread, from the line's address,
//! in the customer's language; the customer's answer joins the case by the
//! thread's headers; automatic mail is left alone; a mailbox read again
//! adds nothing.

use mail_parser::MessageParser;
use serde_json::json;

use crate::helpers::{order_json, TestApp};
use crate::mailserver::{MailServer, PASSWORD};
use crate::on_both_backends;
use crate::surveys::{post, with_orders_and_survey};

on_both_backends!(
    a_customers_email_becomes_a_case_and_the_reply_goes_back_in_its_thread,
    an_admin_sets_up_the_channels_in_settings
);

struct Seen {
    subject: String,
    from: String,
    message_id: String,
    in_reply_to: Vec<String>,
    references: Vec<String>,
    text: String,
}

fn seen(raw: &[u8]) -> Seen {
    let m = MessageParser::default().parse(raw).unwrap();
    let list = |v: &mail_parser::HeaderValue<'_>| {
        v.as_text_list()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    };
    Seen {
        subject: m.subject().unwrap_or_default().to_owned(),
        from: m
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_owned(),
        message_id: m.message_id().unwrap_or_default().to_owned(),
        in_reply_to: list(m.in_reply_to()),
        references: list(m.references()),
        text: m.body_text(0).unwrap_or_default().into_owned(),
    }
}

/// Sets the customers line's mailbox on the test's mail server.
async fn set_mailbox(a: &TestApp, mail: &MailServer, address: &str, password: &str, folder: &str) {
    a.store
        .set_mailbox(&doorstep_store::helpdesk::mail::NewMailbox {
            line: "customers",
            address,
            host: "127.0.0.1",
            port: mail.imap_port,
            security: "none",
            username: "care",
            password,
            folder,
        })
        .await
        .unwrap();
}

/// Waits until `user` has `n` messages (the background notices job may
/// send them before the test asks).
async fn inbox(mail: &MailServer, user: &str, n: usize) -> Vec<Vec<u8>> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let got = mail.inbox(user);
        if got.len() >= n {
            return got;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{user} has {} messages, not {n}",
            got.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn a_customers_email_becomes_a_case_and_the_reply_goes_back_in_its_thread(backend: &str) {
    let mail = MailServer::start(&["care", "anna"]);
    let a = TestApp::spawn(backend).await;
    let b = a.beside().await;
    doorstep::mail::Smtp {
        host: "127.0.0.1".into(),
        port: mail.smtp_port,
        security: doorstep::mail::Security::None,
        username: String::new(),
        password: String::new(),
        from: "Doorstep <noreply@shop.test>".into(),
    }
    .save(&a.store)
    .await
    .unwrap();
    a.store.set_setting("quiet_hours", "").await.unwrap();
    let mut order = order_json("A-17", "+79161234567", "K-1");
    order["customer_email"] = json!("Anna@Cust.test");
    let integration = with_orders_and_survey(&a, vec![order]).await;
    set_mailbox(
        &a,
        &mail,
        "Служба заботы <care@shop.test>",
        PASSWORD,
        "INBOX",
    )
    .await;

    mail.send(
        "From: Anna <anna@cust.test>\nTo: care@shop.test\nSubject: Заказ A-17 не пришёл\n\
         Message-ID: <m1@cust.test>\nContent-Type: text/plain; charset=utf-8\n\n\
         Курьер так и не приехал.\n",
    )
    .await;
    // An out-of-office answer to anything: never a case.
    mail.send(
        "From: bob@cust.test\nTo: care@shop.test\nSubject: Away\nAuto-Submitted: auto-replied\n\
         Message-ID: <away@cust.test>\n\nI am away.\n",
    )
    .await;

    // Two servers read the mailbox at the same moment: one case.
    let (x, y) = tokio::join!(
        doorstep::app::helpdesk::email::read_mailboxes(&a.state),
        doorstep::app::helpdesk::email::read_mailboxes(&b.state),
    );
    x.unwrap();
    y.unwrap();
    let (status, list) = a
        .get_json("/api/v1/cases?customer_phone=%2B79161234567", &integration)
        .await;
    assert_eq!(status, 200, "{list}");
    let cases = list["cases"].as_array().unwrap();
    assert_eq!(
        cases.len(),
        1,
        "one case, the away message left alone: {list}"
    );
    let id = cases[0]["id"].as_str().unwrap().to_owned();
    let (_, case) = a
        .get_json(&format!("/api/v1/cases/{id}"), &integration)
        .await;
    assert_eq!(case["order_number"], "A-17", "found by the subject: {case}");
    assert_eq!(case["channel"], "email", "{case}");
    assert_eq!(case["customer_phone"], "+79161234567", "{case}");
    assert_eq!(case["contacts"], 1, "{case}");
    let number = case["number"].as_i64().unwrap();
    let operator = a.signed_in("operator").await;
    let page = a.page(&operator, &format!("/cases/{number}")).await;
    assert!(
        page.contains("Replies go by e-mail to anna@cust.test"),
        "the case says where its replies go"
    );
    let box_state = a.store.mailbox("customers").await.unwrap().unwrap();
    assert!(
        box_state.last_uid >= 2 && box_state.last_error.is_none(),
        "{box_state:?}"
    );

    // The status page's link goes back in the thread, from the line.
    doorstep::app::helpdesk::notices::run_due(&a.state)
        .await
        .unwrap();
    let got = inbox(&mail, "anna", 1).await;
    let notice = seen(&got[0]);
    assert_eq!(notice.from, "care@shop.test");
    assert_eq!(notice.in_reply_to, vec!["m1@cust.test"]);
    assert!(
        notice.subject.contains(&format!("[#{number}]")),
        "{}",
        notice.subject
    );
    assert!(notice.text.contains("/c/"), "{}", notice.text);

    // The operator answers from the case: an e-mail in the same thread,
    // in the customer's language (Russian, the deployment's).
    let (status, _) = post(
        &a,
        &integration,
        &format!("/api/v1/cases/{id}/contacts"),
        &json!({"channel": "email", "direction": "outbound", "text": "Анна, курьер будет у вас до 18:00."}),
    )
    .await;
    assert_eq!(status, 201);
    doorstep::app::helpdesk::notices::run_due(&a.state)
        .await
        .unwrap();
    let got = inbox(&mail, "anna", 2).await;
    let reply = seen(&got[1]);
    assert_eq!(reply.from, "care@shop.test");
    assert!(
        reply.subject.starts_with("Re: ") && reply.subject.contains(&format!("[#{number}]")),
        "{}",
        reply.subject
    );
    assert_eq!(reply.in_reply_to, vec!["m1@cust.test"]);
    assert!(
        reply.references.contains(&"m1@cust.test".to_owned()),
        "{:?}",
        reply.references
    );
    assert!(
        reply.text.contains("курьер будет у вас до 18:00"),
        "{}",
        reply.text
    );
    assert!(
        reply.text.contains(&format!("Ваше обращение № {number}")),
        "{}",
        reply.text
    );
    let entries = a.store.case_entries(&id).await.unwrap();
    let outbound = entries
        .iter()
        .filter(|e| e.direction.as_deref() == Some("outbound"))
        .count();
    assert_eq!(outbound, 2, "the reply once, the notice once: {entries:?}");

    // The customer answers the reply with a photo (and a "photo" that is
    // not one); the subject lost its number, the headers still find the
    // case.
    let png = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(crate::helpers::tiny_png())
    };
    mail.send(&format!(
        "From: anna@cust.test\nTo: care@shop.test\nSubject: Re: ваш ответ\n\
         Message-ID: <m2@cust.test>\nIn-Reply-To: <{id}>\nReferences: <m1@cust.test> <{id}>\n\
         MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n\
         --b1\nContent-Type: text/plain; charset=utf-8\n\nСпасибо, жду.\n\n\
         > Анна, курьер будет у вас до 18:00.\n\
         --b1\nContent-Type: image/png; name=\"box.png\"\nContent-Disposition: attachment; filename=\"box.png\"\n\
         Content-Transfer-Encoding: base64\n\n{png}\n\
         --b1\nContent-Type: image/jpeg; name=\"fake.jpg\"\nContent-Disposition: attachment; filename=\"fake.jpg\"\n\n\
         not a photo at all\n--b1--\n",
        id = reply.message_id
    ))
    .await;
    doorstep::app::helpdesk::email::read_mailboxes(&b.state)
        .await
        .unwrap();
    let (_, list) = a
        .get_json("/api/v1/cases?customer_phone=%2B79161234567", &integration)
        .await;
    assert_eq!(list["cases"].as_array().unwrap().len(), 1, "{list}");
    let (_, case) = a
        .get_json(&format!("/api/v1/cases/{id}"), &integration)
        .await;
    assert_eq!(case["contacts"], 2, "{case}");
    let entries = a.store.case_entries(&id).await.unwrap();
    let last = entries
        .iter()
        .rev()
        .find(|e| e.direction.as_deref() == Some("inbound") && e.attachment_id.is_none())
        .unwrap();
    assert_eq!(last.body, "Спасибо, жду.", "without the quote: {last:?}");
    // The photo is on the case (one contact all the same); the fake is not.
    let photos: Vec<_> = entries
        .iter()
        .filter_map(|e| e.attachment_id.clone())
        .collect();
    assert_eq!(photos.len(), 1, "{entries:?}");
    // (From the server that read it: servers of one database share their
    // data directory, which these two test servers do not.)
    let photo = operator
        .get(b.at(&format!("/cases/{number}/photos/{}", photos[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(photo.status(), 200);
    assert_eq!(photo.headers()["content-type"], "image/png");
    assert_eq!(
        photo.bytes().await.unwrap().to_vec(),
        crate::helpers::tiny_png()
    );

    // The mailbox read from its start again (a new UIDVALIDITY): nothing
    // is added twice.
    set_mailbox(&a, &mail, "care@shop.test", PASSWORD, "inbox").await;
    let taken = doorstep::app::helpdesk::email::read_mailboxes(&a.state)
        .await
        .unwrap();
    assert_eq!(taken, 0);
    let (_, case) = a
        .get_json(&format!("/api/v1/cases/{id}"), &integration)
        .await;
    assert_eq!(case["contacts"], 2, "{case}");

    // A wrong password: the mailbox says why, nothing else changes.
    set_mailbox(&a, &mail, "care@shop.test", "wrong", "inbox").await;
    doorstep::app::helpdesk::email::read_mailboxes(&a.state)
        .await
        .unwrap();
    let failed = a.store.mailbox("customers").await.unwrap().unwrap();
    assert!(
        failed
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("refused to sign in")),
        "{failed:?}"
    );
}

/// Settings → Channels: a mailbox that cannot be read is refused with the
/// server's words and what was typed kept (but the password); a good one
/// is saved and its reading shows; a gateway is added (its secret shown
/// once) and removed; only an admin reaches the page.
async fn an_admin_sets_up_the_channels_in_settings(backend: &str) {
    let mail = MailServer::start(&["care"]);
    let a = TestApp::spawn(backend).await;
    let admin = a.signed_in("admin").await;
    let page = a.page(&admin, "/settings").await;
    assert!(
        page.contains("href=\"/settings/channels\""),
        "linked from Settings"
    );
    let page = a.page(&admin, "/settings/channels").await;
    assert!(page.contains("No mailbox yet"), "{page}");
    let csrf = a.csrf(&admin).await;
    let port = mail.imap_port.to_string();
    let post = |path: &'static str, fields: Vec<(&'static str, String)>| {
        let admin = admin.clone();
        let url = a.at(path);
        let csrf = csrf.clone();
        async move {
            let mut fields = fields;
            fields.push(("csrf", csrf));
            admin.post(url).form(&fields).send().await.unwrap()
        }
    };
    let mailbox = |password: &str, port: &str| {
        vec![
            ("line", "customers".to_owned()),
            ("address", "Care <care@shop.test>".to_owned()),
            ("host", "127.0.0.1".to_owned()),
            ("port", port.to_owned()),
            ("security", "none".to_owned()),
            ("username", "care".to_owned()),
            ("password", password.to_owned()),
            ("folder", "INBOX".to_owned()),
        ]
    };

    let refused = post("/settings/mailboxes", mailbox("wrong secret", &port)).await;
    assert_eq!(refused.status(), 200);
    let body = refused.text().await.unwrap();
    assert!(
        body.contains("cannot be read, so it was not saved"),
        "{body}"
    );
    assert!(
        body.contains("value=\"127.0.0.1\"") && !body.contains("wrong secret"),
        "the form keeps what was typed, but the password"
    );
    let refused = post("/settings/mailboxes", mailbox(PASSWORD, "imap")).await;
    let body = refused.text().await.unwrap();
    assert!(body.contains("“imap” is not a port"), "{body}");
    assert!(
        a.store.mailbox("customers").await.unwrap().is_none(),
        "nothing saved"
    );

    let saved = post("/settings/mailboxes", mailbox(PASSWORD, &port)).await;
    assert_eq!(saved.status(), 303);
    assert_eq!(
        saved.headers()["location"],
        "/settings/channels?saved=customers"
    );
    let page = a.page(&admin, "/settings/channels?saved=customers").await;
    assert!(
        page.contains("care@shop.test") && page.contains("not read yet"),
        "{page}"
    );
    doorstep::app::helpdesk::email::read_mailboxes(&a.state)
        .await
        .unwrap();
    let page = a.page(&admin, "/settings/channels").await;
    assert!(!page.contains("not read yet"), "its reading shows: {page}");

    let refused = post(
        "/settings/gateways",
        vec![
            ("name", "Tele Gram".to_owned()),
            ("channel", "messenger".to_owned()),
        ],
    )
    .await;
    let body = refused.text().await.unwrap();
    assert!(body.contains("lower-case Latin letters"), "{body}");
    let added = post(
        "/settings/gateways",
        vec![
            ("name", "telegram".to_owned()),
            ("channel", "messenger".to_owned()),
        ],
    )
    .await;
    assert_eq!(added.status(), 200);
    let body = added.text().await.unwrap();
    let secret = crate::helpers::shown_secret(&body);
    let gateway = a.store.gateways().await.unwrap().pop().expect("added");
    assert_eq!(gateway.secret, secret, "the secret shown is the gateway's");
    assert!(
        body.contains(&format!("/hooks/gateways/{}", gateway.id)),
        "{body}"
    );
    let page = a.page(&admin, "/settings/channels").await;
    assert!(
        page.contains("never heard from") && !page.contains(&secret),
        "{page}"
    );
    let removed = admin
        .post(a.at(&format!("/settings/gateways/{}/remove", gateway.id)))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 303);
    assert!(a.store.gateways().await.unwrap().is_empty());
    let removed = admin
        .post(a.at("/settings/mailboxes/customers/remove"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 303);
    assert!(a.store.mailbox("customers").await.unwrap().is_none());

    let dispatcher = a.signed_in("dispatcher").await;
    let r = dispatcher
        .get(a.at("/settings/channels"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}
