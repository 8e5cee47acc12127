//! Which log objects can hold records of a time range, judged from their keys alone.
//!
//! In: a range of record times (from a query's filters, or `detect`'s window) and an object's
//! key. Out: whether the object may hold records in the range. AWS names deliveries by the time
//! they were written ([`super::keydate`]): an access-log object named `T` holds records from
//! before `T` (best effort: they can arrive hours late, so from `T - slack` on), a CloudTrail
//! file written at `T` holds events of the minutes before it. Partitioned layouts add a
//! `YYYY/MM/DD/` folder: the delivery's day, or, for access logs partitioned by event time, the
//! day of every record in it. Both readings are allowed for, so an object is kept when
//! `[T - slack, T + EARLY]` or its folder's day meets the range. A key with neither an AWS name
//! nor a day folder is always kept: pruning never changes an answer.

use crate::format::time::Civil;

use super::keydate::{key_time, partition_day};

pub const DAY_MS: i64 = 86_400_000;

/// How long after its records an object can be delivered, by default: 12 hours (AWS: access
/// logs are delivered "within a few hours", best effort; CloudTrail within about 5 minutes).
pub const DEFAULT_SLACK_MS: i64 = 12 * 3_600_000;

/// How far a record's time may lie after the time in its object's name (clocks differ between
/// the machines that log and the ones that deliver, and CloudTrail names carry only the
/// minute): five minutes.
pub const EARLY_MS: i64 = 5 * 60_000;

/// A range of record times in milliseconds since the epoch, `[start, end)`; `None` is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeRange {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

impl TimeRange {
    /// Every time.
    pub const ALL: TimeRange = TimeRange {
        start: None,
        end: None,
    };

    pub fn new(start: Option<i64>, end: Option<i64>) -> Self {
        TimeRange { start, end }
    }

    pub fn is_all(&self) -> bool {
        self.start.is_none() && self.end.is_none()
    }

    /// Times in both.
    pub fn and(self, other: TimeRange) -> TimeRange {
        let max = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let min = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        TimeRange {
            start: max(self.start, other.start),
            end: min(self.end, other.end),
        }
    }

    /// The smallest range holding both (for `OR`).
    pub fn hull(self, other: TimeRange) -> TimeRange {
        let lower = |a: Option<i64>, b: Option<i64>| Some(a?.min(b?));
        let upper = |a: Option<i64>, b: Option<i64>| Some(a?.max(b?));
        TimeRange {
            start: lower(self.start, other.start),
            end: upper(self.end, other.end),
        }
    }

    /// Whether `[from, to)` meets the range.
    pub fn meets(&self, from: i64, to: i64) -> bool {
        from < to && self.start.is_none_or(|s| to > s) && self.end.is_none_or(|e| from < e)
    }

    /// Whether no time is in the range.
    pub fn is_empty(&self) -> bool {
        matches!((self.start, self.end), (Some(s), Some(e)) if s >= e)
    }
}

/// The objects a time range needs, by key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyWindow {
    pub range: TimeRange,
    /// Delivery lag allowed for ([`DEFAULT_SLACK_MS`]).
    pub slack_ms: i64,
    /// Keys named after this time ([`future_after`]) are always needed.
    pub future_after: i64,
}

/// The time after which a key's name cannot be a real delivery yet: now plus the delivery
/// slack. AWS names a delivery by when it was written, so a later name was chosen by whoever
/// wrote the object: such objects are always read (pruning must not let a name hide what they
/// hold) and never move a listing position forward ([`crate::lake::ingest`]).
pub fn future_after(slack_ms: i64) -> i64 {
    chrono::Utc::now()
        .timestamp_millis()
        .saturating_add(slack_ms.max(0))
}

/// Whether an object's key names a time after [`future_after`].
pub fn is_from_the_future(key: &str, future_after: i64) -> bool {
    key_time(key).is_some_and(|t| t > future_after)
        || partition_day(key).is_some_and(|d| d > future_after)
}

impl KeyWindow {
    pub fn new(range: TimeRange, slack_ms: i64) -> Self {
        KeyWindow {
            range,
            slack_ms: slack_ms.max(0),
            future_after: future_after(slack_ms),
        }
    }

    /// Whether every object is needed.
    pub fn is_all(&self) -> bool {
        self.range.is_all()
    }

    /// Whether the object `key` may hold records in the range (or is named from the future:
    /// [`future_after`]).
    pub fn may_hold(&self, key: &str) -> bool {
        if self.is_all() || is_from_the_future(key, self.future_after) {
            return true;
        }
        let named = key_time(key);
        let day = partition_day(key);
        if named.is_none() && day.is_none() {
            return true;
        }
        // A folder of another day than the delivery's is the records' own day (partitioned by
        // event time): the name says nothing about them.
        let event_time =
            matches!((named, day), (Some(t), Some(d)) if t.div_euclid(DAY_MS) * DAY_MS != d);
        if let Some(t) = named.filter(|_| !event_time)
            && self.range.meets(
                t.saturating_sub(self.slack_ms),
                t.saturating_add(EARLY_MS + 1),
            )
        {
            return true;
        }
        match (day, named) {
            // Named and in a day folder: the folder's day is the records' own, if partitioned
            // by event time.
            (Some(d), Some(_)) => self.range.meets(d, d + DAY_MS),
            // A day folder alone: the records of that day, or delivered on it.
            (Some(d), None) => self.day_may_hold(d),
            (None, _) => false,
        }
    }

    /// Whether objects of the day starting at `day_ms` (a `YYYY/MM/DD/` folder, or flat names
    /// `YYYY-MM-DD-…`) may hold records in the range: their records lie in
    /// `[day - slack, day + 1 day + EARLY)` whichever way the day was chosen.
    pub fn day_may_hold(&self, day_ms: i64) -> bool {
        self.is_all()
            || self.range.meets(
                day_ms.saturating_sub(self.slack_ms),
                day_ms.saturating_add(DAY_MS + EARLY_MS),
            )
    }
}

/// Midnight UTC of a date, if it is one.
pub fn day_start(year: i64, month: u32, day: u32) -> Option<i64> {
    if !(1..=12).contains(&month)
        || day == 0
        || day > crate::format::time::days_in_month(year, month)
    {
        return None;
    }
    Civil::date(year, month, day).to_epoch_millis(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(y: i64, mo: u32, d: u32, h: u32) -> i64 {
        Civil::date(y, mo, d)
            .at(h, 0, 0)
            .to_epoch_millis(0)
            .unwrap()
    }

    fn day(y: i64, mo: u32, d: u32) -> KeyWindow {
        KeyWindow::new(
            TimeRange::new(Some(ms(y, mo, d, 0)), Some(ms(y, mo, d, 0) + DAY_MS)),
            DEFAULT_SLACK_MS,
        )
    }

    /// An object named after now plus the slack is kept whatever the window: its name was
    /// chosen by whoever wrote it, not by AWS.
    #[test]
    fn a_key_from_the_future_is_always_kept() {
        let w = day(2026, 3, 14);
        assert!(!w.may_hold("logs/2026-03-20-00-00-00-A"));
        assert!(w.may_hold("logs/2099-12-31-23-59-59-A"));
        assert!(w.may_hold("logs/123_CloudTrail_us-east-1_20991231T2359Z_x.json.gz"));
        assert!(w.may_hold("logs/2099/12/31/x.gz"));
        assert!(is_from_the_future(
            "a/2099-12-31-23-59-59-A",
            future_after(0)
        ));
        assert!(!is_from_the_future(
            "a/2026-01-01-00-00-00-A",
            future_after(0)
        ));
    }

    #[test]
    fn ranges_combine() {
        let a = TimeRange::new(Some(10), Some(20));
        let b = TimeRange::new(Some(15), None);
        assert_eq!(a.and(b), TimeRange::new(Some(15), Some(20)));
        assert_eq!(a.hull(b), TimeRange::new(Some(10), None));
        assert_eq!(a.hull(TimeRange::ALL), TimeRange::ALL);
        assert!(TimeRange::new(Some(5), Some(5)).is_empty());
        assert!(a.meets(19, 30) && !a.meets(20, 30) && !a.meets(0, 10) && a.meets(0, 11));
    }

    /// A one-day window keeps the day's deliveries and the next `slack` of them (late ones), and
    /// objects partitioned by event time under that day whenever they were delivered.
    #[test]
    fn keys_are_judged_by_name_and_day_folder() {
        let w = day(2026, 3, 14);
        let flat = |name: &str| w.may_hold(&format!("logs/{name}"));
        assert!(flat("2026-03-14-00-00-00-A"));
        assert!(flat("2026-03-14-23-59-59-A"));
        assert!(flat("2026-03-15-11-00-00-A"), "delivered within the slack");
        assert!(!flat("2026-03-15-12-00-01-A"), "after the slack");
        assert!(flat("2026-03-13-23-57-00-A"), "within EARLY of the window");
        assert!(!flat("2026-03-13-23-50-00-A"));
        assert!(!flat("2025-03-14-10-00-00-A"));
        // Event-time partitions: a day-14 folder delivered days later is kept, a day-13 one
        // delivered on the 14th is not.
        assert!(w.may_hold("l/1/eu-west-1/b/2026/03/14/2026-03-17-10-00-00-A"));
        assert!(!w.may_hold("l/1/eu-west-1/b/2026/03/13/2026-03-14-10-00-00-A"));
        assert!(w.may_hold("l/1/eu-west-1/b/2026/03/14/2026-03-14-10-00-00-A"));
        assert!(!w.may_hold("l/1/eu-west-1/b/2026/03/16/2026-03-16-10-00-00-A"));
        // CloudTrail.
        assert!(w.may_hold(
            "AWSLogs/1/CloudTrail/us-east-1/2026/03/14/1_CloudTrail_us-east-1_20260314T1005Z_x.json.gz"
        ));
        assert!(!w.may_hold(
            "AWSLogs/1/CloudTrail/us-east-1/2026/03/12/1_CloudTrail_us-east-1_20260312T1005Z_x.json.gz"
        ));
        // No date: always kept. A day folder alone dates a key.
        assert!(w.may_hold("logs/access.log"));
        assert!(w.may_hold("logs/2026-03-10/x.gz"));
        assert!(!w.may_hold("logs/2026/03/10/x.gz"));
        assert!(w.may_hold("logs/2026/03/14/x.gz"));
        // An open window keeps everything.
        let all = KeyWindow::new(TimeRange::ALL, 0);
        assert!(all.may_hold("logs/1999-01-01-00-00-00-A"));
    }

    #[test]
    fn days() {
        let w = day(2026, 3, 14);
        assert!(w.day_may_hold(ms(2026, 3, 14, 0)));
        assert!(w.day_may_hold(ms(2026, 3, 15, 0)), "late deliveries");
        assert!(w.day_may_hold(ms(2026, 3, 13, 0)), "EARLY");
        assert!(!w.day_may_hold(ms(2026, 3, 12, 0)));
        assert!(!w.day_may_hold(ms(2026, 3, 16, 0)));
        assert_eq!(day_start(2026, 2, 29), None);
        assert_eq!(day_start(2026, 3, 14), Some(ms(2026, 3, 14, 0)));
    }
}
