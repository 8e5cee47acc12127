//! Calendar arithmetic shared by the formats: civil dates to epoch days and back, without a
//! time-zone database or an allocation, because it runs once per record.

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a count of days since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

pub fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// A wall-clock date and time, as written in a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millis: u32,
}

impl Civil {
    /// Midnight of a date.
    pub fn date(year: i64, month: u32, day: u32) -> Self {
        Civil {
            year,
            month,
            day,
            hour: 0,
            minute: 0,
            second: 0,
            millis: 0,
        }
    }

    pub fn at(self, hour: u32, minute: u32, second: u32) -> Self {
        Civil {
            hour,
            minute,
            second,
            ..self
        }
    }

    /// Milliseconds since the epoch, in UTC, of this wall-clock time at `offset_minutes` east of
    /// UTC. `None` when the date or time cannot exist.
    pub fn to_epoch_millis(self, offset_minutes: i32) -> Option<i64> {
        let Civil {
            year,
            month,
            day,
            hour,
            minute,
            second,
            millis,
        } = self;
        to_millis(
            year,
            month,
            day,
            hour,
            minute,
            second,
            millis,
            offset_minutes,
        )
    }
}

/// Milliseconds since the epoch of `year-month-day hour:minute:second UTC`, for tests and
/// callers that have the parts at hand.
pub fn to_epoch_millis(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
) -> Option<i64> {
    Civil::date(year, month, day)
        .at(hour, minute, second)
        .to_epoch_millis(0)
}

#[expect(
    clippy::too_many_arguments,
    reason = "the private core of Civil::to_epoch_millis"
)]
fn to_millis(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    millis: u32,
    offset_minutes: i32,
) -> Option<i64> {
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
        || millis > 999
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second)
        - i64::from(offset_minutes) * 60;
    Some(secs * 1000 + i64::from(millis))
}

/// Writes the UTC day of `millis` as `yyyy/MM/dd` into `out` (10 bytes for years 0–9999).
pub fn format_day_slashed(millis: i64, out: &mut [u8; 10]) -> &str {
    let (y, m, d) = civil_from_days(millis.div_euclid(86_400_000));
    let y = y.clamp(0, 9999) as u32;
    let digits = [y / 1000, y / 100 % 10, y / 10 % 10, y % 10];
    for (i, v) in digits.iter().enumerate() {
        out[i] = b'0' + *v as u8;
    }
    out[4] = b'/';
    out[5] = b'0' + (m / 10) as u8;
    out[6] = b'0' + (m % 10) as u8;
    out[7] = b'/';
    out[8] = b'0' + (d / 10) as u8;
    out[9] = b'0' + (d % 10) as u8;
    // Only ASCII digits and slashes were written.
    std::str::from_utf8(out).unwrap_or("0000/00/00")
}

/// The UTC day of `millis` as `YYYY-MM-DD` (the lake's partition value).
pub fn day_dashed(millis: i64) -> String {
    let (y, m, d) = civil_from_days(millis.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_round_trip() {
        for days in [-719_468, -1, 0, 1, 10_957, 17_933, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2019, 2, 6), 17_933);
    }

    #[test]
    fn offsets_move_to_utc() {
        // 09/Feb/2021:14:48:42 +0200 is 12:48:42 UTC.
        let t = Civil::date(2021, 2, 9)
            .at(14, 48, 42)
            .to_epoch_millis(120)
            .unwrap();
        assert_eq!(t, to_epoch_millis(2021, 2, 9, 12, 48, 42).unwrap());
        // A negative offset can move the day forward.
        let t = Civil::date(2021, 12, 31)
            .at(23, 0, 0)
            .to_epoch_millis(-90)
            .unwrap();
        assert_eq!(day_dashed(t), "2022-01-01");
    }

    #[test]
    fn impossible_dates_are_refused() {
        assert!(to_epoch_millis(2019, 2, 29, 0, 0, 0).is_none());
        assert!(to_epoch_millis(2020, 2, 29, 0, 0, 0).is_some());
        assert!(to_epoch_millis(2019, 4, 31, 0, 0, 0).is_none());
        assert!(to_epoch_millis(2019, 13, 1, 0, 0, 0).is_none());
        assert!(to_epoch_millis(2019, 1, 1, 24, 0, 0).is_none());
        assert!(to_epoch_millis(2019, 1, 1, 0, 60, 0).is_none());
        assert!(to_epoch_millis(2019, 1, 1, 0, 0, 60).is_none());
    }

    #[test]
    fn day_formats() {
        let t = to_epoch_millis(2019, 2, 6, 0, 0, 38).unwrap();
        let mut buf = [0u8; 10];
        assert_eq!(format_day_slashed(t, &mut buf), "2019/02/06");
        assert_eq!(day_dashed(t), "2019-02-06");
    }
}
