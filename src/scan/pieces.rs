//! Windows of access-log text decoded in parallel pieces.
//!
//! In: one window of whole lines (from [`crate::source::Windows`]), the scan's decoder
//! options and where the window starts (line number, byte offset). Out: each piece's batches,
//! rejects and counts, in the window's order, with the lines and offsets they would have had in
//! one piece. A window is split (at line breaks, on rayon) only when threads would otherwise be
//! idle: [`Busy`] counts the scans under way process-wide, and with as many as threads each
//! thread already has a whole object.

use std::ops::Range;

use arrow::array::RecordBatch;
use arrow::error::ArrowError;

use crate::format::Reject;
use crate::format::access_log::{AccessLogDecoder, DecodeCounts, DecoderOptions};

/// Windows at least this big are decoded in parallel pieces.
pub const PARALLEL_MIN: usize = 1 << 20;

/// Counts the scans that have not finished decoding, process-wide. When there are at least as
/// many as threads, the threads are busy with whole objects and a window is decoded in one
/// piece: splitting it would only make the caller wait on rayon for pieces that compete with
/// the other scans (two threads over 200 objects: 1.12 s in one piece, 1.34 s in pieces). With
/// fewer (one large object, or the last objects of a run) the pieces keep every thread busy.
pub(super) struct Busy;

static BUSY: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Busy {
    pub(super) fn new() -> Self {
        BUSY.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Busy
    }

    pub(super) fn count() -> usize {
        BUSY.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

pub(super) struct Piece {
    pub(super) batches: Vec<RecordBatch>,
    pub(super) rejects: Vec<Reject>,
    pub(super) counts: DecodeCounts,
}

pub(super) fn decode_piece(
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
pub(super) fn pieces_for(len: usize, threads: usize, busy: usize) -> usize {
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
pub(super) fn split_at_lines(data: &[u8], n: usize) -> Vec<Range<usize>> {
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;

    use super::*;
    use crate::scan::{ObjectReport, ObjectScan, Output, ScanOptions, decode_all};
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
        let Some(corpora) = crate::test_support::corpora() else {
            return;
        };
        let good = std::fs::read_to_string(
            corpora.join("access-logs/opentelemetry/valid_s3_access_log.log"),
        )
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
