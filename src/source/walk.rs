//! Listing only the part of an S3 prefix that a time window needs.
//!
//! In: a store that lists page by page with a delimiter and `start-after` (S3's ListObjectsV2,
//! [`PaginatedListStore`]), a prefix and a [`KeyWindow`]. Out: the objects under the prefix
//! that may hold records of the window ([`KeyWindow::may_hold`]), having listed about the
//! window's keys rather than the bucket's, with many listing requests in flight.
//!
//! The walk goes down the prefix one level at a time, each level one request per page:
//! - with `/` as delimiter through folders. Accounts, regions, buckets are all walked; a
//!   `YYYY/MM` folder outside the window is not; a `YYYY/MM/DD` folder is listed whole when its
//!   day meets the window (records partitioned by event time), listed from the window's first
//!   key name to its last when only the delivery slack reaches it, and left out otherwise;
//! - with `-` as delimiter where AWS's flat access-log names (`YYYY-MM-DD-HH-MM-SS-…`) lie
//!   side by side in one folder (found when a folder's page holds one): years, then months,
//!   then days are common prefixes, and a day is listed like a day folder; of a day that only
//!   the delivery slack reaches, the hours it reaches. Names that do not continue as a date
//!   (`2026-notes.txt`, `eu-west-1/`) are walked as folders again.
//!
//! A name that begins like a date of a month outside the window (`2025-01-…`) is taken for
//! one; anything else that is not an AWS name of another time is listed.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use object_store::list::{PaginatedListOptions, PaginatedListStore};
use object_store::{ObjectMeta, Result};

use super::keydate::{access_log_time, folder_day};
use super::prune::{DAY_MS, EARLY_MS, KeyWindow, TimeRange, day_start};
use crate::format::time::civil_from_days;

/// Keys asked for in a folder's first page.
const FIRST_PAGE: usize = 10;

/// What one listing request is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Job {
    /// A folder, `/` as delimiter.
    Folder(String),
    /// Flat dated names under `base` (a folder), `-` as delimiter; `depth` date parts (year,
    /// month, day) are already in `prefix`.
    Dated {
        prefix: String,
        base: String,
        depth: u8,
    },
    /// Everything under the prefix.
    All(String),
    /// Keys under `prefix` after `after`, up to the first one past `stop`.
    Between {
        prefix: String,
        after: Option<String>,
        stop: Option<String>,
    },
}

impl Job {
    fn prefix(&self) -> &str {
        match self {
            Job::Folder(p) | Job::All(p) => p,
            Job::Dated { prefix, .. } | Job::Between { prefix, .. } => prefix,
        }
    }
}

/// A job and the page of it to fetch.
struct Task {
    job: Job,
    token: Option<String>,
}

/// What the walk did: its requests, for the tests and `--verbose` figures.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WalkStats {
    pub requests: usize,
    /// Keys the listing returned (common prefixes not counted).
    pub keys: usize,
}

/// The objects under `prefix` (a folder: empty or ending in `/`) that may hold records of
/// `window`, with at most `concurrency` listing requests in flight.
pub async fn list_window(
    store: &Arc<dyn PaginatedListStore>,
    prefix: &str,
    window: &KeyWindow,
    concurrency: usize,
) -> Result<(Vec<ObjectMeta>, WalkStats)> {
    let mut queue: VecDeque<Task> = VecDeque::new();
    let mut scheduled: HashSet<Job> = HashSet::new();
    let mut seen: HashSet<object_store::path::Path> = HashSet::new();
    let mut out = Vec::new();
    let mut stats = WalkStats::default();
    // The prefix itself can be a day or month folder.
    let Some(root) = folder_job(prefix.to_string(), window) else {
        return Ok((Vec::new(), WalkStats::default()));
    };
    scheduled.insert(root.clone());
    queue.push_back(Task {
        job: root,
        token: None,
    });
    let mut running = FuturesUnordered::new();
    loop {
        while running.len() < concurrency.max(1)
            && let Some(task) = queue.pop_front()
        {
            stats.requests += 1;
            running.push(step(Arc::clone(store), task, *window));
        }
        let Some(done) = running.next().await else {
            break;
        };
        let (objects, next, keys) = done?;
        stats.keys += keys;
        for meta in objects {
            if seen.insert(meta.location.clone()) {
                out.push(meta);
            }
        }
        for task in next {
            // A continuation page is always fetched; a new job once.
            if task.token.is_some() || scheduled.insert(task.job.clone()) {
                queue.push_back(task);
            }
        }
    }
    Ok((out, stats))
}

/// One request: the objects it found that the window needs, and what to list next.
async fn step(
    store: Arc<dyn PaginatedListStore>,
    task: Task,
    window: KeyWindow,
) -> Result<(Vec<ObjectMeta>, Vec<Task>, usize)> {
    let delimiter = match &task.job {
        Job::Folder(_) => Some("/"),
        Job::Dated { .. } => Some("-"),
        Job::All(_) | Job::Between { .. } => None,
    };
    let offset = match &task.job {
        Job::Between { after, .. } => after.clone(),
        _ => None,
    };
    let prefix = task.job.prefix();
    // A folder's first page is short: if AWS's flat names lie there, the walk goes by date
    // after a few of them rather than a page of a thousand.
    let max_keys =
        (matches!(task.job, Job::Folder(_)) && task.token.is_none()).then_some(FIRST_PAGE);
    let page = store
        .list_paginated(
            (!prefix.is_empty()).then_some(prefix),
            PaginatedListOptions {
                offset,
                delimiter: delimiter.map(Into::into),
                page_token: task.token.clone(),
                max_keys,
                ..Default::default()
            },
        )
        .await?;
    let keys = page.result.objects.len();
    let mut next = Vec::new();
    let mut objects = Vec::new();
    let mut more = page.page_token.is_some();
    match &task.job {
        Job::Folder(prefix) => {
            // AWS's flat names side by side here: walked by date instead (this level again
            // from its start, so nothing of this page is lost).
            let flat = page.result.objects.iter().any(|m| {
                m.location
                    .filename()
                    .is_some_and(|n| access_log_time(n).is_some())
            });
            if flat {
                next.push(job(Job::Dated {
                    prefix: prefix.clone(),
                    base: prefix.clone(),
                    depth: 0,
                }));
                return Ok((objects, next, keys));
            }
            for p in &page.result.common_prefixes {
                let folder = format!("{p}/");
                if let Some(j) = folder_job(folder, &window) {
                    next.push(job(j));
                }
            }
            objects.extend(
                page.result
                    .objects
                    .into_iter()
                    .filter(|m| window.may_hold(m.location.as_ref())),
            );
        }
        Job::Dated {
            prefix,
            base,
            depth,
        } => {
            for p in &page.result.common_prefixes {
                let p = p.as_ref();
                let Some(rest) = p.strip_prefix(prefix.as_str()) else {
                    continue;
                };
                if let Some(slash) = rest.find('/') {
                    next.push(job(Job::Folder(format!("{prefix}{}", &rest[..=slash]))));
                    continue;
                }
                let part = rest.strip_suffix('-').unwrap_or(rest);
                let date = &p[base.len()..];
                match dated_job(p, base, date, part, *depth, &window) {
                    Some(Some(j)) => next.push(job(j)),
                    Some(None) => {}
                    None => next.push(job(Job::Folder(p.to_string()))),
                }
            }
            objects.extend(
                page.result
                    .objects
                    .into_iter()
                    .filter(|m| window.may_hold(m.location.as_ref())),
            );
        }
        Job::All(_) => objects.extend(
            page.result
                .objects
                .into_iter()
                .filter(|m| window.may_hold(m.location.as_ref())),
        ),
        Job::Between { stop, .. } => {
            for m in page.result.objects {
                if stop
                    .as_ref()
                    .is_some_and(|s| m.location.as_ref() > s.as_str())
                {
                    more = false;
                    break;
                }
                if window.may_hold(m.location.as_ref()) {
                    objects.push(m);
                }
            }
        }
    }
    if more {
        next.push(Task {
            job: task.job,
            token: page.page_token,
        });
    }
    Ok((objects, next, keys))
}

fn job(job: Job) -> Task {
    Task { job, token: None }
}

/// The span of the days of a `YYYY`, `MM` pair.
fn month_span(y: &str, m: &str) -> Option<(i64, i64)> {
    let first = folder_day(y, m, "01")?;
    let (year, month) = (y.parse::<i64>().ok()?, m.parse::<u32>().ok()?);
    let next = if month == 12 {
        day_start(year + 1, 1, 1)?
    } else {
        day_start(year, month + 1, 1)?
    };
    Some((first, next))
}

/// How a folder is listed, if at all.
fn folder_job(folder: String, window: &KeyWindow) -> Option<Job> {
    let parts: Vec<&str> = folder.trim_end_matches('/').rsplit('/').take(3).collect();
    if let [d, m, y] = parts[..]
        && let Some(day) = folder_day(y, m, d)
    {
        return day_job(folder.clone(), &folder, day, window, true);
    }
    if let [m, y, ..] = parts[..]
        && let Some((from, to)) = month_span(y, m)
        && !window
            .range
            .meets(from.saturating_sub(window.slack_ms), to + EARLY_MS)
        && to <= window.future_after
    {
        return None;
    }
    Some(Job::Folder(folder))
}

/// How a day's keys under `prefix` are listed (a day folder, or the flat names of one day
/// under `base`): whole when the day's records may all be needed, between the window's first
/// and last key names when only some deliveries of the day are, not at all when none is.
/// `folder`: the day is a folder, whose records may be partitioned by their own day.
fn day_job(prefix: String, base: &str, day: i64, window: &KeyWindow, folder: bool) -> Option<Job> {
    if !window.day_may_hold(day) && day + DAY_MS <= window.future_after {
        return None;
    }
    if folder && (window.range.meets(day, day + DAY_MS) || day > window.future_after) {
        return Some(Job::All(prefix));
    }
    names_job(prefix, base, day, day + DAY_MS, window)
}

/// How the keys under `prefix` named from `from` to `to` (a day or an hour of deliveries) are
/// listed: whole when the window needs every delivery of the span, from/to the window's key
/// names when it needs some, not at all when it needs none.
fn names_job(prefix: String, base: &str, from: i64, to: i64, window: &KeyWindow) -> Option<Job> {
    // Deliveries named in [start - EARLY, end + slack) are needed, and every key named after
    // `future_after` (see `KeyWindow::future_after`).
    let range = window.range;
    let mut needed = TimeRange::new(
        range.start.map(|s| s - EARLY_MS),
        range.end.map(|e| e.saturating_add(window.slack_ms)),
    );
    let future = window.future_after;
    if to > future {
        needed = if needed.meets(from, to) {
            // Both: from the window's first name to the end of the span.
            TimeRange::new(needed.start, None)
        } else {
            TimeRange::new(Some(future), None)
        };
    }
    if !needed.meets(from, to) {
        return None;
    }
    if needed.start.is_none_or(|s| s <= from) && needed.end.is_none_or(|e| e >= to) {
        return Some(Job::All(prefix));
    }
    let names = NameShape::of(base);
    Some(Job::Between {
        after: needed
            .start
            .filter(|&s| s > from)
            .map(|s| names.at(s, false)),
        stop: needed.end.filter(|&e| e < to).map(|e| names.at(e, true)),
        prefix,
    })
}

/// What a date part of a flat name means: `Some(Some(job))` to list, `Some(None)` to leave
/// out, `None` when it is no date (walked as a folder).
fn dated_job(
    prefix: &str,
    base: &str,
    date: &str,
    part: &str,
    depth: u8,
    window: &KeyWindow,
) -> Option<Option<Job>> {
    let digits = |n: usize| part.len() == n && part.bytes().all(|b| b.is_ascii_digit());
    match depth {
        0 if digits(4) => Some(Some(Job::Dated {
            prefix: prefix.to_string(),
            base: base.to_string(),
            depth: 1,
        })),
        1 if digits(2) => {
            let (from, to) = month_span(&date[..4], part)?;
            let reach = window
                .range
                .meets(from.saturating_sub(window.slack_ms), to + EARLY_MS)
                || to > window.future_after;
            Some(reach.then(|| Job::Dated {
                prefix: prefix.to_string(),
                base: base.to_string(),
                depth: 2,
            }))
        }
        2 if digits(2) => {
            let day = folder_day(&date[..4], &date[5..7], part)?;
            Some(
                match day_job(prefix.to_string(), base, day, window, false) {
                    // Only the day's first deliveries (those the slack reaches): by hour, so that
                    // the listing stops about where the window does rather than a page later.
                    Some(Job::Between { stop: Some(_), .. }) => Some(Job::Dated {
                        prefix: prefix.to_string(),
                        base: base.to_string(),
                        depth: 3,
                    }),
                    other => other,
                },
            )
        }
        3 if digits(2) => {
            let day = folder_day(&date[..4], &date[5..7], &date[8..10])?;
            let hour: i64 = part.parse().ok().filter(|h| *h < 24)?;
            let from = day + hour * 3_600_000;
            Some(names_job(
                prefix.to_string(),
                base,
                from,
                from + 3_600_000,
                window,
            ))
        }
        _ => None,
    }
}

/// How the AWS names in a folder begin, to turn a time into a key to list from or to.
enum NameShape {
    /// `FOLDER/YYYY-MM-DD-HH-MM-SS-…` (access logs).
    AccessLog(String),
    /// `FOLDER/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_…` in
    /// `…/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/`.
    CloudTrail(String),
}

impl NameShape {
    fn of(folder: &str) -> NameShape {
        let parts: Vec<&str> = folder.trim_end_matches('/').rsplit('/').collect();
        if let [_, _, _, region, "CloudTrail", account, ..] = parts[..] {
            return NameShape::CloudTrail(format!("{folder}{account}_CloudTrail_{region}_"));
        }
        NameShape::AccessLog(folder.to_string())
    }

    /// The key of a delivery at `ms` (rounded down to the name's precision); `past`: a key
    /// after every name of that time.
    fn at(&self, ms: i64, past: bool) -> String {
        let days = ms.div_euclid(DAY_MS);
        let (y, mo, d) = civil_from_days(days);
        let secs = ms.div_euclid(1000) - days * 86_400;
        let (h, mi, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        let tail = if past { "~" } else { "" };
        match self {
            NameShape::AccessLog(base) => {
                format!("{base}{y:04}-{mo:02}-{d:02}-{h:02}-{mi:02}-{s:02}{tail}")
            }
            NameShape::CloudTrail(base) => {
                format!("{base}{y:04}{mo:02}{d:02}T{h:02}{mi:02}Z{tail}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_times() {
        let t = day_start(2026, 3, 14).unwrap() + 10 * 3_600_000 + 5 * 60_000 + 7_250;
        assert_eq!(
            NameShape::of("logs/").at(t, false),
            "logs/2026-03-14-10-05-07"
        );
        assert_eq!(
            NameShape::of("AWSLogs/o-1/123/CloudTrail/us-east-1/2026/03/14/").at(t, true),
            "AWSLogs/o-1/123/CloudTrail/us-east-1/2026/03/14/123_CloudTrail_us-east-1_20260314T1005Z~"
        );
    }

    #[test]
    fn folders() {
        let day = day_start(2026, 3, 14).unwrap();
        let w = KeyWindow::new(
            TimeRange::new(Some(day), Some(day + DAY_MS)),
            12 * 3_600_000,
        );
        assert_eq!(
            folder_job("a/2026/03/14/".into(), &w),
            Some(Job::All("a/2026/03/14/".into()))
        );
        assert_eq!(folder_job("a/2026/03/16/".into(), &w), None);
        assert_eq!(folder_job("a/2026/01/".into(), &w), None);
        assert_eq!(
            folder_job("a/2026/03/".into(), &w),
            Some(Job::Folder("a/2026/03/".into()))
        );
        // The next day: its first twelve hours of deliveries.
        assert_eq!(
            folder_job("a/2026/03/15/".into(), &w),
            Some(Job::Between {
                prefix: "a/2026/03/15/".into(),
                after: None,
                stop: Some("a/2026/03/15/2026-03-15-12-00-00~".into()),
            })
        );
        // The day before: its last EARLY.
        assert_eq!(
            folder_job("a/2026/03/13/".into(), &w),
            Some(Job::Between {
                prefix: "a/2026/03/13/".into(),
                after: Some("a/2026/03/13/2026-03-13-23-55-00".into()),
                stop: None,
            })
        );
        // Flat names: the next day by hour, the hours the slack reaches.
        let flat = |date: &str, part: &str, depth| {
            let prefix = format!("logs/{date}");
            dated_job(&prefix, "logs/", date, part, depth, &w)
        };
        assert_eq!(
            flat("2026-03-15-", "15", 2),
            Some(Some(Job::Dated {
                prefix: "logs/2026-03-15-".into(),
                base: "logs/".into(),
                depth: 3,
            }))
        );
        assert_eq!(
            flat("2026-03-15-11-", "11", 3),
            Some(Some(Job::All("logs/2026-03-15-11-".into())))
        );
        assert_eq!(flat("2026-03-15-12-", "12", 3), Some(None));
        assert_eq!(flat("2026-03-15-23-", "23", 3), Some(None));
        assert_eq!(
            flat("2026-03-14-", "14", 2),
            Some(Some(Job::All("logs/2026-03-14-".into())))
        );
        // The day before: its last EARLY, from a key on.
        assert_eq!(
            flat("2026-03-13-", "13", 2),
            Some(Some(Job::Between {
                prefix: "logs/2026-03-13-".into(),
                after: Some("logs/2026-03-13-23-55-00".into()),
                stop: None,
            }))
        );
        assert_eq!(flat("2026-03-15-xx-", "xx", 3), None);
        // A bucket named like a year is walked.
        assert_eq!(
            folder_job("a/2024/".into(), &w),
            Some(Job::Folder("a/2024/".into()))
        );
    }
}
