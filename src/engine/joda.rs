//! Joda-Time patterns, as Athena's (Presto's) `parse_datetime` takes them.
//!
//! Supported letters: `y` (year; `yy` is 20yy), `M` (month: `M`/`MM` digits, `MMM` short name,
//! `MMMM` full name), `d`, `H`, `k`, `h`, `K`, `m`, `s`, `S` (fraction), `a` (AM/PM), `E` (day
//! name, checked for shape and ignored), `Z` (`+0800`, `+08:00`, `Z`, `UTC`), `z` (`UTC`, `GMT`,
//! `Z`), quoted literals (`'T'`) and any other character as itself.

use crate::format::time::Civil;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Year { two_digits: bool },
    MonthNumber,
    MonthName,
    Day,
    Hour24,
    Hour12,
    Minute,
    Second,
    Fraction(usize),
    AmPm,
    DayName,
    Zone,
    Literal(String),
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(Vec<Tok>);

impl Pattern {
    pub fn compile(pattern: &str) -> Result<Self, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut toks = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                // 'literal', with '' for a quote.
                let mut lit = String::new();
                i += 1;
                if chars.get(i) == Some(&'\'') {
                    toks.push(Tok::Literal("'".into()));
                    i += 1;
                    continue;
                }
                while i < chars.len() {
                    if chars[i] == '\'' {
                        if chars.get(i + 1) == Some(&'\'') {
                            lit.push('\'');
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    lit.push(chars[i]);
                    i += 1;
                }
                if i >= chars.len() {
                    return Err(format!("unterminated quote in pattern '{pattern}'"));
                }
                i += 1;
                toks.push(Tok::Literal(lit));
                continue;
            }
            let mut n = 1;
            while chars.get(i + n) == Some(&c) {
                n += 1;
            }
            let tok = match c {
                'y' | 'Y' | 'x' => Tok::Year { two_digits: n == 2 },
                'M' if n >= 3 => Tok::MonthName,
                'M' => Tok::MonthNumber,
                'd' => Tok::Day,
                'H' | 'k' => Tok::Hour24,
                'h' | 'K' => Tok::Hour12,
                'm' => Tok::Minute,
                's' => Tok::Second,
                'S' => Tok::Fraction(n),
                'a' => Tok::AmPm,
                'E' => Tok::DayName,
                'Z' | 'z' => Tok::Zone,
                c if c.is_ascii_alphabetic() => {
                    return Err(format!(
                        "pattern letter '{c}' is not supported in '{pattern}'"
                    ));
                }
                c => Tok::Literal(c.to_string().repeat(n)),
            };
            toks.push(tok);
            i += n;
        }
        Ok(Pattern(toks))
    }

    /// Milliseconds since the epoch (UTC) of `value`, or `None` if it does not fit the pattern.
    /// Without a zone in the pattern the value is taken as UTC.
    pub fn parse(&self, value: &str) -> Option<i64> {
        let mut s = value.as_bytes();
        let (mut year, mut month, mut day) = (1970i64, 1u32, 1u32);
        let (mut hour, mut minute, mut second, mut millis) = (0u32, 0u32, 0u32, 0u32);
        let mut pm: Option<bool> = None;
        let mut twelve = false;
        let mut offset = 0i32;
        for tok in &self.0 {
            match tok {
                Tok::Year { two_digits: true } => {
                    year = 2000 + i64::from(take_digits(&mut s, 2, 2)?)
                }
                Tok::Year { two_digits: false } => year = i64::from(take_digits(&mut s, 1, 4)?),
                Tok::MonthNumber => month = take_digits(&mut s, 1, 2)?,
                Tok::MonthName => month = take_month_name(&mut s)?,
                Tok::Day => day = take_digits(&mut s, 1, 2)?,
                Tok::Hour24 => hour = take_digits(&mut s, 1, 2)?,
                Tok::Hour12 => {
                    hour = take_digits(&mut s, 1, 2)?;
                    twelve = true;
                }
                Tok::Minute => minute = take_digits(&mut s, 1, 2)?,
                Tok::Second => second = take_digits(&mut s, 1, 2)?,
                Tok::Fraction(n) => {
                    let start = s;
                    let digits = take_digits(&mut s, 1, (*n).max(9))?;
                    let len = start.len() - s.len();
                    millis = (f64::from(digits) / 10f64.powi(len as i32) * 1000.0) as u32;
                }
                Tok::AmPm => {
                    let word = s.get(..2)?;
                    pm = Some(match word.to_ascii_uppercase().as_slice() {
                        b"AM" => false,
                        b"PM" => true,
                        _ => return None,
                    });
                    s = &s[2..];
                }
                Tok::DayName => {
                    let n = s.iter().take_while(|b| b.is_ascii_alphabetic()).count();
                    if n < 3 {
                        return None;
                    }
                    s = &s[n..];
                }
                Tok::Zone => offset = take_zone(&mut s)?,
                Tok::Literal(lit) => s = s.strip_prefix(lit.as_bytes())?,
            }
        }
        if !s.is_empty() {
            return None;
        }
        if twelve {
            if !(1..=12).contains(&hour) {
                return None;
            }
            hour %= 12;
            if pm == Some(true) {
                hour += 12;
            }
        }
        Civil {
            year,
            month,
            day,
            hour,
            minute,
            second,
            millis,
        }
        .to_epoch_millis(offset)
    }
}

fn take_digits(s: &mut &[u8], min: usize, max: usize) -> Option<u32> {
    let n = s
        .iter()
        .take(max)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if n < min {
        return None;
    }
    let v = s[..n]
        .iter()
        .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
    *s = &s[n..];
    Some(v)
}

fn take_month_name(s: &mut &[u8]) -> Option<u32> {
    const NAMES: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let n = s.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let word = std::str::from_utf8(&s[..n]).ok()?.to_ascii_lowercase();
    let month = NAMES.iter().position(|full| {
        word.len() >= 3 && (*full == word || (word.len() == 3 && full.starts_with(&word)))
    })?;
    *s = &s[n..];
    Some(month as u32 + 1)
}

fn take_zone(s: &mut &[u8]) -> Option<i32> {
    for name in [&b"UTC"[..], b"GMT", b"Z"] {
        if let Some(rest) = s.strip_prefix(name) {
            *s = rest;
            if rest.first().is_some_and(|b| *b == b'+' || *b == b'-') {
                return take_zone(s);
            }
            return Some(0);
        }
    }
    let sign = match s.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    *s = &s[1..];
    let hh = take_digits(s, 2, 2)?;
    if s.first() == Some(&b':') {
        *s = &s[1..];
    }
    let mm = take_digits(s, 2, 2)?;
    if hh > 23 || mm > 59 {
        return None;
    }
    Some(sign * (hh * 60 + mm) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::format::time::to_epoch_millis;

    fn ms(pattern: &str, value: &str) -> Option<i64> {
        Pattern::compile(pattern).unwrap().parse(value)
    }

    #[test]
    fn aws_documented_patterns() {
        let t = to_epoch_millis(2019, 2, 6, 0, 0, 38);
        assert_eq!(
            ms("dd/MMM/yyyy:HH:mm:ss Z", "06/Feb/2019:00:00:38 +0000"),
            t
        );
        assert_eq!(
            ms("dd/MMM/yyyy:HH:mm:ss Z", "06/Feb/2019:02:00:38 +0200"),
            t
        );
        assert_eq!(ms("yyyy-MM-dd:HH:mm:ss", "2019-02-06:00:00:38"), t);
        assert_eq!(
            ms("yyyy-MM-dd", "2022-06-01"),
            to_epoch_millis(2022, 6, 1, 0, 0, 0)
        );
        assert_eq!(ms("yyyy-MM-dd'T'HH:mm:ss'Z'", "2019-02-06T00:00:38Z"), t);
        assert_eq!(ms("yyyy-MM-dd'T'HH:mm:ssZ", "2019-02-06T00:00:38Z"), t);
        assert_eq!(
            ms("yyyy-MM-dd HH:mm:ss.SSS", "2019-02-06 00:00:38.250"),
            t.map(|t| t + 250)
        );
        assert_eq!(
            ms("MMMM d, yyyy h:mm a", "February 6, 2019 12:00 AM"),
            to_epoch_millis(2019, 2, 6, 0, 0, 0)
        );
        assert_eq!(
            ms(
                "EEE, dd MMM yyyy HH:mm:ss z",
                "Wed, 06 Feb 2019 00:00:38 GMT"
            ),
            t
        );
    }

    #[test]
    fn mismatches_are_none() {
        assert_eq!(ms("yyyy-MM-dd", "2022/06/01"), None);
        assert_eq!(ms("yyyy-MM-dd", "2022-06-01 trailing"), None);
        assert_eq!(ms("yyyy-MM-dd", "2022-02-30"), None);
        assert_eq!(ms("dd/MMM/yyyy", "06/Foo/2019"), None);
        assert!(Pattern::compile("yyyy-qq").is_err());
        assert!(Pattern::compile("'open").is_err());
    }
}
