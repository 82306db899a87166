//! Files from the company's systems, read as offices really write them:
//! any of `,` `;` or tab, UTF-8 with or without BOM, UTF-16 with BOM, or
//! Windows-1251, streamed in bounded memory.

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

/// Counts the raw bytes read, for the progress bar.
pub struct Counting<R> {
    inner: R,
    pub read: Arc<AtomicU64>,
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
    let stream: Box<dyn Read + Send> = Box::new(
        DecodeReaderBytesBuilder::new()
            .encoding(Some(encoding))
            .strip_bom(true)
            .build(Cursor::new(sample).chain(raw)),
    );
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

    #[test]
    fn header_keys_are_forgiving() {
        assert_eq!(column_key(" Order Number "), "order_number");
        assert_eq!(column_key("\u{feff}order_number"), "order_number");
    }
}
