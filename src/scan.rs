//! One object in, record batches out: the single decoding path behind SQL over raw logs and
//! behind `ingest`.
//!
//! An [`ObjectScan`] takes an object's raw bytes, decides what the object holds from its first
//! decompressed bytes, and decodes it if the table being read wants that kind: access logs
//! window by window (large windows in parallel pieces on rayon), CloudTrail JSON as a whole
//! (records stream out of the document, see [`crate::format::cloudtrail::shapes`]). It yields
//! batches of the projected columns or, for the `rejects` table, batches of what could not be
//! read. When it is done it reports the object's counts and rejects to a shared [`ScanLog`],
//! which is what the command line summarises on stderr.

use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;
use arrow::buffer::Buffer;
use arrow::error::ArrowError;
use bytes::Bytes;
use rayon::prelude::*;

use crate::format::access_log::{AccessLogDecoder, DecodeCounts, DecoderOptions};
use crate::format::cloudtrail::{CloudTrailDecoder, Prefilter, shapes};
use crate::format::{LogKind, Reject, SNIFF_LEN, rejects, sniff};
use crate::source::decompress::is_gzip;
use crate::source::decompress::{Chunk, LongLine};
use crate::source::{Damage, Window, Windows};

/// Windows at least this big are decoded in parallel pieces.
pub const PARALLEL_MIN: usize = 1 << 20;

/// What a scan produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Rows of `access_logs` (the projected columns).
    AccessLogs,
    /// Rows of `cloudtrail` (the projected columns).
    CloudTrail,
    /// Rows of `rejects`.
    Rejects,
    /// Rows of both log tables, each object's in its own table's schema (for `ingest`).
    Ingest,
}

impl Output {
    /// Whether this output reads objects of `kind` at all.
    fn reads(self, kind: LogKind) -> bool {
        match kind {
            LogKind::AccessLog => self != Output::CloudTrail,
            LogKind::Json | LogKind::CloudTrail | LogKind::Digest => self != Output::AccessLogs,
            LogKind::Binary | LogKind::Empty => true,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Access logs: batch size, strictness, and the columns of `access_logs` to build.
    pub decoder: DecoderOptions,
    /// The columns of `cloudtrail` to build (`None`: all).
    pub cloudtrail_projection: Option<Vec<usize>>,
    /// Records of `cloudtrail` not to build rows for (a query would drop them).
    pub cloudtrail_prefilter: Option<Arc<Prefilter>>,
    pub output: Output,
}

impl ScanOptions {
    pub fn new(output: Output) -> Self {
        ScanOptions {
            decoder: DecoderOptions::default(),
            cloudtrail_projection: None,
            cloudtrail_prefilter: None,
            output,
        }
    }
}

/// What happened to one object.
#[derive(Debug, Clone)]
pub struct ObjectReport {
    pub object: String,
    pub kind: LogKind,
    /// Decompressed bytes read.
    pub bytes: u64,
    pub counts: DecodeCounts,
    pub rejects: Vec<Reject>,
}

/// Counts the scans that have not finished decoding, process-wide. When there are at least as
/// many as threads, the threads are busy with whole objects and a window is decoded in one
/// piece: splitting it would only make the caller wait on rayon for pieces that compete with
/// the other scans (two threads over 200 objects: 1.12 s in one piece, 1.34 s in pieces). With
/// fewer (one large object, or the last objects of a run) the pieces keep every thread busy.
struct Busy;

static BUSY: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Busy {
    fn new() -> Self {
        BUSY.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Busy
    }

    fn count() -> usize {
        BUSY.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Decodes one object; an iterator of batches.
pub struct ObjectScan {
    /// Held until the object is decoded (see [`Busy`]).
    busy: Option<Busy>,
    object: Arc<str>,
    windows: Option<Windows>,
    options: Arc<ScanOptions>,
    kind: Option<LogKind>,
    /// 1-based number of the next line, and its byte offset.
    next_line: u64,
    next_offset: u64,
    bytes: u64,
    counts: DecodeCounts,
    rejects: Vec<Reject>,
    /// JSON content gathered across windows (a document is decoded whole).
    json: Vec<u8>,
    pending: VecDeque<RecordBatch>,
    log: Option<ScanLog>,
    done: bool,
}

impl ObjectScan {
    pub fn new(object: &str, raw: Bytes, options: Arc<ScanOptions>, log: Option<ScanLog>) -> Self {
        let mut scan = ObjectScan {
            busy: Some(Busy::new()),
            object: object.into(),
            windows: None,
            options,
            kind: None,
            next_line: 1,
            next_offset: 0,
            bytes: 0,
            counts: DecodeCounts::default(),
            rejects: Vec::new(),
            json: Vec::new(),
            pending: VecDeque::new(),
            log,
            done: false,
        };
        // Objects of a kind this output does not read are left after a look at their start,
        // without decompressing them whole.
        // A small gzip object is decompressed whole in one libdeflate call anyway: sniffing it
        // first through a streaming inflater would cost more than reading it (many small
        // objects are the common case for access logs).
        let kind = if is_gzip(&raw) && raw.len() < SNIFF_WHOLE_BELOW {
            None
        } else {
            sniff_raw(&raw)
        };
        if kind.is_some_and(|k| !scan.options.output.reads(k)) {
            scan.kind = kind;
            scan.done = true;
        } else {
            scan.windows = Some(Windows::new(raw));
        }
        scan
    }

    /// A scan of an object that could not be read at all: one reject for the whole object.
    pub fn unreadable(
        object: &str,
        reason: &str,
        options: Arc<ScanOptions>,
        log: Option<ScanLog>,
    ) -> Self {
        if let Some(log) = &log {
            log.unreadable(object, reason);
        }
        let mut scan = Self::new(object, Bytes::new(), options, log);
        scan.windows = None;
        scan.kind = Some(LogKind::Empty);
        scan.done = false;
        scan.reject_object(format!("cannot read the object: {reason}"));
        scan
    }

    fn reject_object(&mut self, reason: String) {
        self.counts.rejects += 1;
        self.rejects.push(Reject::new(0, 0, reason, ""));
    }

    fn window(&mut self, w: &Window) -> Result<(), ArrowError> {
        self.bytes += w.data.len() as u64;
        if let Some(log) = &self.log {
            log.advance(w.data.len() as u64);
        }
        let kind = match self.kind {
            Some(kind) => kind,
            None => {
                let kind = sniff(&w.data);
                if kind == LogKind::Empty && !w.last {
                    // Only blank space so far: decide on the next window.
                    let lines = memchr::memchr_iter(b'\n', &w.data).count() as u64;
                    self.counts.lines += lines;
                    self.counts.blank += lines;
                    self.next_line += lines;
                    self.next_offset += w.data.len() as u64;
                    return Ok(());
                }
                self.kind = Some(kind);
                if kind == LogKind::Json
                    && let Some(windows) = self.windows.as_mut()
                {
                    windows.whole_text();
                }
                kind
            }
        };
        if !self.options.output.reads(kind) {
            self.windows = None;
            return Ok(());
        }
        match kind {
            LogKind::AccessLog => self.decode_window(w),
            LogKind::Json => {
                if w.last && self.json.is_empty() {
                    self.decode_json(Buffer::from(w.data.clone()))
                } else {
                    self.json.extend_from_slice(&w.data);
                    if w.last {
                        let data = std::mem::take(&mut self.json);
                        self.decode_json(Buffer::from_vec(data))?;
                    }
                    Ok(())
                }
            }
            LogKind::Binary => {
                self.reject_object("not a log object: binary content".to_string());
                self.windows = None;
                Ok(())
            }
            LogKind::Empty | LogKind::CloudTrail | LogKind::Digest => {
                self.windows = None;
                Ok(())
            }
        }
    }

    fn decode_window(&mut self, w: &Window) -> Result<(), ArrowError> {
        let data = &w.data[..];
        let n = pieces_for(data.len(), rayon::current_num_threads(), Busy::count());
        let pieces = split_at_lines(data, n);
        // The first line number of each piece, from the line breaks before it (the decoder
        // counts the last piece's lines itself: with one piece, nothing is counted twice).
        let mut starts = Vec::with_capacity(pieces.len());
        let mut line = self.next_line;
        for (i, piece) in pieces.iter().enumerate() {
            starts.push(line);
            if i + 1 < pieces.len() {
                line += memchr::memchr_iter(b'\n', &data[piece.clone()]).count() as u64;
            }
        }
        let (object, options, base) = (&*self.object, &self.options.decoder, self.next_offset);
        let decode = |(i, piece): (usize, &Range<usize>)| {
            let last = w.last && piece.end == data.len();
            decode_piece(
                &data[piece.clone()],
                last,
                object,
                options,
                starts[i],
                base + piece.start as u64,
            )
        };
        let results: Vec<Result<Piece, ArrowError>> = if pieces.len() == 1 {
            vec![decode((0, &pieces[0]))]
        } else {
            pieces.par_iter().enumerate().map(decode).collect()
        };
        for piece in results {
            let piece = piece?;
            self.add_counts(piece.counts);
            self.next_line += piece.counts.lines;
            self.rejects.extend(piece.rejects);
            if matches!(self.options.output, Output::AccessLogs | Output::Ingest) {
                self.pending.extend(piece.batches);
            }
        }
        self.next_offset += data.len() as u64;
        Ok(())
    }

    /// Decodes a whole JSON object (CloudTrail in one of its shapes).
    fn decode_json(&mut self, data: Buffer) -> Result<(), ArrowError> {
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
        };
        shapes::read(text, &mut sink);
        let batches = sink.decoder.finish()?;
        self.counts.lines += sink.decoder.records();
        self.counts.rows += sink.rows;
        self.counts.rejects += sink.rejects.len() as u64;
        let only_digests =
            sink.digests > 0 && sink.decoder.records() == 0 && sink.rejects.is_empty();
        self.kind = Some(if only_digests {
            LogKind::Digest
        } else {
            LogKind::CloudTrail
        });
        self.rejects.extend(sink.rejects);
        if matches!(self.options.output, Output::CloudTrail | Output::Ingest) {
            self.pending.extend(batches);
        }
        Ok(())
    }

    fn add_counts(&mut self, c: DecodeCounts) {
        self.counts.lines += c.lines;
        self.counts.blank += c.blank;
        self.counts.rows += c.rows;
        self.counts.rejects += c.rejects;
    }

    /// A line too long to be a record, skipped by the windows: one reject in its place.
    fn long_line(&mut self, l: &LongLine) {
        self.bytes += l.len;
        if let Some(log) = &self.log {
            log.advance(l.len);
        }
        if self.kind.is_none() {
            self.kind = Some(LogKind::AccessLog);
        }
        self.counts.lines += 1;
        self.counts.rejects += 1;
        self.rejects
            .push(Reject::too_long(self.next_line, l.offset, l.len, &l.head));
        self.next_line += 1;
        self.next_offset = l.offset + l.len + u64::from(l.terminated);
    }

    fn damage(&mut self, damage: &Damage) -> Result<(), ArrowError> {
        // What the damage leaves of a line (of a minified JSON document: all of it) tells the
        // object's kind when nothing else did.
        if self.kind.is_none() {
            let kind = sniff(&damage.partial_line);
            if kind != LogKind::Empty {
                self.kind = Some(kind);
            }
        }
        let readable = damage.offset + damage.partial_line.len() as u64;
        // For JSON, the document's own complaint about where its text ends (the record the
        // damage cut): one reject with the damage.
        let mut cut_record = None;
        if self.kind == Some(LogKind::Json) {
            // The JSON before the damage, the incomplete line included: every complete record
            // in it is kept.
            let mut data = std::mem::take(&mut self.json);
            data.extend_from_slice(&damage.partial_line);
            self.bytes += damage.partial_line.len() as u64;
            let before = self.rejects.len();
            self.decode_json(Buffer::from_vec(data))?;
            if self.rejects.len() > before
                && self
                    .rejects
                    .last()
                    .is_some_and(|r| r.byte_offset >= readable)
            {
                cut_record = self.rejects.pop();
                self.counts.rejects -= 1;
            }
        }
        self.counts.rejects += 1;
        // A log line cut by the damage is a reject in its place; a document's damage is where
        // the readable text ends.
        let (line, at) = if matches!(self.kind, Some(LogKind::AccessLog) | None) {
            (self.next_line, damage.offset)
        } else {
            (0, readable)
        };
        let reason = format!(
            "object is damaged: {}; the {readable} bytes before it were read",
            damage.cause
        );
        self.rejects.push(match cut_record {
            Some(r) => Reject {
                line,
                byte_offset: at,
                reason: format!("{reason}: {}", r.reason),
                raw: r.raw,
            },
            None => Reject::from_bytes(line, at, reason, &damage.partial_line),
        });
        if self.kind.is_none() {
            self.kind = Some(LogKind::AccessLog);
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ArrowError> {
        self.done = true;
        let kind = self.kind.unwrap_or(LogKind::Empty);
        if self.options.output == Output::Rejects && !self.rejects.is_empty() {
            self.pending.push_back(rejects::to_batch(
                &self.object,
                reject_kind(kind),
                &self.rejects,
            )?);
        }
        if let Some(log) = &self.log
            && self.options.output.reads(kind)
        {
            log.record(ObjectReport {
                object: self.object.to_string(),
                kind,
                bytes: self.bytes,
                counts: self.counts,
                rejects: self.rejects.clone(),
            });
        }
        Ok(())
    }

    /// The object's rejects, once the scan is done (for callers that store them).
    pub fn take_rejects(&mut self) -> Vec<Reject> {
        std::mem::take(&mut self.rejects)
    }

    pub fn counts(&self) -> DecodeCounts {
        self.counts
    }

    /// What the object holds (known once the first batch is out or the scan is done).
    pub fn kind(&self) -> Option<LogKind> {
        self.kind
    }
}

impl Iterator for ObjectScan {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(batch) = self.pending.pop_front() {
                return Some(Ok(batch));
            }
            if self.done {
                self.busy = None;
                return None;
            }
            let step = match self.windows.as_mut().and_then(Iterator::next) {
                None => self.finish(),
                Some(Err(damage)) => {
                    self.windows = None;
                    self.damage(&damage)
                }
                Some(Ok(Chunk::Lines(w))) => self.window(&w),
                Some(Ok(Chunk::LongLine(l))) => {
                    self.long_line(&l);
                    Ok(())
                }
            };
            if let Err(e) = step {
                self.done = true;
                return Some(Err(e));
            }
        }
    }
}

/// Gzip objects smaller than this (compressed) are sniffed after decompression, not before.
const SNIFF_WHOLE_BELOW: usize = 256 << 10;

/// The kind of an object from its first bytes, decompressing only the start of a gzip object.
/// `None` when the start is blank (the kind is decided further in).
fn sniff_raw(raw: &[u8]) -> Option<LogKind> {
    let kind = if is_gzip(raw) {
        let mut head = Vec::with_capacity(SNIFF_LEN);
        let _ = flate2::read::MultiGzDecoder::new(raw)
            .take(SNIFF_LEN as u64)
            .read_to_end(&mut head);
        if head.is_empty() {
            // Damage at the very start: let the full read report it.
            return None;
        }
        sniff(&head)
    } else {
        sniff(raw)
    };
    (kind != LogKind::Empty).then_some(kind)
}

/// Collects a JSON object's records and rejects.
struct JsonSink {
    decoder: CloudTrailDecoder,
    rejects: Vec<Reject>,
    rows: u64,
    digests: u64,
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
            self.decoder.records(),
            byte_offset,
            reason,
            raw,
        ));
    }
}

/// The `log_kind` of an object's rejects.
pub fn reject_kind(kind: LogKind) -> &'static str {
    match kind {
        LogKind::AccessLog | LogKind::Empty => "access_log",
        LogKind::Json | LogKind::CloudTrail | LogKind::Digest => "cloudtrail",
        LogKind::Binary => "binary",
    }
}

/// Decodes a whole object in memory: its batches and its report. For tests and benchmarks;
/// tables and `ingest` stream instead.
pub fn decode_all(
    object: &str,
    raw: Bytes,
    options: ScanOptions,
) -> Result<(Vec<RecordBatch>, ObjectReport), ArrowError> {
    let mut scan = ObjectScan::new(object, raw, Arc::new(options), None);
    let batches = scan.by_ref().collect::<Result<Vec<_>, _>>()?;
    let report = ObjectReport {
        object: object.to_string(),
        kind: scan.kind.unwrap_or(LogKind::Empty),
        bytes: scan.bytes,
        counts: scan.counts,
        rejects: scan.take_rejects(),
    };
    Ok((batches, report))
}

struct Piece {
    batches: Vec<RecordBatch>,
    rejects: Vec<Reject>,
    counts: DecodeCounts,
}

fn decode_piece(
    data: &[u8],
    last: bool,
    object: &str,
    options: &DecoderOptions,
    first_line: u64,
    offset: u64,
) -> Result<Piece, ArrowError> {
    let mut decoder = AccessLogDecoder::starting_at(object, options, first_line, offset);
    let mut batches = Vec::new();
    let mut pos = 0;
    loop {
        pos += decoder.decode(&data[pos..], last);
        if decoder.is_full() {
            batches.extend(decoder.flush()?);
        } else {
            break;
        }
    }
    batches.extend(decoder.flush()?);
    Ok(Piece {
        batches,
        rejects: decoder.take_rejects(),
        counts: decoder.counts(),
    })
}

/// How many pieces to decode a window of `len` bytes in, with `busy` scans under way on
/// `threads` threads (see [`Busy`]).
fn pieces_for(len: usize, threads: usize, busy: usize) -> usize {
    #[cfg(test)]
    if let Some(n) = tests::FORCE_PIECES.get() {
        return n;
    }
    if len < PARALLEL_MIN || busy >= threads {
        return 1;
    }
    threads.clamp(1, len / (PARALLEL_MIN / 2))
}

/// Splits `data` into about `n` ranges that end at line breaks (the last may not).
fn split_at_lines(data: &[u8], n: usize) -> Vec<Range<usize>> {
    let mut ranges = Vec::with_capacity(n);
    let mut start = 0;
    for i in 1..n {
        let target = (data.len() * i / n).max(start);
        let Some(nl) = memchr::memchr(b'\n', &data[target..]) else {
            break;
        };
        let end = target + nl + 1;
        if end > start && end < data.len() {
            ranges.push(start..end);
            start = end;
        }
    }
    ranges.push(start..data.len());
    ranges
}

/// How many reject examples the summary keeps.
pub const SUMMARY_EXAMPLES: usize = 5;

/// What the scans of a run saw, shared by all of them: counts per object and a few reject
/// examples, for the summary on stderr. An object scanned twice in one query is counted once.
#[derive(Clone, Default)]
pub struct ScanLog {
    inner: Arc<Mutex<LogInner>>,
    progress: Option<indicatif::ProgressBar>,
}

#[derive(Default)]
struct LogInner {
    objects: BTreeMap<String, Seen>,
    examples: BTreeMap<(String, u64), Reject>,
    /// Objects that could not be fetched or read at all, and why.
    unreadable: BTreeMap<String, String>,
}

/// What the log keeps of one object.
struct Seen {
    kind: LogKind,
    bytes: u64,
    counts: DecodeCounts,
    /// Its first reject (by line, then offset).
    first_reject: Option<Reject>,
}

/// The rejects of one object, summed up: for the `unparsed-records` detection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRejects {
    pub object: String,
    /// `access_log`, `cloudtrail` or `binary`, as in the `rejects` table.
    pub kind: &'static str,
    pub rejects: u64,
    /// The first of them.
    pub first: Reject,
}

/// Totals over a run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub objects: BTreeMap<LogKind, u64>,
    pub bytes: u64,
    pub rows: u64,
    pub rejects: u64,
    pub rejected_objects: u64,
    /// The first rejects, by object and line: (object, reject).
    pub examples: Vec<(String, Reject)>,
    /// Objects that could not be fetched or read at all: (object, why). The run went on
    /// without them; a command's exit code says so (2).
    pub unreadable: Vec<(String, String)>,
}

impl ScanLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Shows progress (decompressed bytes) on this bar.
    pub fn with_progress(mut self, bar: indicatif::ProgressBar) -> Self {
        self.progress = Some(bar);
        self
    }

    fn advance(&self, bytes: u64) {
        if let Some(bar) = &self.progress {
            bar.inc(bytes);
        }
    }

    pub fn progress(&self) -> Option<&indicatif::ProgressBar> {
        self.progress.as_ref()
    }

    pub fn record(&self, report: ObjectReport) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let first_reject = report
            .rejects
            .iter()
            .min_by_key(|r| (r.line, r.byte_offset))
            .cloned();
        for r in report.rejects {
            let key = (report.object.clone(), r.line);
            if inner.examples.len() < SUMMARY_EXAMPLES
                || inner.examples.keys().next_back().is_some_and(|k| key < *k)
            {
                inner.examples.insert(key, r);
                while inner.examples.len() > SUMMARY_EXAMPLES {
                    inner.examples.pop_last();
                }
            }
        }
        inner.objects.insert(
            report.object,
            Seen {
                kind: report.kind,
                bytes: report.bytes,
                counts: report.counts,
                first_reject,
            },
        );
    }

    /// Every object with rejects: how many, and the first.
    pub fn rejected_objects(&self) -> Vec<ObjectRejects> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .objects
            .iter()
            .filter(|(_, seen)| seen.counts.rejects > 0)
            .filter_map(|(object, seen)| {
                Some(ObjectRejects {
                    object: object.clone(),
                    kind: reject_kind(seen.kind),
                    rejects: seen.counts.rejects,
                    first: seen.first_reject.clone()?,
                })
            })
            .collect()
    }

    /// Notes an object that could not be read at all.
    pub fn unreadable(&self, object: &str, reason: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .unreadable
            .insert(object.to_string(), reason.to_string());
    }

    pub fn summary(&self) -> Summary {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut s = Summary::default();
        for seen in inner.objects.values() {
            *s.objects.entry(seen.kind).or_default() += 1;
            s.bytes += seen.bytes;
            s.rows += seen.counts.rows;
            s.rejects += seen.counts.rejects;
            s.rejected_objects += u64::from(seen.counts.rejects > 0);
        }
        s.examples = inner
            .examples
            .iter()
            .map(|((o, _), r)| (o.clone(), r.clone()))
            .collect();
        s.unreadable = inner
            .unreadable
            .iter()
            .map(|(o, r)| (o.clone(), r.clone()))
            .collect();
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    thread_local! {
        /// Overrides the number of pieces a window is decoded in, on this thread.
        pub static FORCE_PIECES: Cell<Option<usize>> = const { Cell::new(None) };
    }

    #[test]
    fn windows_are_split_only_when_threads_would_be_idle() {
        let big = 8 * PARALLEL_MIN;
        assert_eq!(pieces_for(PARALLEL_MIN - 1, 4, 0), 1, "small window");
        assert_eq!(pieces_for(big, 4, 1), 4, "one scan, four threads");
        assert_eq!(pieces_for(big, 4, 3), 4, "a thread is idle");
        assert_eq!(pieces_for(big, 4, 4), 1, "every thread has an object");
        assert_eq!(pieces_for(big, 2, 7), 1);
        assert_eq!(
            pieces_for(PARALLEL_MIN, 4, 0),
            2,
            "pieces of at least half PARALLEL_MIN"
        );
        assert_eq!(pieces_for(big, 1, 0), 1, "one thread");
    }

    #[test]
    fn busy_counts_scans_until_they_are_decoded() {
        // Other tests scan at the same time, so the count is at least this test's scans.
        let options = Arc::new(ScanOptions::new(Output::AccessLogs));
        let scans: Vec<ObjectScan> = (0..3)
            .map(|i| {
                ObjectScan::new(
                    &format!("o{i}"),
                    Bytes::from_static(b"garbage line\n"),
                    Arc::clone(&options),
                    None,
                )
            })
            .collect();
        assert!(scans.iter().all(|s| s.busy.is_some()));
        assert!(Busy::count() >= 3);
        for mut scan in scans {
            while scan.next().is_some() {}
            assert!(
                scan.busy.is_none(),
                "released when decoded, before the scan is dropped"
            );
        }
    }

    #[test]
    fn a_window_in_pieces_decodes_like_a_window_in_one() {
        // Lines with and without errors, one longer than a piece would be on its own.
        let good = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpora/access-logs/opentelemetry/valid_s3_access_log.log"
        ))
        .expect("the shared corpora beside the project");
        let good = good.trim_end();
        let mut content = String::new();
        for i in 0..12_000 {
            match i % 997 {
                0 => content.push_str("broken line"),
                1 => content.push_str(&format!("{good} {}", "x".repeat(3 * PARALLEL_MIN / 2))),
                _ => content.push_str(&good.replace("3E57427F3EXAMPLE", &format!("{i:016}"))),
            }
            content.push('\n');
        }
        assert!(content.len() > 4 * PARALLEL_MIN);
        let decode = |pieces: usize| {
            FORCE_PIECES.set(Some(pieces));
            let out = decode_all(
                "big",
                Bytes::from(content.clone()),
                ScanOptions::new(Output::AccessLogs),
            )
            .unwrap();
            FORCE_PIECES.set(None);
            out
        };
        let (one, one_report) = decode(1);
        for n in [2, 5] {
            let (many, report) = decode(n);
            assert!(many.len() > one.len(), "{n} pieces give more batches");
            let all = |b: &[RecordBatch]| {
                arrow::compute::concat_batches(&b[0].schema(), b).expect("same schema")
            };
            assert_eq!(all(&many), all(&one), "{n} pieces");
            assert_eq!(report.counts, one_report.counts);
            let where_ = |r: &ObjectReport| {
                r.rejects
                    .iter()
                    .map(|r| (r.line, r.byte_offset))
                    .collect::<Vec<_>>()
            };
            assert_eq!(where_(&report), where_(&one_report));
        }
        assert_eq!(one_report.rejects.len(), 13);
        assert_eq!(one_report.counts.rows, 12_000 - 13);
    }

    #[test]
    fn split_ranges_cover_the_data_at_line_breaks() {
        let data: Vec<u8> = (0..1000)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        for n in [1, 2, 3, 7, 64] {
            let ranges = split_at_lines(&data, n);
            assert_eq!(ranges.first().unwrap().start, 0);
            assert_eq!(ranges.last().unwrap().end, data.len());
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
                assert_eq!(data[pair[0].end - 1], b'\n');
            }
            assert!(ranges.len() <= n);
        }
        assert_eq!(split_at_lines(b"no line break", 4), vec![0..13]);
    }
}
