//! The reject stream of a scan: what could not be read, where, and why.
//!
//! In: the events of an object's decompression and decoding that are not records — a whole
//! object that is not a log (binary content, a failed fetch), a line too long for any window,
//! damage in the compressed stream (with the readable text before it). Out: [`Reject`]s in
//! their place (line number, byte offset, a bounded snippet of the raw text) and the counts,
//! with the `log_kind` the `rejects` table gives them.

use arrow::error::ArrowError;

use super::ObjectScan;
use crate::format::{LogKind, Reject, sniff};
use crate::source::Damage;
use crate::source::decompress::LongLine;

impl ObjectScan {
    pub(super) fn reject_object(&mut self, reason: String) {
        self.counts.rejects += 1;
        self.keep_reject(Reject::new(0, 0, reason, ""));
    }

    /// A line too long to be a record, skipped by the windows: one reject in its place.
    pub(super) fn long_line(&mut self, l: &LongLine) {
        self.bytes += l.len;
        if let Some(log) = &self.log {
            log.advance(l.len);
        }
        if self.kind.is_none() {
            self.kind = Some(LogKind::AccessLog);
        }
        self.counts.lines += 1;
        self.counts.rejects += 1;
        self.keep_reject(Reject::too_long(self.next_line, l.offset, l.len, &l.head));
        self.next_line += 1;
        self.next_offset = l.offset + l.len + u64::from(l.terminated);
    }

    pub(super) fn damage(&mut self, damage: &Damage) -> Result<(), ArrowError> {
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
        if self.kind == Some(LogKind::Json) || self.json.pieced {
            // The JSON before the damage, the incomplete line included: every complete record
            // in it is kept.
            self.bytes += damage.partial_line.len() as u64;
            let before = self.rejects.len();
            self.json_window(&damage.partial_line.clone(), true)?;
            if self.rejects.len() > before
                && self
                    .rejects
                    .last()
                    .is_some_and(|r| r.byte_offset >= readable)
            {
                cut_record = self.rejects.pop();
                if let (Some(cut), Some(last)) = (&cut_record, self.first_rejects.last())
                    && cut.byte_offset == last.byte_offset
                    && cut.reason == last.reason
                {
                    self.first_rejects.pop();
                }
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
        self.keep_reject(match cut_record {
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
}

/// The `log_kind` of an object's rejects.
pub fn reject_kind(kind: LogKind) -> &'static str {
    match kind {
        LogKind::AccessLog | LogKind::Empty => "access_log",
        LogKind::Json | LogKind::CloudTrail | LogKind::Digest => "cloudtrail",
        LogKind::Binary => "binary",
    }
}
