//! A CloudTrail document (any of its shapes) decoded whole into the scan's batches.
//!
//! In: the object's text, gathered across windows. Out: the scan's batches of `cloudtrail`
//! rows, its rejects (a record that does not read, damage around the records) and counts; the
//! object's kind settles as CloudTrail or, when it holds only digests, as a digest.

use arrow::buffer::Buffer;
use arrow::error::ArrowError;

use super::{ObjectScan, Output};
use crate::format::cloudtrail::{CloudTrailDecoder, shapes};
use crate::format::{LogKind, Reject};

impl ObjectScan {
    /// Decodes a whole JSON object (CloudTrail in one of its shapes).
    pub(super) fn decode_json(&mut self, data: Buffer) -> Result<(), ArrowError> {
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
