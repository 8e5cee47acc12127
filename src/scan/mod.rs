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

mod json;
mod kind;
mod log;
mod pieces;
mod rejects;

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::error::ArrowError;
use bytes::Bytes;
use rayon::prelude::*;

use crate::format::access_log::{DecodeCounts, DecoderOptions};
use crate::format::cloudtrail::Prefilter;
use crate::format::{LogKind, Reject, rejects as reject_table, sniff};
use crate::source::decompress::Chunk;
use crate::source::decompress::is_gzip;
use crate::source::{Window, Windows};

use kind::{SNIFF_WHOLE_BELOW, sniff_raw};
pub use log::{ObjectRejects, Progress, SUMMARY_EXAMPLES, ScanLog, Summary};
pub use pieces::PARALLEL_MIN;
use pieces::{Busy, Piece, decode_piece, pieces_for, split_at_lines};
pub use rejects::reject_kind;

/// Rejects kept verbatim per object by a scan that only counts them (every one is counted):
/// what the summary and `unparsed-records` show comes from the first ones.
pub const KEPT_REJECTS: usize = 1000;

/// Rejects per batch when they are streamed (the `rejects` table, `ingest`).
const REJECT_BATCH: usize = 8192;

/// What a scan produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// Rejects not yet handed on (see [`ObjectScan::keep_reject`]).
    rejects: Vec<Reject>,
    /// The object's first rejects, for its report.
    first_rejects: Vec<Reject>,
    /// JSON content gathered across windows (decoded whole, or in pieces when large).
    json: json::Gather,
    /// CloudTrail records read so far (pieces of a large document).
    json_records: u64,
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
            first_rejects: Vec::new(),
            json: json::Gather::default(),
            json_records: 0,
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
            LogKind::Json => self.json_window(&w.data, w.last),
            // A large JSON object read in pieces: its kind is known from the first piece on.
            LogKind::CloudTrail | LogKind::Digest if self.json.pieced => {
                self.json_window(&w.data, w.last)
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
            for r in piece.rejects {
                self.keep_reject(r);
            }
            if matches!(self.options.output, Output::AccessLogs | Output::Ingest) {
                self.pending.extend(piece.batches);
            }
        }
        self.next_offset += data.len() as u64;
        self.stream_rejects()
    }

    /// Whether this scan keeps every reject (the `rejects` table, `ingest`), rather than the
    /// first [`KEPT_REJECTS`].
    fn keeps_all_rejects(&self) -> bool {
        matches!(self.options.output, Output::Rejects | Output::Ingest)
    }

    /// Keeps a reject (it is already counted): all of them when the output needs them, else
    /// the first [`KEPT_REJECTS`].
    pub(super) fn keep_reject(&mut self, r: Reject) {
        if self.first_rejects.len() < KEPT_REJECTS {
            self.first_rejects.push(r.clone());
        }
        if self.keeps_all_rejects() || self.rejects.len() < KEPT_REJECTS {
            self.rejects.push(r);
        }
    }

    /// Hands the rejects gathered so far on as a batch of the `rejects` table once there are
    /// [`REJECT_BATCH`] of them (the `rejects` table, `ingest`), so that an object of junk
    /// lines never holds more than a batch of them.
    fn stream_rejects(&mut self) -> Result<(), ArrowError> {
        if self.keeps_all_rejects() && self.rejects.len() >= REJECT_BATCH {
            let kind = self.kind.unwrap_or(LogKind::Empty);
            let rejects = std::mem::take(&mut self.rejects);
            self.pending.push_back(reject_table::to_batch(
                &self.object,
                reject_kind(kind),
                &rejects,
            )?);
        }
        Ok(())
    }

    fn add_counts(&mut self, c: DecodeCounts) {
        self.counts.lines += c.lines;
        self.counts.blank += c.blank;
        self.counts.rows += c.rows;
        self.counts.rejects += c.rejects;
    }

    fn finish(&mut self) -> Result<(), ArrowError> {
        self.done = true;
        let kind = self.kind.unwrap_or(LogKind::Empty);
        if self.options.output == Output::Rejects && !self.rejects.is_empty() {
            let rejects = std::mem::take(&mut self.rejects);
            self.pending.push_back(reject_table::to_batch(
                &self.object,
                reject_kind(kind),
                &rejects,
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
                rejects: self.first_rejects.clone(),
            });
        }
        Ok(())
    }

    /// The object's rejects not yet handed on as batches, once the scan is done (for callers
    /// that store them; a scan that only counts them keeps the first [`KEPT_REJECTS`]).
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
