//! Files from the company's systems, read as offices really write them:
//! any of `,` `;` or tab, UTF-8 with or without BOM, UTF-16 with BOM, or
//! Windows-1251, streamed in bounded memory.

pub mod calls;
pub mod orders;

use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1251};
use encoding_rs_io::DecodeReaderBytesBuilder;

/// Why a file cannot be imported at all (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unusable(pub String);

/// How much of the sample decides the encoding and the delimiter.
const SNIFF_BYTES: usize = 64 * 1024;

/// Longest header line, and longest other line, in bytes of text: a file
/// whose lines are longer is not an export of orders, and reading it whole
/// would take memory without bound.
pub const MAX_HEADER_BYTES: u64 = 64 * 1024;
pub const MAX_LINE_BYTES: u64 = 1024 * 1024;

/// Where the lines of the text read so far end, to tell people the line a
/// row is on (the CSV reader's own count is one off for files with CRLF
/// line ends, and counts blank lines before a row as the row's).
#[derive(Debug, Default)]
pub struct LineIndex {
    /// Byte offsets of the `\n`s not yet passed by a query, and whether
    /// each ends a CRLF.
    ahead: std::collections::VecDeque<(u64, bool)>,
    /// `\n`s already passed.
    passed: u64,
    /// Bytes of text read, and the length of the line being read.
    read: u64,
    line_length: u64,
    last: u8,
}

impl LineIndex {
    /// The line (from 1) of the first character of a row that starts at
    /// byte `start` (the reader's position: it may point at the line ends
    /// and blank lines before the row).
    pub fn line_of(&mut self, start: u64) -> u64 {
        let mut first = start;
        while let Some(&(at, crlf)) = self.ahead.front() {
            if at < first {
                self.passed += 1;
                self.ahead.pop_front();
            } else if at == first || (crlf && at == first + 1) {
                // A line end (or a blank line) before the row's text.
                first = at + 1;
                self.passed += 1;
                self.ahead.pop_front();
            } else {
                break;
            }
        }
        self.passed + 1
    }
}

/// Counts the lines of the text passing through, and refuses a line longer
/// than the limit (the header's, then every other's).
struct LineCounting<R> {
    inner: R,
    lines: Arc<std::sync::Mutex<LineIndex>>,
}

impl<R: Read> Read for LineCounting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut lines = self
            .lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for &b in &buf[..n] {
            if b == b'\n' {
                let crlf = lines.last == b'\r';
                let at = lines.read;
                lines.ahead.push_back((at, crlf));
                lines.line_length = 0;
            } else {
                lines.line_length += 1;
                let header = lines.passed + lines.ahead.len() as u64 == 0;
                let limit = if header {
                    MAX_HEADER_BYTES
                } else {
                    MAX_LINE_BYTES
                };
                if lines.line_length > limit {
                    let line = lines.passed + lines.ahead.len() as u64 + 1;
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "line {line} is longer than {} KB; {}",
                            limit / 1024,
                            if header {
                                "the first line must name the columns of an orders export"
                            } else {
                                "a row of an orders export is far shorter (is this the right file?)"
                            }
                        ),
                    ));
                }
            }
            lines.last = b;
            lines.read += 1;
        }
        Ok(n)
    }
}

/// Counts the raw bytes read, for the progress bar.
pub struct Counting<R> {
    inner: R,
    pub read: Arc<AtomicU64>,
}

impl<R> Counting<R> {
    /// `inner`, adding the bytes read from it to `read`.
    pub fn new(inner: R, read: Arc<AtomicU64>) -> Counting<R> {
        Counting { inner, read }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A CSV file opened for streaming: decoded to UTF-8, delimiter known.
pub struct CsvSource {
    pub reader: csv::Reader<Box<dyn Read + Send>>,
    pub encoding: &'static Encoding,
    pub delimiter: u8,
    pub size: u64,
    pub read: Arc<AtomicU64>,
    lines: Arc<std::sync::Mutex<LineIndex>>,
}

impl CsvSource {
    /// The line (from 1, the header's) a row starting at `position` is on.
    pub fn line_of(&self, position: &csv::Position) -> u64 {
        self.lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .line_of(position.byte())
    }
}

/// Looks at the start of a file and opens it as CSV; `encoding` overrides
/// the detection (`utf-8`, `windows-1251`, any WHATWG label).
pub fn open_csv(path: &Path, encoding: Option<&str>) -> Result<CsvSource, Unusable> {
    let file = File::open(path)
        .map_err(|e| Unusable(format!("{}: cannot open the file: {e}", path.display())))?;
    let size = file.metadata().map_or(0, |m| m.len());
    let read = Arc::new(AtomicU64::new(0));
    let mut raw = BufReader::with_capacity(
        256 * 1024,
        Counting {
            inner: file,
            read: Arc::clone(&read),
        },
    );
    let mut sample = Vec::with_capacity(SNIFF_BYTES);
    (&mut raw)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut sample)
        .map_err(|e| Unusable(format!("{}: cannot read the file: {e}", path.display())))?;
    let encoding = match encoding {
        Some(label) => Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
            Unusable(format!(
                "{label:?} is not an encoding Doorstep knows (try utf-8 or windows-1251)"
            ))
        })?,
        None => detect_encoding(&sample)
            .map_err(|why| Unusable(format!("{}: {why}", path.display())))?,
    };
    let (decoded_sample, _, _) = encoding.decode(&sample);
    let first_line = decoded_sample.lines().next().unwrap_or("");
    if first_line.trim().is_empty() {
        return Err(Unusable(format!(
            "{}: the first line is empty; it must hold the column names",
            path.display()
        )));
    }
    let delimiter = detect_delimiter(first_line);
    let lines = Arc::new(std::sync::Mutex::new(LineIndex::default()));
    let stream: Box<dyn Read + Send> = Box::new(LineCounting {
        inner: DecodeReaderBytesBuilder::new()
            .encoding(Some(encoding))
            .strip_bom(true)
            .build(Cursor::new(sample).chain(raw)),
        lines: Arc::clone(&lines),
    });
    let reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .has_headers(true)
        .from_reader(stream);
    Ok(CsvSource {
        reader,
        encoding,
        delimiter,
        size,
        read,
        lines,
    })
}

/// UTF-8 (with or without BOM) when the sample is valid UTF-8, UTF-16 when
/// it says so with a BOM, otherwise Windows-1251 — what Russian-speaking
/// offices' Excel and 1C save.
fn detect_encoding(sample: &[u8]) -> Result<&'static Encoding, String> {
    if sample.is_empty() {
        return Err("the file is empty".to_owned());
    }
    if let Some((encoding, _)) = Encoding::for_bom(sample) {
        return Ok(encoding);
    }
    if sample.starts_with(b"PK\x03\x04") {
        return Err("this is an Excel workbook or another ZIP file, not CSV; in Excel use File → Save As → CSV".to_owned());
    }
    if sample.starts_with(b"%PDF") {
        return Err("this is a PDF document, not CSV".to_owned());
    }
    if sample.contains(&0) {
        return Err("this is a binary file, not CSV text; export the orders as CSV".to_owned());
    }
    match std::str::from_utf8(sample) {
        Ok(_) => Ok(UTF_8),
        // Cut in the middle of a character at the end of the sample: still UTF-8.
        Err(e) if e.error_len().is_none() => Ok(UTF_8),
        Err(_) => Ok(WINDOWS_1251),
    }
}

/// The candidate that splits the header line most often (outside quotes).
fn detect_delimiter(header: &str) -> u8 {
    let mut counts = [(b';', 0usize), (b',', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for (d, n) in &mut counts {
                if *d == b {
                    *n += 1;
                }
            }
        }
    }
    counts
        .iter()
        .max_by_key(|(_, n)| *n)
        .map_or(b',', |(d, _)| *d)
}

/// A header cell as a column key: trimmed, lower case, spaces as `_`.
pub fn column_key(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .replace([' ', '-'], "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_encodings() {
        assert_eq!(detect_encoding("номер;город\n".as_bytes()).unwrap(), UTF_8);
        assert_eq!(detect_encoding(b"\xEF\xBB\xBFa,b").unwrap(), UTF_8);
        let (cp1251, _, _) = WINDOWS_1251.encode("номер;город");
        assert_eq!(detect_encoding(&cp1251).unwrap(), WINDOWS_1251);
        assert!(detect_encoding(b"PK\x03\x04rest")
            .unwrap_err()
            .contains("Excel"));
        assert!(detect_encoding(b"").unwrap_err().contains("empty"));
        assert_eq!(
            detect_encoding(b"\xFF\xFEa\x00").unwrap(),
            encoding_rs::UTF_16LE
        );
    }

    #[test]
    fn detects_delimiters() {
        assert_eq!(detect_delimiter("a;b;c"), b';');
        assert_eq!(detect_delimiter("a,b,c"), b',');
        assert_eq!(detect_delimiter("a\tb\tc"), b'\t');
        assert_eq!(detect_delimiter("\"a;x\",b,c"), b',');
    }

    /// The rows' lines, as people count them (the header is line 1).
    fn lines(text: &str) -> Vec<(u64, String)> {
        let path =
            std::env::temp_dir().join(format!("doorstep-lines-{}.csv", uuid::Uuid::new_v4()));
        std::fs::write(&path, text).unwrap();
        let mut source = open_csv(&path, None).unwrap();
        let _ = source.reader.headers().unwrap();
        let mut record = csv::StringRecord::new();
        let mut out = Vec::new();
        while source.reader.read_record(&mut record).unwrap() {
            out.push((
                source.line_of(record.position().unwrap()),
                record[0].to_owned(),
            ));
        }
        std::fs::remove_file(path).unwrap();
        out
    }

    #[test]
    fn rows_are_reported_on_their_own_line_whatever_the_line_ends() {
        let expected = |rows: &[(u64, &str)]| -> Vec<(u64, String)> {
            rows.iter().map(|(l, v)| (*l, (*v).to_owned())).collect()
        };
        assert_eq!(lines("a,b\n1,2\n3,4\n"), expected(&[(2, "1"), (3, "3")]));
        assert_eq!(
            lines("a,b\r\n1,2\r\n3,4\r\n"),
            expected(&[(2, "1"), (3, "3")])
        );
        // A quoted value over two lines: the next row is on line 4.
        assert_eq!(
            lines("a,b\n\"x\ny\",2\n3,4\n"),
            expected(&[(2, "x\ny"), (4, "3")])
        );
        assert_eq!(
            lines("a,b\r\n\"x\r\ny\",2\r\n3,4"),
            expected(&[(2, "x\r\ny"), (4, "3")])
        );
        // Blank lines are skipped, and not counted as the row's.
        assert_eq!(
            lines("a,b\n\n1,2\n\n\n3,4\n"),
            expected(&[(3, "1"), (6, "3")])
        );
        assert_eq!(lines("a,b\r\n\r\n1,2\r\n"), expected(&[(3, "1")]));
        // A one-character row right after the header is a row, not a blank line.
        assert_eq!(lines("a\nx\ny\n"), expected(&[(2, "x"), (3, "y")]));
        assert_eq!(lines("a\r\nx\r\ny\r\n"), expected(&[(2, "x"), (3, "y")]));
    }

    #[test]
    fn a_line_too_long_is_refused_without_reading_it_whole() {
        let path = std::env::temp_dir().join(format!("doorstep-long-{}.csv", uuid::Uuid::new_v4()));
        let mut text = "order_number,".repeat(10_000);
        text.push('\n');
        std::fs::write(&path, &text).unwrap();
        let mut source = open_csv(&path, None).unwrap();
        let e = source.reader.headers().unwrap_err().to_string();
        assert!(e.contains("line 1 is longer than 64 KB"), "{e}");
        let mut text = String::from("order_number,city\n1,2\n");
        text.push_str(&"x".repeat(2 * 1024 * 1024));
        std::fs::write(&path, &text).unwrap();
        let mut source = open_csv(&path, None).unwrap();
        let _ = source.reader.headers().unwrap();
        let mut record = csv::StringRecord::new();
        assert!(source.reader.read_record(&mut record).unwrap());
        let e = source
            .reader
            .read_record(&mut record)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3 is longer than 1024 KB"), "{e}");
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn header_keys_are_forgiving() {
        assert_eq!(column_key(" Order Number "), "order_number");
        assert_eq!(column_key("\u{feff}order_number"), "order_number");
    }
}
