//! A CloudTrail document (any of its shapes) decoded into the scan's batches, in bounded
//! memory.
//!
//! In: the object's text, window by window. Out: the scan's batches of `cloudtrail` rows, its
//! rejects (a record that does not read, damage around the records) and counts; the object's
//! kind settles as CloudTrail or, when it holds only digests, as a digest.
//!
//! An object of up to [`CHUNK`] bytes (every delivered log file) is gathered and decoded whole,
//! the fast way. Past that, [`Gather`] follows the JSON's structure as it arrives and decodes
//! what is complete in pieces: the records of `{"Records":[…]}` (or the values of a stream of
//! records) up to the last one that has closed, the separators between them dropped. So memory
//! is bounded by [`CHUNK`] plus the largest record, and a record (or any JSON value) larger
//! than [`MAX_VALUE`] is one reject with its byte offset, skipped to its end; a document of
//! gigabytes of white space costs what a small one does.

use arrow::buffer::Buffer;
use arrow::error::ArrowError;

use super::{ObjectScan, Output};
use crate::format::cloudtrail::{CloudTrailDecoder, shapes};
use crate::format::{LogKind, Reject};

/// How much of a JSON object is gathered before what is complete of it is decoded.
pub const CHUNK: usize = 32 << 20;

/// The largest record (or other JSON value) read from an object read in pieces: a larger one is
/// a reject. (CloudTrail's own records are at most a few hundred KiB; an object held whole,
/// plain or gunzipped whole up to 64 MiB, is read whole.)
pub const MAX_VALUE: usize = CHUNK;

/// The bytes that open a delivered log file's array, for pieces after the first.
const RECORDS_OPEN: &str = "{\"Records\":[";

/// A JSON object's text as it arrives, and where its structure is.
#[derive(Default)]
pub(super) struct Gather {
    pub buf: Vec<u8>,
    /// The object offset of `buf[0]`.
    base: u64,
    /// Bytes of `buf` whose structure is known.
    scanned: usize,
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// The shape, once the document's start is seen: `Some(true)` for `{"Records":[…]}` (whose
    /// records are at depth 2, once the array is open), `Some(false)` for values one after
    /// another (at depth 0).
    records: Option<bool>,
    /// Whether the `Records` array has opened.
    entered: bool,
    /// After the last byte between values (at the records' depth, outside a string).
    between: usize,
    /// After the last record that closed.
    closed: usize,
    /// Whether a piece has been decoded (the rest is then a piece too).
    pub pieced: bool,
    /// Skipping an over-long value until the structure is back at the records' depth.
    skipping: bool,
}

impl Gather {
    /// The depth at which records (or values) lie.
    fn level(&self) -> u32 {
        if self.records == Some(true) { 2 } else { 0 }
    }

    /// Follows the structure of `bytes` (appended to `buf` unless skipping); returns how many
    /// bytes of `bytes` were consumed while skipping (those are not kept).
    fn scan(&mut self, bytes: &[u8]) -> usize {
        let mut skipped = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let was = self.depth;
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
            } else {
                match b {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => {
                        self.depth += 1;
                        if self.records == Some(true) && self.depth == 2 && b == b'[' {
                            self.entered = true;
                        }
                    }
                    b'}' | b']' => self.depth = self.depth.saturating_sub(1),
                    _ => {}
                }
            }
            let level = self.level();
            let at_level = !self.in_string
                && self.depth == level
                && (self.records != Some(true) || self.entered);
            if self.skipping {
                skipped = i + 1;
                if at_level && was > level {
                    self.skipping = false;
                    self.buf.extend_from_slice(&bytes[i + 1..]);
                    let start = self.buf.len() - (bytes.len() - i - 1);
                    self.scan_kept(start);
                    return skipped;
                }
                continue;
            }
            if at_level {
                self.between = self.scanned + i + 1;
                if was > level && (b == b'}' || b == b']') {
                    self.closed = self.scanned + i + 1;
                }
            }
        }
        if !self.skipping {
            self.scanned += bytes.len();
        }
        skipped
    }

    /// Notes the structure of `buf[start..]`, already appended.
    fn scan_kept(&mut self, start: usize) {
        let rest = self.buf[start..].to_vec();
        self.scanned = start;
        self.buf.truncate(start);
        self.buf.extend_from_slice(&rest);
        self.scan(&rest);
    }
}

/// Whether `bytes` are only what separates records: white space and commas.
fn separators(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b','))
}

impl ObjectScan {
    /// Takes a window of a JSON object: gathered, and decoded in pieces once past [`CHUNK`].
    pub(super) fn json_window(&mut self, data: &[u8], last: bool) -> Result<(), ArrowError> {
        if last && self.json.buf.is_empty() && !self.json.pieced {
            return self.decode_json(Buffer::from(data.to_vec()), 0, 0);
        }
        let g = &mut self.json;
        if g.records.is_none() {
            g.records = Some(starts_records(data));
        }
        if g.skipping {
            let skipped = g.scan(data);
            g.base += skipped as u64;
        } else {
            if g.buf.capacity() == 0 {
                // Once: what a piece can hold, so the buffer never doubles past it.
                g.buf
                    .reserve_exact(CHUNK + data.len().max(crate::source::decompress::WINDOW_SIZE));
            }
            let start = g.buf.len();
            g.buf.extend_from_slice(data);
            g.scanned = start;
            g.scan(data);
        }
        if last {
            return self.json_finish();
        }
        if self.json.buf.len() >= CHUNK {
            self.json_piece()?;
        }
        Ok(())
    }

    /// Decodes what is complete of the gathered text, and keeps the rest; an open value larger
    /// than [`MAX_VALUE`] is a reject, skipped to its end.
    fn json_piece(&mut self) -> Result<(), ArrowError> {
        let g = &mut self.json;
        let records = g.records == Some(true);
        let until = if separators(&g.buf[g.closed..g.between]) {
            g.closed
        } else {
            g.between
        };
        let first = !g.pieced;
        // The first piece of `{"Records":[…]}` holds the document's start; later ones get it
        // made up, so that each piece is a document of its own.
        let from = if first {
            0
        } else {
            leading_separators(&g.buf[..until])
        };
        let has_content =
            !separators(&g.buf[from..until]) && (!first || !records || until > opening_end(&g.buf));
        if has_content {
            let (text, shift) = if records && !first {
                let mut text = RECORDS_OPEN.as_bytes().to_vec();
                text.extend_from_slice(&g.buf[from..until]);
                text.extend_from_slice(b"]}");
                (
                    text,
                    g.base as i64 + from as i64 - RECORDS_OPEN.len() as i64,
                )
            } else if records {
                let mut text = g.buf[..until].to_vec();
                text.extend_from_slice(b"]}");
                (text, g.base as i64)
            } else {
                (g.buf[from..until].to_vec(), g.base as i64 + from as i64)
            };
            g.pieced = true;
            let base_records = self.json_records;
            self.decode_json(Buffer::from_vec(text), shift, base_records)?;
        } else if until > 0 {
            self.json.pieced = true;
        }
        let g = &mut self.json;
        let dropped = g.between.max(until);
        g.buf.drain(..dropped);
        g.base += dropped as u64;
        g.scanned -= dropped;
        g.between = 0;
        g.closed = 0;
        if g.buf.len() > MAX_VALUE {
            // One value (a record, or garbage) longer than any record can be: a reject, and
            // the rest of it skipped.
            let at = g.base;
            let head = String::from_utf8_lossy(&g.buf[..g.buf.len().min(200)]).into_owned();
            g.base += g.buf.len() as u64;
            g.buf.clear();
            g.scanned = 0;
            g.skipping = true;
            self.counts.rejects += 1;
            self.keep_reject(Reject::new(
                self.json_records,
                at,
                format!(
                    "a JSON value of more than {} MiB: not read (records are at most {} MiB)",
                    MAX_VALUE >> 20,
                    MAX_VALUE >> 20
                ),
                &head,
            ));
        }
        Ok(())
    }

    /// Decodes the rest of a JSON object.
    pub(super) fn json_finish(&mut self) -> Result<(), ArrowError> {
        let g = &mut self.json;
        if !g.pieced {
            let data = std::mem::take(&mut g.buf);
            return self.decode_json(Buffer::from_vec(data), 0, 0);
        }
        if g.skipping {
            // The object ended inside the over-long value: nothing more to read.
            return Ok(());
        }
        let from = leading_separators(&g.buf);
        if from == g.buf.len() {
            return Ok(());
        }
        let (text, shift) = if g.records == Some(true) {
            let mut text = RECORDS_OPEN.as_bytes().to_vec();
            text.extend_from_slice(&g.buf[from..]);
            (
                text,
                g.base as i64 + from as i64 - RECORDS_OPEN.len() as i64,
            )
        } else {
            (g.buf[from..].to_vec(), g.base as i64 + from as i64)
        };
        g.buf.clear();
        let base_records = self.json_records;
        self.decode_json(Buffer::from_vec(text), shift, base_records)
    }

    /// Decodes a JSON text (a whole object, or a piece made a document); `shift` turns its
    /// byte offsets into the object's, `base_records` counts the records read before it.
    pub(super) fn decode_json(
        &mut self,
        data: Buffer,
        shift: i64,
        base_records: u64,
    ) -> Result<(), ArrowError> {
        // `from_utf8` validates valid text several times faster than `from_utf8_lossy` (which
        // walks it in chunks); only invalid text pays for the replacement. The text stays an
        // Arrow buffer, so that string columns can point into it rather than copy.
        let data = match std::str::from_utf8(&data) {
            Ok(_) => data,
            Err(_) => Buffer::from_vec(String::from_utf8_lossy(&data).into_owned().into_bytes()),
        };
        let text = std::str::from_utf8(&data).expect("valid UTF-8 by now");
        let projection = match self.options.output {
            Output::CloudTrail | Output::Ingest => self.options.cloudtrail_projection.as_deref(),
            _ => Some(&[][..]),
        };
        let mut sink = JsonSink {
            decoder: CloudTrailDecoder::new(
                &self.object,
                projection,
                self.options.decoder.batch_size,
            )
            .with_prefilter(self.options.cloudtrail_prefilter.clone())
            .with_source(data.clone()),
            rejects: Vec::new(),
            rows: 0,
            digests: 0,
            shift,
            base_records,
        };
        shapes::read(text, &mut sink);
        let batches = sink.decoder.finish()?;
        self.json_records += sink.decoder.records();
        self.counts.lines += sink.decoder.records();
        self.counts.rows += sink.rows;
        self.counts.rejects += sink.rejects.len() as u64;
        let only_digests =
            sink.digests > 0 && sink.decoder.records() == 0 && sink.rejects.is_empty();
        if self.kind != Some(LogKind::CloudTrail) {
            self.kind = Some(if only_digests {
                LogKind::Digest
            } else {
                LogKind::CloudTrail
            });
        }
        for r in sink.rejects {
            self.keep_reject(r);
        }
        if matches!(self.options.output, Output::CloudTrail | Output::Ingest) {
            self.pending.extend(batches);
        }
        Ok(())
    }
}

/// Collects a JSON object's records and rejects.
struct JsonSink {
    decoder: CloudTrailDecoder,
    rejects: Vec<Reject>,
    rows: u64,
    digests: u64,
    /// Added to byte offsets: where the text decoded lies in the object.
    shift: i64,
    /// Records read before this text.
    base_records: u64,
}

impl shapes::Sink for JsonSink {
    fn record(&mut self, raw: &str) -> bool {
        let ok = self.decoder.record(raw);
        self.rows += u64::from(ok);
        ok
    }

    fn digest(&mut self) {
        self.digests += 1;
    }

    fn keys(&self) -> Option<&'static crate::format::cloudtrail::json::KeyIndex> {
        Some(self.decoder.keys())
    }

    fn record_slots(&mut self, values: &crate::format::cloudtrail::json::Slots<'_>) {
        self.decoder.record_slots(values);
        self.rows += 1;
    }

    fn restart(&mut self) {
        self.decoder.restart();
        self.rejects.clear();
        self.rows = 0;
        self.digests = 0;
    }

    fn reject(&mut self, byte_offset: u64, reason: String, raw: &str) {
        self.rejects.push(Reject::new(
            self.base_records + self.decoder.records(),
            (byte_offset as i64 + self.shift).max(0) as u64,
            reason,
            raw,
        ));
    }
}

/// Whether a JSON text starts `{"Records"` (the key in any case).
fn starts_records(data: &[u8]) -> bool {
    let head = &data[..data.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    let Some(t) = t.strip_prefix('{') else {
        return false;
    };
    let t = t.trim_start();
    t.len() >= 9 && t[..9].eq_ignore_ascii_case("\"records\"")
}

/// Where the first record of `{"Records":[` may start: after the array's `[`.
fn opening_end(buf: &[u8]) -> usize {
    buf.iter().position(|&b| b == b'[').map_or(0, |i| i + 1)
}

/// How many separators (white space, commas) `bytes` start with.
fn leading_separators(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b','))
        .unwrap_or(bytes.len())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;

    use crate::scan::{ObjectScan, Output, ScanOptions};

    /// A document of `n` records, each `pad` bytes of white space apart.
    fn document(n: usize, pad: usize) -> String {
        let record = r#"{"eventVersion":"1.09","eventTime":"2026-11-20T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","userAgent":"x","requestID":"R","eventID":"E","eventType":"AwsApiCall","recipientAccountId":"111122223333"}"#;
        let mut text = String::from("{\"Records\":[");
        for i in 0..n {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&" ".repeat(pad));
            text.push_str(record);
        }
        text.push_str("]}");
        text
    }

    fn scan(text: Vec<u8>) -> (u64, u64, Vec<(u64, u64, String)>) {
        let mut s = ObjectScan::new(
            "o.json",
            Bytes::from(text),
            Arc::new(ScanOptions::new(Output::CloudTrail)),
            None,
        );
        let rows: usize = s.by_ref().map(|b| b.unwrap().num_rows()).sum();
        let rejects = s
            .take_rejects()
            .into_iter()
            .map(|r| (r.line, r.byte_offset, r.reason))
            .collect();
        (rows as u64, s.counts().rejects, rejects)
    }

    #[test]
    fn a_large_document_is_read_in_pieces_with_the_same_rows() {
        // 72 MB: streamed (past what is gunzipped whole), read in pieces, records separated by
        // long runs of white space.
        let text = document(300, 240_000);
        assert!(text.len() > crate::source::decompress::WHOLE_GUNZIP_LIMIT);
        let (rows, rejects, _) = scan(gzip(text.as_bytes()));
        assert_eq!((rows, rejects), (300, 0));
    }

    fn gzip(text: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, text).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn white_space_without_end_costs_nothing_and_damage_keeps_its_offset() {
        let mut text = b"{\"Records\":[".to_vec();
        text.extend(std::iter::repeat_n(b' ', 100 << 20));
        let (rows, _, _) = scan(gzip(&text));
        assert_eq!(rows, 0);
        // Records, then garbage past the first piece: the garbage's offset is the object's.
        let mut text = document(10, 0).into_bytes();
        text.truncate(text.len() - 2);
        text.extend(std::iter::repeat_n(b' ', 40 << 20));
        let garbage_at = text.len() as u64;
        text.extend_from_slice(b",{\"eventVersion\": broken");
        let (rows, rejects, list) = scan(gzip(&text));
        assert_eq!(rows, 10);
        assert!(rejects >= 1);
        // The record the garbage starts is named at its object offset (after the comma).
        assert!(
            list.iter()
                .any(|(_, _, why)| why.contains(&format!("record at byte {}", garbage_at + 1))),
            "{list:?} (garbage at {garbage_at})"
        );
    }

    #[test]
    fn a_value_over_the_limit_is_one_reject_and_the_rest_is_read() {
        let record = document(1, 0);
        let inner = &record[12..record.len() - 2];
        let huge = format!(
            "{{\"eventVersion\":\"1.09\",\"x\":\"{}\"}}",
            // Past what is gunzipped whole (64 MiB), so that it streams.
            "y".repeat(crate::source::decompress::WHOLE_GUNZIP_LIMIT + 1)
        );
        let text = format!("{{\"Records\":[{inner},{huge},{inner},{inner}]}}");
        // Gzipped, as deliveries are: streamed window by window (a plain object is in memory
        // whole already, and read whole).
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
        let (rows, rejects, list) = scan(gz.finish().unwrap());
        assert_eq!(rows, 3, "{list:?}");
        assert_eq!(rejects, 1, "{list:?}");
        assert_eq!(list[0].1, 12 + inner.len() as u64 + 1, "{list:?}");
    }
}
