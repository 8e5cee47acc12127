//! The time a log object's key says it was written, from the names AWS gives deliveries.
//!
//! Server access logs: `[PREFIX]YYYY-MM-DD-HH-MM-SS-UNIQUESTRING` (flat or under a partitioned
//! prefix; the time is the delivery's). CloudTrail:
//! `ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_UNIQUE.json.gz` (the time the file was written,
//! minutes after its events). Only the object's own name is read, so a prefix a user chose
//! cannot pass for a date; a name of neither shape has no date (`None`), and whatever uses
//! this must treat such an object as possibly holding any time.

use crate::format::time::Civil;

/// Milliseconds since the epoch that the object's name carries, if it has one of AWS's shapes.
pub fn key_time(object: &str) -> Option<i64> {
    let name = object.rsplit('/').next().unwrap_or(object);
    access_log_time(name).or_else(|| cloudtrail_time(name))
}

/// Midnight UTC of the `YYYY/MM/DD/` folder the object sits in (AWS's partitioned access-log
/// layout and CloudTrail's), if it sits in one.
pub fn partition_day(object: &str) -> Option<i64> {
    let mut parts = object.rsplit('/');
    parts.next()?;
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    folder_day(y, m, d)
}

/// Midnight UTC of a `YYYY`, `MM`, `DD` folder triple, if it is a date.
pub fn folder_day(y: &str, m: &str, d: &str) -> Option<i64> {
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    super::prune::day_start(
        i64::from(digits(y.as_bytes())?),
        digits(m.as_bytes())?,
        digits(d.as_bytes())?,
    )
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

fn at(y: u32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Civil::date(i64::from(y), mo, d)
        .at(h, mi, s)
        .to_epoch_millis(0)
}

/// `YYYY-MM-DD-HH-MM-SS-` at the start of the name (an object's name, without its folder).
pub fn access_log_time(name: &str) -> Option<i64> {
    let b = name.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let dashes = [4, 7, 10, 13, 16, 19];
    if dashes.iter().any(|&i| b[i] != b'-') {
        return None;
    }
    at(
        digits(&b[0..4])?,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    )
}

/// `_YYYYMMDDTHHMMZ_` after `_CloudTrail_REGION`.
fn cloudtrail_time(name: &str) -> Option<i64> {
    let after = &name[name.find("_CloudTrail_")? + "_CloudTrail_".len()..];
    let stamp = after.split('_').nth(1)?.as_bytes();
    if stamp.len() != 14 || stamp[8] != b'T' || stamp[13] != b'Z' {
        return None;
    }
    at(
        digits(&stamp[0..4])?,
        digits(&stamp[4..6])?,
        digits(&stamp[6..8])?,
        digits(&stamp[9..11])?,
        digits(&stamp[11..13])?,
        0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
        Civil::date(y, mo, d).at(h, mi, s).to_epoch_millis(0)
    }

    #[test]
    fn names_aws_gives_deliveries() {
        assert_eq!(
            key_time("s3://logs/prefix/2026-03-14-10-00-01-ABCDEF0123456789"),
            ms(2026, 3, 14, 10, 0, 1)
        );
        assert_eq!(
            key_time("/l/123456789012/eu-west-1/src/2026/03/14/2026-03-14-23-59-59-0A1B"),
            ms(2026, 3, 14, 23, 59, 59)
        );
        assert_eq!(
            key_time(
                "AWSLogs/o-abc/123456789012/CloudTrail/us-east-1/2026/03/14/123456789012_CloudTrail_us-east-1_20260314T1005Z_x1Y2.json.gz"
            ),
            ms(2026, 3, 14, 10, 5, 0)
        );
    }

    #[test]
    fn day_folders() {
        assert_eq!(
            partition_day("l/1/eu-west-1/b/2026/03/14/2026-03-17-10-00-00-A"),
            ms(2026, 3, 14, 0, 0, 0)
        );
        assert_eq!(partition_day("2026/03/14/x"), ms(2026, 3, 14, 0, 0, 0));
        for key in [
            "x",
            "2026/03/14",
            "a/2026/3/14/x",
            "a/2026/02/30/x",
            "a/26/03/14/x",
        ] {
            assert_eq!(partition_day(key), None, "{key}");
        }
    }

    #[test]
    fn other_names_have_no_date() {
        for name in [
            "access.log",
            "2026-03-14-10-00-01",
            "logs/2026-03-14/data.gz",
            "2026-13-14-10-00-01-X",
            "2026-03-14-10-0a-01-X",
            "x_CloudTrail_us-east-1_2026031T1005Z_y.json",
            "2026/03/14/2026-03-14-10-00-01-X/inner",
        ] {
            assert_eq!(key_time(name), None, "{name}");
        }
    }
}
