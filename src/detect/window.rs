//! The time span a detection run analyses, and the times users write.
//!
//! In: `--since`/`--until` as given (`2026-11-01`, `2026-11-01T06:00:00Z`, `24h`, `7d`) and the
//! baseline's length. Out: a [`Window`] in milliseconds, and the SQL literals the detections'
//! `${since}`, `${until}`, `${baseline_start}` and `${baseline_days}` become.

use std::collections::BTreeMap;

use crate::format::cloudtrail::json::iso_time;
use crate::format::time::Civil;

/// The time span analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Milliseconds since the epoch; `None`: from the start of the data.
    pub since: Option<i64>,
    /// Exclusive; `None`: to the end of the data.
    pub until: Option<i64>,
    pub baseline_days: u32,
}

impl Default for Window {
    fn default() -> Self {
        Window {
            since: None,
            until: None,
            baseline_days: 7,
        }
    }
}

pub(super) const DAY_MS: i64 = 86_400_000;
/// Far enough from any log to mean "unbounded" in SQL comparisons.
pub(super) const EARLIEST: i64 = 0;
pub(super) const LATEST: i64 = 253_402_300_799_000; // 9999-12-31T23:59:59Z

impl Window {
    pub fn baseline_start(&self) -> i64 {
        self.since.map_or(EARLIEST, |s| {
            s.saturating_sub(i64::from(self.baseline_days) * DAY_MS)
        })
    }

    /// The values `${since}`, `${until}`, `${baseline_start}` and `${baseline_days}` take.
    pub fn builtins(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (
                "since".into(),
                timestamp_literal(self.since.unwrap_or(EARLIEST)),
            ),
            (
                "until".into(),
                timestamp_literal(self.until.unwrap_or(LATEST)),
            ),
            (
                "baseline_start".into(),
                timestamp_literal(self.baseline_start()),
            ),
            ("baseline_days".into(), self.baseline_days.to_string()),
        ])
    }
}

/// A SQL literal of the UTC timestamp type the tables use.
pub fn timestamp_literal(ms: i64) -> String {
    format!("arrow_cast(to_timestamp_millis({ms}), 'Timestamp(ms, \"UTC\")')")
}

/// The earliest time a span may reach back to: 0001-01-01T00:00:00Z.
const MIN_TIME_MS: i64 = -62_135_596_800_000;

/// The forms a time may take, for help and errors.
pub const TIME_FORMS: &str = "2026-11-01, 2026-11-01T12:00:00Z, 2026-11-01T21:00:00+01:00 (RFC 3339, any offset), now, today, yesterday (UTC days), or a span before now: 30m, 24h, 7d, 2w";

/// A time as [`TIME_FORMS`] lists them: a UTC date, an RFC 3339 time with `Z` or an offset,
/// `now`, `today` or `yesterday` (the start of the UTC day), or a span before now (`24h`).
pub fn parse_time(s: &str, now_ms: i64) -> Result<i64, String> {
    let t = s.trim();
    let midnight = now_ms.div_euclid(DAY_MS) * DAY_MS;
    match t.to_ascii_lowercase().as_str() {
        "now" => return Ok(now_ms),
        "today" => return Ok(midnight),
        "yesterday" => return Ok(midnight - DAY_MS),
        _ => {}
    }
    if let Some((number, unit)) = t.find(|c: char| !c.is_ascii_digit()).map(|i| t.split_at(i))
        && !number.is_empty()
        && let Ok(n) = number.parse::<i64>()
    {
        let unit_ms = match unit {
            "m" | "min" => Some(60_000),
            "h" => Some(3_600_000),
            "d" => Some(DAY_MS),
            "w" => Some(7 * DAY_MS),
            _ => None,
        };
        if let Some(u) = unit_ms {
            // Checked: `200000000000d` is before any time a log can hold, not a wrap-around.
            return n
                .checked_mul(u)
                .and_then(|back| now_ms.checked_sub(back))
                .filter(|ms| *ms >= MIN_TIME_MS)
                .ok_or_else(|| {
                    format!("'{s}' reaches back before the year 1 (use a shorter span)")
                });
        }
    }
    if t.len() == 10
        && let [y, m, d] = t.split('-').collect::<Vec<_>>()[..]
        && let (Ok(y), Ok(m), Ok(d)) = (y.parse(), m.parse(), d.parse())
        && let Some(ms) = Civil::date(y, m, d).to_epoch_millis(0)
    {
        return Ok(ms);
    }
    iso_time(t).ok_or_else(|| format!("not a time: '{s}' (use {TIME_FORMS})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let now = Civil::date(2026, 11, 22).to_epoch_millis(0).unwrap();
        assert_eq!(parse_time("24h", now), Ok(now - DAY_MS));
        assert_eq!(parse_time("7d", now), Ok(now - 7 * DAY_MS));
        assert_eq!(
            parse_time("2026-11-01", now),
            Ok(Civil::date(2026, 11, 1).to_epoch_millis(0).unwrap())
        );
        assert_eq!(
            parse_time("2026-11-01T06:00:00Z", now),
            Ok(Civil::date(2026, 11, 1)
                .at(6, 0, 0)
                .to_epoch_millis(0)
                .unwrap())
        );
        assert_eq!(parse_time("today", now), Ok(now));
        assert_eq!(parse_time("Yesterday", now + 3_600_000), Ok(now - DAY_MS));
        assert_eq!(parse_time("now", now + 5), Ok(now + 5));
        assert_eq!(
            parse_time("2026-11-01T21:00:00+01:00", now),
            Ok(Civil::date(2026, 11, 1)
                .at(20, 0, 0)
                .to_epoch_millis(0)
                .unwrap())
        );
        let e = parse_time("21:00 CET", now).unwrap_err();
        assert!(e.contains("+01:00") && e.contains("yesterday"), "{e}");
        // Spans that reach past any representable time are errors, not wrap-arounds.
        for huge in ["200000000000d", "9223372036854775807m", "15250284452w"] {
            let e = parse_time(huge, now).unwrap_err();
            assert!(e.contains("before the year 1"), "{huge}: {e}");
        }
    }
}
