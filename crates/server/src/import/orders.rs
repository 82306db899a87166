//! `doorstep import orders FILE`: stream an orders CSV into the store.
//! A reader thread decodes, parses and checks rows; the store writes them in
//! batches, one transaction each, while the next batch is being read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use doorstep_domain::order::{ALL_COLUMNS, REQUIRED_COLUMNS};
use doorstep_domain::{Deployment, OrderInput, OrderRecord, RowError};
use doorstep_store::{BatchOutcome, Store, StoreError};

use super::{column_key, open_csv, Unusable};

/// Columns of a header named in the message when it lacks a needed one.
const FOUND_COLUMNS_SHOWN: usize = 20;

/// Rows per store transaction.
const BATCH_ROWS: usize = 20_000;
/// Batches read ahead of the writer: bounds memory whatever the file size.
const BATCHES_AHEAD: usize = 2;

/// One row that was not imported, and why.
#[derive(Debug, Clone)]
pub struct Rejection {
    pub line: u64,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub rows: u64,
    pub outcome: BatchOutcome,
    pub rejected: u64,
    pub encoding: &'static str,
    pub delimiter: char,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error("{0}")]
    Unusable(#[from] Unusable),
    #[error("the database refused the import after {rows_done} rows ({source}); rows up to there are saved, and importing the same file again continues safely")]
    Store { rows_done: u64, source: StoreError },
}

struct Parsed {
    records: Vec<OrderRecord>,
    rejections: Vec<Rejection>,
    rows: u64,
}

enum Message {
    Started {
        encoding: &'static str,
        delimiter: char,
        size: u64,
        read: std::sync::Arc<std::sync::atomic::AtomicU64>,
    },
    Batch(Parsed),
    Failed(Unusable),
}

/// Where each contract column sits in this file.
fn column_map(headers: &csv::StringRecord) -> Result<HashMap<&'static str, usize>, Unusable> {
    let mut map = HashMap::new();
    for (i, name) in headers.iter().enumerate() {
        let key = column_key(name);
        if let Some(column) = ALL_COLUMNS.iter().find(|c| **c == key) {
            map.entry(*column).or_insert(i);
        }
    }
    let missing: Vec<&str> = REQUIRED_COLUMNS
        .iter()
        .copied()
        .filter(|c| !map.contains_key(c))
        .collect();
    if !missing.is_empty() {
        // Named in full up to a point: a wrong file's "header" can be huge.
        let shown: Vec<String> = headers
            .iter()
            .take(FOUND_COLUMNS_SHOWN)
            .map(|c| c.chars().take(40).collect())
            .collect();
        let more = headers.len().saturating_sub(FOUND_COLUMNS_SHOWN);
        return Err(Unusable(format!(
            "the header has no column {}; found: {}{}. The first line must name the columns: {}",
            missing.join(", "),
            if shown.is_empty() {
                "nothing".to_owned()
            } else {
                shown.join(" | ")
            },
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            },
            ALL_COLUMNS.join(", ")
        )));
    }
    Ok(map)
}

fn to_input(record: &csv::StringRecord, columns: &HashMap<&'static str, usize>) -> OrderInput {
    let get = |name: &str| {
        columns
            .get(name)
            .and_then(|&i| record.get(i))
            .map(str::to_owned)
    };
    OrderInput {
        order_number: get("order_number"),
        customer_phone: get("customer_phone"),
        customer_name: get("customer_name"),
        customer_email: get("customer_email"),
        city: get("city"),
        partner: get("partner"),
        courier_id: get("courier_id"),
        courier_name: get("courier_name"),
        promised_from: get("promised_from"),
        promised_to: get("promised_to"),
        delivered_at: get("delivered_at"),
        amount: get("amount"),
        customer_vip: get("customer_vip"),
    }
}

fn describe(errors: &[RowError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Runs on its own thread: reads the file and sends checked batches.
fn read_file(
    path: &Path,
    encoding: Option<&str>,
    deployment: &Deployment,
    tx: &tokio::sync::mpsc::Sender<Message>,
) {
    let mut source = match open_csv(path, encoding) {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.blocking_send(Message::Failed(e));
            return;
        }
    };
    let headers = match source.reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            let _ = tx.blocking_send(Message::Failed(Unusable(format!(
                "{}: the header line cannot be read: {e}",
                path.display()
            ))));
            return;
        }
    };
    let columns = match column_map(&headers) {
        Ok(c) => c,
        Err(Unusable(why)) => {
            let _ = tx.blocking_send(Message::Failed(Unusable(format!(
                "{}: {why}",
                path.display()
            ))));
            return;
        }
    };
    let started = Message::Started {
        encoding: source.encoding.name(),
        delimiter: source.delimiter as char,
        size: source.size,
        read: std::sync::Arc::clone(&source.read),
    };
    if tx.blocking_send(started).is_err() {
        return;
    }
    let (tz, country) = (deployment.tz(), deployment.country());
    let width = headers.len();
    let mut batch = Parsed {
        records: Vec::with_capacity(BATCH_ROWS),
        rejections: Vec::new(),
        rows: 0,
    };
    let mut record = csv::StringRecord::new();
    let mut rows_before = 0;
    loop {
        let start = source.reader.position().clone();
        match source.reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = source.line_of(record.position().unwrap_or(&start));
                batch.rows += 1;
                if record.len() > width && record.iter().skip(width).any(|v| !v.is_empty()) {
                    batch.rejections.push(Rejection {
                        line,
                        reason: format!(
                            "has {} values but the header has {width} columns (a value with an unquoted {:?} inside?)",
                            record.len(),
                            source.delimiter as char
                        ),
                    });
                } else {
                    match to_input(&record, &columns).validate(&tz, country) {
                        Ok(order) => batch.records.push(order),
                        Err(errors) => batch.rejections.push(Rejection {
                            line,
                            reason: describe(&errors),
                        }),
                    }
                }
            }
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                // A line too long (or the file unreadable): stop, saying
                // where; what was read before it is imported.
                let rows = rows_before + batch.rows;
                let _ = tx.blocking_send(Message::Batch(batch));
                let _ = tx.blocking_send(Message::Failed(Unusable(format!(
                    "{}: {e}; stopped there ({rows} rows before it were read and imported; importing the same file again changes nothing for them)",
                    path.display()
                ))));
                return;
            }
            Err(e) => {
                batch.rows += 1;
                let line = source.line_of(e.position().unwrap_or(&start));
                batch.rejections.push(Rejection {
                    line,
                    reason: format!("cannot be read as CSV: {e}"),
                });
                if !matches!(
                    e.kind(),
                    csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. }
                ) {
                    break;
                }
            }
        }
        if batch.records.len() + batch.rejections.len() >= BATCH_ROWS {
            rows_before += batch.rows;
            let full = std::mem::replace(
                &mut batch,
                Parsed {
                    records: Vec::with_capacity(BATCH_ROWS),
                    rejections: Vec::new(),
                    rows: 0,
                },
            );
            if tx.blocking_send(Message::Batch(full)).is_err() {
                return;
            }
        }
    }
    let _ = tx.blocking_send(Message::Batch(batch));
}

/// Imports an orders CSV. `on_reject` hears about each rejected row as it is
/// found; `on_progress` gets (bytes read, file size) after each batch.
pub async fn import_orders(
    store: &Store,
    path: PathBuf,
    encoding: Option<String>,
    mut on_reject: impl FnMut(&Rejection),
    mut on_progress: impl FnMut(u64, u64),
) -> Result<Report, ImportFailure> {
    let deployment = store
        .deployment()
        .await
        .map_err(|source| ImportFailure::Store {
            rows_done: 0,
            source,
        })?;
    let (tx, mut rx) = tokio::sync::mpsc::channel(BATCHES_AHEAD);
    let reader_deployment = deployment.clone();
    let reader =
        std::thread::spawn(move || read_file(&path, encoding.as_deref(), &reader_deployment, &tx));
    let mut report = Report::default();
    let mut progress = None;
    while let Some(message) = rx.recv().await {
        match message {
            Message::Failed(why) => return Err(why.into()),
            Message::Started {
                encoding,
                delimiter,
                size,
                read,
            } => {
                report.encoding = encoding;
                report.delimiter = delimiter;
                progress = Some((size, read));
            }
            Message::Batch(parsed) => {
                for rejection in &parsed.rejections {
                    on_reject(rejection);
                }
                report.rejected += parsed.rejections.len() as u64;
                if !parsed.records.is_empty() {
                    let outcomes = store
                        .upsert_orders(&parsed.records, &deployment.time_zone)
                        .await
                        .map_err(|source| ImportFailure::Store {
                            rows_done: report.rows,
                            source,
                        })?;
                    report.outcome.add(BatchOutcome::of(&outcomes));
                }
                report.rows += parsed.rows;
                if let Some((size, read)) = &progress {
                    on_progress(read.load(Ordering::Relaxed), *size);
                }
            }
        }
    }
    let _ = reader.join();
    Ok(report)
}
