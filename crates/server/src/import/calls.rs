//! `doorstep import calls FILE`: stream a PBX's call records into the
//! store — Asterisk's `queue_log` or its CDR (`Master.csv`), told apart by
//! their content. A reader thread reads and checks lines; the store writes
//! them in batches, one transaction each, while the next batch is read.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use doorstep_domain::calls::{
    cdr_events, queue_log_event, queue_log_presence, CallEvent, Presence, CDR_MIN_FIELDS,
};
use doorstep_store::calls::CallsStored;
use doorstep_store::{Store, StoreError};

use super::orders::Rejection;
use super::{Counting, Unusable, MAX_LINE_BYTES};

/// Lines per store transaction.
const BATCH_LINES: usize = 10_000;
/// Batches read ahead of the writer: bounds memory whatever the file size.
const BATCHES_AHEAD: usize = 2;

/// The kinds of call files Doorstep reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    QueueLog,
    Cdr,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::QueueLog => "Asterisk queue_log",
            Format::Cdr => "Asterisk CDR (Master.csv)",
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub format: Format,
    /// Lines read (blank ones not counted).
    pub lines: u64,
    /// Events of other kinds (agents logging in, queue starts): passed over.
    pub passed_over: u64,
    pub rejected: u64,
    pub stored: CallsStored,
    /// Agents' coming on duty and leaving, newly kept.
    pub presence: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error("{0}")]
    Unusable(#[from] Unusable),
    #[error("the database refused the import after {lines_done} lines ({source}); lines up to there are saved, and importing the same file again continues safely")]
    Store { lines_done: u64, source: StoreError },
}

struct Batch {
    events: Vec<CallEvent>,
    presence: Vec<Presence>,
    rejections: Vec<Rejection>,
    lines: u64,
    passed_over: u64,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            events: Vec::new(),
            presence: Vec::new(),
            rejections: Vec::new(),
            lines: 0,
            passed_over: 0,
        }
    }
}

enum Message {
    Started {
        format: Format,
        size: u64,
        read: Arc<AtomicU64>,
    },
    Batch(Batch),
    Failed(Unusable),
}

/// Which kind of file a first line is.
fn detect(first: &str) -> Option<Format> {
    let head = first.split('|').next().unwrap_or("");
    if first.contains('|') && head.trim().parse::<f64>().is_ok() {
        return Some(Format::QueueLog);
    }
    let fields = csv_fields(first).ok()?;
    (fields.len() >= CDR_MIN_FIELDS).then_some(Format::Cdr)
}

/// One CSV line's fields.
fn csv_fields(line: &str) -> Result<Vec<String>, csv::Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    let mut record = csv::StringRecord::new();
    reader.read_record(&mut record)?;
    Ok(record.iter().map(str::to_owned).collect())
}

/// One line's events (or why none).
fn read_line(format: Format, text: &str, tz: &jiff::tz::TimeZone, batch: &mut Batch, line: u64) {
    let result = match format {
        Format::QueueLog => {
            let fields: Vec<&str> = text.split('|').collect();
            // An agent coming on duty or leaving: for the staffing view.
            if let Some(p) = queue_log_presence(&fields) {
                batch.presence.push(p);
                return;
            }
            queue_log_event(&fields).map(|e| e.into_iter().collect::<Vec<_>>())
        }
        Format::Cdr => match csv_fields(text) {
            Ok(fields) => {
                let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
                cdr_events(&fields, tz)
            }
            Err(e) => {
                batch.rejections.push(Rejection {
                    line,
                    reason: format!("cannot be read as CSV: {e}"),
                });
                return;
            }
        },
    };
    match result {
        Ok(events) if events.is_empty() => batch.passed_over += 1,
        Ok(events) => batch.events.extend(events),
        Err(problem) => batch.rejections.push(Rejection {
            line,
            reason: problem.0,
        }),
    }
}

/// Runs on its own thread: reads the file and sends checked batches.
fn read_file(path: &Path, tz: &jiff::tz::TimeZone, tx: &tokio::sync::mpsc::Sender<Message>) {
    let fail = |why: String| {
        let _ = tx.blocking_send(Message::Failed(Unusable(format!(
            "{}: {why}",
            path.display()
        ))));
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return fail(format!("cannot open the file: {e}")),
    };
    let size = file.metadata().map_or(0, |m| m.len());
    let read = Arc::new(AtomicU64::new(0));
    let mut reader = BufReader::with_capacity(256 * 1024, Counting::new(file, Arc::clone(&read)));
    let mut format = None;
    let mut batch = Batch::new();
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        let n = match (&mut reader)
            .take(MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut buf)
        {
            Ok(n) => n,
            Err(e) => {
                let _ = tx.blocking_send(Message::Batch(batch));
                return fail(format!("cannot be read after line {line}: {e}"));
            }
        };
        if n == 0 {
            break;
        }
        line += 1;
        if buf.len() as u64 > MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
            // Longer than any call record: skip to its end.
            let mut rest = Vec::new();
            let _ = reader.read_until(b'\n', &mut rest);
            batch.lines += 1;
            batch.rejections.push(Rejection {
                line,
                reason: format!("longer than {MAX_LINE_BYTES} bytes: not a call record"),
            });
            continue;
        }
        let text = String::from_utf8_lossy(&buf);
        let text = text
            .trim_end_matches(['\n', '\r'])
            .trim_start_matches('\u{feff}');
        if text.trim().is_empty() {
            continue;
        }
        let format = if let Some(f) = format {
            f
        } else {
            let Some(f) = detect(text) else {
                let shown: String = text.chars().take(80).collect();
                return fail(format!(
                    "line {line} ({shown:?}) is neither an Asterisk queue_log line (time|callid|queue|agent|event|data…) \
                     nor an Asterisk CDR row (Master.csv, {CDR_MIN_FIELDS} or more comma-separated fields)"
                ));
            };
            let started = Message::Started {
                format: f,
                size,
                read: Arc::clone(&read),
            };
            if tx.blocking_send(started).is_err() {
                return;
            }
            format = Some(f);
            f
        };
        batch.lines += 1;
        read_line(format, text, tz, &mut batch, line);
        if batch.lines as usize >= BATCH_LINES {
            let full = std::mem::replace(&mut batch, Batch::new());
            if tx.blocking_send(Message::Batch(full)).is_err() {
                return;
            }
        }
    }
    if format.is_none() {
        return fail("holds no call records (it is empty)".to_owned());
    }
    let _ = tx.blocking_send(Message::Batch(batch));
}

/// Imports a call file. `on_reject` hears about each rejected line as it
/// is found; `on_progress` gets (bytes read, file size) after each batch.
pub async fn import_calls(
    store: &Store,
    path: PathBuf,
    mut on_reject: impl FnMut(&Rejection),
    mut on_progress: impl FnMut(u64, u64),
) -> Result<Report, ImportFailure> {
    let deployment = store
        .deployment()
        .await
        .map_err(|source| ImportFailure::Store {
            lines_done: 0,
            source,
        })?;
    let (tz, country) = (deployment.tz(), deployment.country());
    let (tx, mut rx) = tokio::sync::mpsc::channel(BATCHES_AHEAD);
    let reader_tz = tz.clone();
    let reader = std::thread::spawn(move || read_file(&path, &reader_tz, &tx));
    let mut report = Report::default();
    let mut progress = None;
    while let Some(message) = rx.recv().await {
        match message {
            Message::Failed(why) => return Err(why.into()),
            Message::Started { format, size, read } => {
                report.format = format;
                progress = Some((size, read));
            }
            Message::Batch(batch) => {
                for rejection in &batch.rejections {
                    on_reject(rejection);
                }
                report.rejected += batch.rejections.len() as u64;
                report.passed_over += batch.passed_over;
                let stored = store
                    .record_call_events(&batch.events, country)
                    .await
                    .map_err(|source| ImportFailure::Store {
                        lines_done: report.lines,
                        source,
                    })?;
                report.stored.add(stored);
                report.presence +=
                    store
                        .record_presence(&batch.presence)
                        .await
                        .map_err(|source| ImportFailure::Store {
                            lines_done: report.lines,
                            source,
                        })?;
                report.lines += batch.lines;
                if let Some((size, read)) = &progress {
                    on_progress(read.load(Ordering::Relaxed), *size);
                }
            }
        }
    }
    let _ = reader.join();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_of_file_is_told_by_its_first_line() {
        assert_eq!(
            detect("1793592000|1793592000.17|support|NONE|ENTERQUEUE||+79161234567|1"),
            Some(Format::QueueLog)
        );
        assert_eq!(
            detect(
                r#""","+79161234567","700","from-pstn","""Anna"" <+79161234567>","SIP/trunk-0001","SIP/101-00000a3f","Queue","support,t","2026-11-02 10:00:00","2026-11-02 10:00:15","2026-11-02 10:03:15",195,180,"ANSWERED","DOCUMENTATION","1793592000.17","""#
            ),
            Some(Format::Cdr)
        );
        assert_eq!(detect("order_number,customer_phone,city"), None);
    }
}
