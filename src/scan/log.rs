//! What the scans of a run saw, shared by all of them, and their progress.
//!
//! In: each object's [`ObjectReport`] when its scan is done, the objects that could not be read,
//! and the decompressed bytes as they are read. Out: a [`Summary`] (counts, the first rejects,
//! the unreadable objects) for the command line to print, the rejected objects for the
//! `unparsed-records` detection, and progress through a [`Progress`] that the caller supplies
//! (the command line shows a bar; the library knows nothing of how).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::{ObjectReport, reject_kind};
use crate::format::access_log::DecodeCounts;
use crate::format::{LogKind, Reject};

/// Where scans report progress.
pub trait Progress: Send + Sync {
    /// `bytes` more bytes were read: decompressed ones, or, once a total is expected, the
    /// stored size of an object done.
    fn advance(&self, bytes: u64);
    /// The total to expect, once it is known (the stored sizes of the objects to read).
    fn expect(&self, _total: u64) {}
    /// The work is done.
    fn finish(&self) {}
}

/// How many reject examples the summary keeps.
pub const SUMMARY_EXAMPLES: usize = 5;

/// What the scans of a run saw, shared by all of them: counts per object and a few reject
/// examples, for the summary on stderr. An object scanned twice in one query is counted once.
#[derive(Clone, Default)]
pub struct ScanLog {
    inner: Arc<Mutex<LogInner>>,
    progress: Option<Arc<dyn Progress>>,
    /// Whether the progress counts stored bytes (objects done, against a total of their
    /// sizes: [`ScanLog::expect`]) rather than decompressed bytes as they are read: one unit
    /// for the total and the count.
    stored: Arc<std::sync::atomic::AtomicBool>,
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
    /// Objects named like logs ([`crate::format::named_like_a_log`]) or shaped like them (a
    /// record read, or a first reject [`crate::format::shaped_like_a_log`]).
    pub named_like_logs: u64,
    /// The first few objects read, by name.
    pub first_objects: Vec<String>,
}

impl ScanLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reports progress (decompressed bytes) to `progress`.
    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> Self {
        self.progress = Some(progress);
        self
    }

    pub(super) fn advance(&self, bytes: u64) {
        if let Some(p) = &self.progress
            && !self.stored.load(std::sync::atomic::Ordering::Relaxed)
        {
            p.advance(bytes);
        }
    }

    /// The total progress will reach, in stored (compressed) bytes: from now on progress
    /// advances by [`ScanLog::object_done`], not by the decompressed bytes read.
    pub fn expect(&self, total: u64) {
        self.stored
            .store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(p) = &self.progress {
            p.expect(total);
        }
    }

    /// An object of `stored` bytes (as listed) has been read.
    pub fn object_done(&self, stored: u64) {
        if let Some(p) = &self.progress
            && self.stored.load(std::sync::atomic::Ordering::Relaxed)
        {
            p.advance(stored);
        }
    }

    /// The scans are over: progress is no longer shown.
    pub fn finish_progress(&self) {
        if let Some(p) = &self.progress {
            p.finish();
        }
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

    /// The names of the objects read (or found unreadable) so far.
    pub fn object_names(&self) -> Vec<String> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .objects
            .keys()
            .chain(inner.unreadable.keys())
            .cloned()
            .collect()
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
        for (name, seen) in &inner.objects {
            s.named_like_logs += u64::from(
                crate::format::named_like_a_log(name)
                    || seen.counts.rows > 0
                    || seen
                        .first_reject
                        .as_ref()
                        .is_some_and(|r| crate::format::shaped_like_a_log(&r.raw)),
            );
            if s.first_objects.len() < 3 {
                s.first_objects.push(name.clone());
            }
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
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::{Progress, ScanLog};

    #[derive(Default)]
    struct Counted {
        done: AtomicU64,
        total: AtomicU64,
    }

    impl Progress for Counted {
        fn advance(&self, bytes: u64) {
            self.done.fetch_add(bytes, Ordering::Relaxed);
        }
        fn expect(&self, total: u64) {
            self.total.store(total, Ordering::Relaxed);
        }
    }

    /// A bar with a total of stored (compressed) bytes counts stored bytes too: it reaches
    /// its total when every object is done, however much the objects decompress to.
    #[test]
    fn progress_counts_in_the_unit_of_its_total() {
        let bar = Arc::new(Counted::default());
        let log = ScanLog::new().with_progress(bar.clone());
        log.advance(1_000);
        assert_eq!(bar.done.load(Ordering::Relaxed), 1_000);
        let bar = Arc::new(Counted::default());
        let log = ScanLog::new().with_progress(bar.clone());
        log.expect(100);
        log.advance(5_000);
        log.object_done(60);
        assert_eq!(bar.done.load(Ordering::Relaxed), 60);
        log.advance(7_000);
        log.object_done(40);
        assert_eq!(bar.done.load(Ordering::Relaxed), 100);
        assert_eq!(bar.total.load(Ordering::Relaxed), 100);
    }
}
