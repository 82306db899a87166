//! The `doorstep` binary run as a process, as an administrator would.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use doorstep_store::testing::TestDb;
use doorstep_store::Store;

use crate::on_both_backends;

on_both_backends!(
    import_reads_a_messy_office_export,
    import_refuses_files_that_are_not_orders,
    accounts_tokens_and_enrolment_from_the_command_line,
    an_older_binary_refuses_a_newer_database,
    a_customer_is_erased_from_the_command_line,
    reports_in_csv_json_and_xlsx,
    a_mailbox_is_checked_before_it_is_saved,
    calls_are_imported_from_a_queue_log_and_a_cdr,
);

pub fn doorstep(database: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_doorstep"))
        .args(args)
        .env("DOORSTEP_DATABASE", database)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run doorstep");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("doorstep-{}-{name}", uuid::Uuid::new_v4()));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// What a Russian office's Excel saves: Windows-1251, `;`, local dates,
/// decimal commas, columns in its own order and one it added.
const MESSY: &str = "Комментарий;order_number;city;customer_phone;customer_name;promised_from;promised_to;delivered_at;amount;courier_id;courier_name\r\n\
\"позвонить\r\nзаранее\";A-1;Москва;8 (916) 123-45-67;Анна Петрова;03.11.2026 14:00;03.11.2026 15:00;03.11.2026 14:40;1 234,50;K-1;Иван Смирнов\r\n\
;A-2;Москва;12345;Пётр;03.11.2026 14:00;03.11.2026 15:00;;100;K-1;Иван Смирнов\r\n\
;A-3;Москва;+7 916 000-00-00;Олег;31.02.2026 10:00;03.11.2026 15:00;;;K-2;\r\n\
;A-4;Казань;89160000001;;2026-11-03T10:00:00+03:00;2026-11-03T11:00:00+03:00;;99.90;;\r\n";

async fn import_reads_a_messy_office_export(backend: &str) {
    let db = TestDb::new(backend).await;
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(MESSY);
    let file = temp_file("orders.csv", &cp1251);
    let out = doorstep(&db.url, &["import", "orders", file.to_str().unwrap()], None);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "some rows rejected: {said}");
    assert!(
        said.contains("line 4: customer_phone: \"12345\" is not a phone number"),
        "{said}"
    );
    assert!(
        said.contains("line 5: promised_from: \"31.02.2026 10:00\" is not a date"),
        "{said}"
    );
    assert!(
        said.contains("imported: 2, updated: 0, unchanged: 0, rejected: 2"),
        "{said}"
    );
    assert!(said.contains("windows-1251"), "{said}");

    let store = Store::connect(&db.url).await.unwrap();
    let a1 = store.order("A-1").await.unwrap().unwrap();
    assert_eq!(
        (
            a1.customer_phone.as_str(),
            a1.amount_minor,
            a1.customer_name.as_deref()
        ),
        ("+79161234567", Some(123_450), Some("Анна Петрова"))
    );
    assert_eq!(a1.courier_name.as_deref(), Some("Иван Смирнов"));
    store.close().await;

    let again = doorstep(&db.url, &["import", "orders", file.to_str().unwrap()], None);
    assert!(
        text(&again).contains("imported: 0, updated: 0, unchanged: 2, rejected: 2"),
        "{}",
        text(&again)
    );

    // The same orders as clean UTF-8 with a BOM and commas: all good, exit 0.
    let clean = "\u{feff}order_number,customer_phone,city,promised_from,promised_to,delivered_at,amount,courier_id\n\
A-1,+79161234567,Москва,2026-11-03 14:00,2026-11-03 15:00,2026-11-03T11:40:00Z,\"1234,50\",K-1\n";
    let file = temp_file("clean.csv", clean.as_bytes());
    let out = doorstep(&db.url, &["import", "orders", file.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("unchanged: 1"), "{}", text(&out));

    // The messy file with LF line ends (a quoted value over two lines
    // still): the rows are on the same lines as with CRLF.
    let messy_lf = MESSY.replace("\r\n", "\n");
    let (lf, _, _) = encoding_rs::WINDOWS_1251.encode(&messy_lf);
    let file = temp_file("orders-lf.csv", &lf);
    let said = text(&doorstep(
        &db.url,
        &["import", "orders", file.to_str().unwrap()],
        None,
    ));
    assert!(said.contains("line 4: customer_phone: \"12345\""), "{said}");
    assert!(
        said.contains("line 5: promised_from: \"31.02.2026 10:00\""),
        "{said}"
    );
}

async fn import_refuses_files_that_are_not_orders(backend: &str) {
    let db = TestDb::new(backend).await;
    let xlsx = temp_file("orders.xlsx", b"PK\x03\x04\x14\x00\x06\x00binary");
    let out = doorstep(&db.url, &["import", "orders", xlsx.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("Excel workbook"), "{}", text(&out));

    let wrong = temp_file("calls.csv", b"call_id;queue;wait\n1;main;20\n");
    let out = doorstep(
        &db.url,
        &["import", "orders", wrong.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("the header has no column order_number, customer_phone, city, promised_from, promised_to"), "{}", text(&out));

    // A huge single line, and a header of a million columns: refused in
    // one short line, without reading them whole.
    let mut huge = vec![b'x'; 50 * 1024 * 1024];
    huge.push(b'\n');
    let columns = "c,".repeat(1_000_000);
    for (name, bytes) in [("huge.csv", huge), ("wide.csv", columns.into_bytes())] {
        let file = temp_file(name, &bytes);
        let out = doorstep(&db.url, &["import", "orders", file.to_str().unwrap()], None);
        let said = text(&out);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(
            said.contains("line 1 is longer than 64 KB"),
            "{name}: {said:.300}"
        );
        assert!(said.len() < 1000, "{name}: {} bytes said", said.len());
        let _ = std::fs::remove_file(file);
    }

    let out = doorstep(&db.url, &["import", "orders", "/no/such/file.csv"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("cannot open the file"),
        "{}",
        text(&out)
    );
}

async fn accounts_tokens_and_enrolment_from_the_command_line(backend: &str) {
    let db = TestDb::new(backend).await;
    let out = doorstep(
        &db.url,
        &[
            "user",
            "add",
            "--login",
            "olga",
            "--role",
            "quality",
            "--password-stdin",
        ],
        Some("a long password\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let dup = doorstep(
        &db.url,
        &[
            "user",
            "add",
            "--login",
            "olga",
            "--role",
            "quality",
            "--password-stdin",
        ],
        Some("a long password\n"),
    );
    assert!(
        !dup.status.success() && text(&dup).contains("taken"),
        "{}",
        text(&dup)
    );
    let bad_role = doorstep(
        &db.url,
        &[
            "user",
            "add",
            "--login",
            "x",
            "--role",
            "root",
            "--password-stdin",
        ],
        Some("a long password\n"),
    );
    assert!(
        text(&bad_role).contains("expected one of: admin, quality, dispatcher, operator"),
        "{}",
        text(&bad_role)
    );

    let out = doorstep(
        &db.url,
        &["token", "create", "--name", "1C", "--role", "integration"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let secret = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let store = Store::connect(&db.url).await.unwrap();
    let stored = store
        .token_by_hash(&doorstep::security::secret_hash(&secret))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.role, "integration");
    assert!(
        store.token_by_hash(&secret).await.unwrap().is_none(),
        "the token is stored hashed, never in clear"
    );

    let unknown = doorstep(&db.url, &["courier", "enroll", "K-9"], None);
    assert!(
        !unknown.status.success() && text(&unknown).contains("--name"),
        "{}",
        text(&unknown)
    );
    let out = doorstep(
        &db.url,
        &["courier", "enroll", "K-9", "--name", "Олег Волков"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let code = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(code.len(), 9, "XXXX-XXXX: {code}");
    let token = store
        .redeem_enrollment_code(&doorstep::security::secret_hash(&code), "th", "phone")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(token.courier_id.as_deref(), Some("K-9"));

    let revoke = doorstep(&db.url, &["token", "revoke", "1C"], None);
    assert!(revoke.status.success(), "{}", text(&revoke));
    assert!(store
        .token_by_hash(&doorstep::security::secret_hash(&secret))
        .await
        .unwrap()
        .is_none());
    store.close().await;

    let bad_url = doorstep("mysql://localhost/x", &["token", "list"], None);
    assert!(
        text(&bad_url).contains("expected sqlite://FILE or postgres://"),
        "{}",
        text(&bad_url)
    );
}

async fn an_older_binary_refuses_a_newer_database(backend: &str) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url).await.unwrap();
    // Pretend a newer Doorstep applied migration 9999.
    let insert =
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                  VALUES (9999, 'from the future', TRUE, $1, 0)";
    match store.db() {
        doorstep_store::Db::Sqlite { write, .. } => {
            sqlx::query(insert)
                .bind(vec![0u8; 48])
                .execute(write)
                .await
                .unwrap();
        }
        doorstep_store::Db::Postgres(pool) => {
            sqlx::query(insert)
                .bind(vec![0u8; 48])
                .execute(pool)
                .await
                .unwrap();
        }
    }
    store.close().await;
    let out = doorstep(&db.url, &["token", "list"], None);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("upgraded by a newer Doorstep (schema version 9999"),
        "{}",
        text(&out)
    );
}

async fn a_customer_is_erased_from_the_command_line(backend: &str) {
    let db = TestDb::new(backend).await;
    let file = temp_file("orders.csv", MESSY.as_bytes());
    doorstep(&db.url, &["import", "orders", file.to_str().unwrap()], None);
    let refused = doorstep(&db.url, &["customer", "erase", "8 916 123-45-67"], None);
    assert!(
        !refused.status.success() && text(&refused).contains("--yes"),
        "{}",
        text(&refused)
    );
    let data = std::env::temp_dir().join(format!("doorstep-{}", uuid::Uuid::new_v4()));
    let done = doorstep(
        &db.url,
        &[
            "customer",
            "erase",
            "8 916 123-45-67",
            "--yes",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        None,
    );
    assert!(done.status.success(), "{}", text(&done));
    assert!(text(&done).contains("Orders kept: 1;"), "{}", text(&done));
    let store = Store::connect(&db.url).await.unwrap();
    assert!(store.customer("+79161234567").await.unwrap().is_none());
    let again = doorstep(
        &db.url,
        &[
            "customer",
            "erase",
            "+79161234567",
            "--yes",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        !again.status.success() && text(&again).contains("no customer"),
        "{}",
        text(&again)
    );
    store.close().await;
}

/// Two couriers' answers (40 each) in November 2026, stored as terminals would.
async fn answered(store: &Store) {
    use doorstep_domain::survey::{check_answers, ResponseStatus, SurveyDefinition};
    let tz = jiff::tz::TimeZone::get("Europe/Moscow").unwrap();
    let survey = serde_json::json!({"name": "Door", "questions": [
        {"id": "nps", "type": "nps", "text": "nps"},
        {"id": "csi", "type": "scale", "text": "csi", "min": 1, "max": 9, "measures": "csi"},
        {"id": "comment", "type": "text", "text": "comment"}]});
    store
        .create_survey("door", "Door", &survey.to_string())
        .await
        .unwrap();
    let def: SurveyDefinition = serde_json::from_value(survey).unwrap();
    let mut orders = Vec::new();
    let mut responses = Vec::new();
    for i in 0..80 {
        let courier = if i % 2 == 0 { "K-1" } else { "K-2" };
        let o = doorstep_domain::OrderInput {
            order_number: Some(format!("N-{i}")),
            customer_phone: Some(format!("+7916000{i:04}")),
            city: Some("Москва".into()),
            courier_id: Some(courier.into()),
            courier_name: Some(format!("Courier {courier}")),
            promised_from: Some(format!("2026-11-{:02}T10:00:00+03:00", 1 + i % 28)),
            promised_to: Some(format!("2026-11-{:02}T11:00:00+03:00", 1 + i % 28)),
            ..Default::default()
        }
        .validate(&tz, doorstep_domain::Country::from_code("RU").unwrap())
        .unwrap();
        let nps = if courier == "K-1" { 10 } else { 4 };
        let answers = vec![
            ("nps".to_owned(), serde_json::json!(nps)),
            ("csi".to_owned(), serde_json::json!(7)),
            (
                "comment".to_owned(),
                serde_json::json!(if courier == "K-1" {
                    format!("comment {i}")
                } else {
                    format!("курьер опоздал {i}")
                }),
            ),
        ];
        let checked = check_answers(&def, ResponseStatus::Completed, &answers).unwrap();
        let causes = doorstep_domain::survey::causes::Vocabulary::standard()
            .tagger()
            .tag(&checked);
        let finished = o.promised_from.as_millisecond() + 3_600_000;
        let (day, month) = doorstep_domain::time::local_day(finished, &tz);
        responses.push(doorstep_store::NewResponse {
            id: uuid::Uuid::new_v4().to_string(),
            order_number: o.order_number.as_str().to_owned(),
            survey_id: "door".into(),
            survey_version: 1,
            status: doorstep_domain::survey::ResponseStatus::Completed,
            channel: doorstep_domain::survey::Channel::Terminal,
            mode: None,
            language: None,
            token_id: None,
            started_at: finished - 60_000,
            finished_at: finished,
            content_hash: String::new(),
            facts: doorstep_domain::survey::metrics::facts(&def, &checked),
            causes,
            answers: checked,
            review_opened: None,
            recording_consent: None,
            day,
            month,
        });
        orders.push(o);
    }
    store.upsert_orders(&orders, "Europe/Moscow").await.unwrap();
    let (today, _) = doorstep_domain::time::local_day(jiff::Timestamp::now().as_millisecond(), &tz);
    store
        .store_responses(&responses, None, today)
        .await
        .unwrap();
}

async fn reports_in_csv_json_and_xlsx(backend: &str) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url).await.unwrap();
    answered(&store).await;
    let out = |ext: &str| {
        std::env::temp_dir().join(format!("doorstep-report-{}.{ext}", uuid::Uuid::new_v4()))
    };
    let run = |format: &str, path: &std::path::Path| {
        doorstep(
            &db.url,
            &[
                "report",
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-30",
                "--group-by",
                "courier",
                "--format",
                format,
                "--out",
                path.to_str().unwrap(),
            ],
            None,
        )
    };

    let csv_path = out("csv");
    let o = run("csv", &csv_path);
    assert!(o.status.success(), "{}", text(&o));
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("key,label,responses,refusals,response_rate,nps_n,promoters"),
        "{header}"
    );
    let k1 = lines.clone().find(|l| l.starts_with("K-1,")).unwrap();
    assert!(
        k1.starts_with("K-1,Courier K-1,40,0,100,40,40,0,0,100,"),
        "{k1}"
    );
    assert!(
        lines.any(|l| l.starts_with("K-2,Courier K-2,40,0,100,40,0,0,40,-100,")),
        "{csv}"
    );

    let json_path = out("json");
    assert!(run("json", &json_path).status.success());
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    assert_eq!(
        json["groups"][0]["key"], "K-1",
        "ranked by the interval's lower bound"
    );
    assert_eq!(json["groups"][0]["rank"], 1);
    assert_eq!(json["groups"][0]["csi"], 7.0);

    let xlsx_path = out("xlsx");
    assert!(run("xlsx", &xlsx_path).status.success());
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&xlsx_path).unwrap()).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut s).unwrap();
        s
    };
    let workbook = read("xl/workbook.xml");
    for sheet in [
        "Summary",
        "By group",
        "Comments",
        "Causes",
        "Closing the loop",
        "Faults",
        "Support",
        "Calls",
    ] {
        assert!(
            workbook.contains(&format!("name=\"{sheet}\"")),
            "{workbook}"
        );
    }
    let by_group = read("xl/worksheets/sheet2.xml");
    // C2 (responses of the first group) is a number, not a string.
    assert!(by_group.contains("<c r=\"C2\"><v>40</v></c>"), "{by_group}");
    let comments = read("xl/worksheets/sheet3.xml");
    assert_eq!(
        comments.matches("<row ").count(),
        81,
        "a header and 80 comments"
    );
    // Closing the loop: K-2's 40 detractors raised 40 incidents, nobody
    // has called them yet.
    let closing = read("xl/worksheets/sheet5.xml");
    assert!(closing.contains("<c r=\"B2\"><v>40</v></c>"), "{closing}");
    // Causes: K-2's 40 detractors all said the courier was late.
    let causes = read("xl/worksheets/sheet4.xml");
    let strings = read("xl/sharedStrings.xml");
    assert!(strings.contains("Late delivery"), "{strings}");
    // Support: the whole period (no cases yet), then a row per week.
    let support = read("xl/worksheets/sheet7.xml");
    assert!(
        strings.contains("first_response_attainment_pct"),
        "{strings}"
    );
    assert!(
        support.contains("<c r=\"C2\"><v>0</v></c>"),
        "no cases: {support}"
    );
    // Calls: the whole period (none yet), judged against 80/20; then a row
    // for every hour of the day and every day.
    let calls = read("xl/worksheets/sheet8.xml");
    assert!(
        strings.contains("service_level_pct") && strings.contains("target 80/20"),
        "{strings}"
    );
    assert!(
        calls.contains("<c r=\"C2\"><v>0</v></c>"),
        "no calls: {calls}"
    );
    assert!(
        calls.matches("<row ").count() > 25,
        "24 hours and the days: {calls}"
    );
    assert_eq!(
        causes.matches("<row ").count(),
        2,
        "a header and one cause: {causes}"
    );
    assert!(
        causes.contains("<c r=\"C2\"><v>40</v></c>")
            && causes.contains("<c r=\"D2\"><v>40</v></c>"),
        "40 responses, 40 detractors: {causes}"
    );
    assert!(
        causes.contains("<c r=\"E2\" s="),
        "a share of detractors: {causes}"
    );

    // A bad date says which and why; nothing is written.
    let bad = out("csv");
    let o = doorstep(
        &db.url,
        &[
            "report",
            "--from",
            "2026-13-01",
            "--to",
            "2026-11-30",
            "--format",
            "csv",
            "--out",
            bad.to_str().unwrap(),
        ],
        None,
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("from"), "{}", text(&o));
    assert!(!bad.exists());
    for p in [csv_path, json_path, xlsx_path] {
        let _ = std::fs::remove_file(p);
    }
    store.close().await;
}

async fn a_mailbox_is_checked_before_it_is_saved(backend: &str) {
    let mail = crate::mailserver::MailServer::start(&["care"]);
    let db = TestDb::new(backend).await;
    let port = mail.imap_port.to_string();
    let set = |line: &str, password: &str| {
        doorstep(
            &db.url,
            &[
                "mailbox",
                "set",
                "--line",
                line,
                "--address",
                "Care <care@shop.test>",
                "--host",
                "127.0.0.1",
                "--port",
                &port,
                "--security",
                "none",
                "--username",
                "care",
                "--password-stdin",
            ],
            Some(&format!("{password}\n")),
        )
    };
    let wrong = set("customers", "wrong");
    assert!(!wrong.status.success());
    assert!(
        text(&wrong).contains("cannot be read, so it was not saved")
            && text(&wrong).contains("refused to sign in"),
        "{}",
        text(&wrong)
    );
    let list = doorstep(&db.url, &["mailbox", "list"], None);
    assert!(text(&list).contains("No mailboxes"), "{}", text(&list));
    let bad_line = set("drivers", crate::mailserver::PASSWORD);
    assert!(!bad_line.status.success());
    assert!(
        text(&bad_line).contains("--line \"drivers\""),
        "{}",
        text(&bad_line)
    );

    let ok = set("customers", crate::mailserver::PASSWORD);
    assert!(ok.status.success(), "{}", text(&ok));
    let list = doorstep(&db.url, &["mailbox", "list"], None);
    assert!(
        text(&list).contains(&format!(
            "customers  Care <care@shop.test>  care@127.0.0.1:{port} none INBOX  not read yet"
        )),
        "{}",
        text(&list)
    );
    let removed = doorstep(&db.url, &["mailbox", "remove", "--line", "customers"], None);
    assert!(removed.status.success(), "{}", text(&removed));
    let again = doorstep(&db.url, &["mailbox", "remove", "--line", "customers"], None);
    assert!(!again.status.success());
    assert!(text(&again).contains("has no mailbox"), "{}", text(&again));
}

/// The first part of a rotated queue_log: an answered call, an abandoned
/// one, one still talking when the log rotated (its end is in the next
/// file), a queue start passed over, and two broken lines.
const QUEUE_LOG_1: &str = "1793592000|NONE|NONE|NONE|QUEUESTART|\n\
1793592000|c1|support|NONE|ENTERQUEUE||+79161234567|1\n\
1793592012|c1|support|SIP/101|CONNECT|12|c1.2|3\n\
1793592107|c1|support|SIP/101|COMPLETECALLER|12|95|1\n\
1793592100|c2|support|NONE|ENTERQUEUE||+79160000002|1\n\
1793592104|c2|support|NONE|ABANDON|1|1|4\n\
this line is broken\n\
1793592200|c3|couriers|NONE|ENTERQUEUE||101|1\n\
1793592210|c3|couriers|SIP/102|CONNECT|10|c3.2|2\n\
1793592300|c4|support|SIP/101|CONNECT|soon|x|1\n";

/// Its second part: the call talking at the rotation ends.
const QUEUE_LOG_2: &str = "1793592400|c3|couriers|SIP/102|COMPLETEAGENT|10|190|1\n";

async fn calls_are_imported_from_a_queue_log_and_a_cdr(backend: &str) {
    let db = TestDb::new(backend).await;
    let first = temp_file("queue_log", QUEUE_LOG_1.as_bytes());
    let import = |file: &std::path::Path| {
        doorstep(&db.url, &["import", "calls", file.to_str().unwrap()], None)
    };
    let out = import(&first);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("line 7: 1 fields"), "{said}");
    assert!(
        said.contains("line 10: CONNECT's data field 1 is \"soon\""),
        "{said}"
    );
    assert!(
        said.contains("10 lines (Asterisk queue_log) — new events: 7, calls written: 3, other events passed over: 1, rejected: 2"),
        "{said}"
    );

    let store = Store::connect(&db.url).await.unwrap();
    let c1 = store.call("c1").await.unwrap().expect("c1");
    assert_eq!(
        (
            c1.outcome.as_str(),
            c1.wait_seconds,
            c1.talk_seconds,
            c1.agent.as_deref()
        ),
        ("answered", Some(12), Some(95), Some("SIP/101"))
    );
    assert_eq!(c1.customer_phone.as_deref(), Some("+79161234567"));
    let c2 = store.call("c2").await.unwrap().expect("c2");
    assert_eq!(
        (c2.outcome.as_str(), c2.wait_seconds),
        ("abandoned", Some(4))
    );
    let c3 = store.call("c3").await.unwrap().expect("c3");
    assert_eq!(c3.outcome, "talking", "its end is in the next file");
    assert_eq!(c3.customer_phone, None, "101 is an extension, not a phone");

    // The next file completes it; the first again adds nothing.
    let second = temp_file("queue_log.1", QUEUE_LOG_2.as_bytes());
    let out = import(&second);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let c3 = store.call("c3").await.unwrap().unwrap();
    assert_eq!(
        (
            c3.outcome.as_str(),
            c3.wait_seconds,
            c3.talk_seconds,
            c3.queue.as_str()
        ),
        ("answered", Some(10), Some(190), "couriers")
    );
    let out = import(&first);
    assert!(text(&out).contains("new events: 0"), "{}", text(&out));
    assert_eq!(store.call("c3").await.unwrap().unwrap().outcome, "answered");

    // A CDR: one answered, one the caller gave up on (local time).
    let cdr = temp_file(
        "Master.csv",
        "\"\",\"+79161234567\",\"700\",\"from-pstn\",\"\"\"Anna\"\" <+79161234567>\",\"SIP/trunk-0001\",\"SIP/101-00000a3f\",\"Queue\",\"support,t,,,300\",\"2026-11-02 10:00:00\",\"2026-11-02 10:00:15\",\"2026-11-02 10:03:15\",195,180,\"ANSWERED\",\"DOCUMENTATION\",\"cdr-1\",\"\"\n\
\"\",\"+79160000003\",\"700\",\"from-pstn\",\"\",\"SIP/trunk-0002\",\"\",\"Queue\",\"support,t,,,300\",\"2026-11-02 10:05:00\",\"\",\"2026-11-02 10:05:09\",9,0,\"NO ANSWER\",\"DOCUMENTATION\",\"cdr-2\",\"\"\n"
            .as_bytes(),
    );
    let out = import(&cdr);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("Asterisk CDR"), "{}", text(&out));
    let answered = store.call("cdr-1").await.unwrap().unwrap();
    assert_eq!(
        (
            answered.outcome.as_str(),
            answered.wait_seconds,
            answered.talk_seconds
        ),
        ("answered", Some(15), Some(180))
    );
    let missed = store.call("cdr-2").await.unwrap().unwrap();
    assert_eq!(
        (missed.outcome.as_str(), missed.wait_seconds),
        ("abandoned", Some(9))
    );

    // Not a call file at all.
    let orders = temp_file(
        "orders.csv",
        b"order_number,customer_phone,city\nA-1,+79161234567,Moscow\n",
    );
    let out = import(&orders);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("neither an Asterisk queue_log line"),
        "{}",
        text(&out)
    );
    store.close().await;
}
