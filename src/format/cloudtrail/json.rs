//! Lenient reading of JSON values that borrow from the input.
//!
//! A record is never deserialized into a DOM: [`slots`] walks one object with the
//! [`lexer`](super::lexer) and hands back the raw text (a slice of the input) of the keys asked
//! for, matched without regard to case; leaves are then read by what they turn out to be. No
//! value's type can fail a record: a number where a string was expected becomes its text,
//! `"true"` and `true` are the same flag, an object where a struct was expected but a string
//! came is simply absent.
//!
//! Every function here takes JSON text that is already known to be well-formed (a slice the
//! lexer or `serde_json` delimited).

use std::borrow::Cow;

use super::lexer::{self, Key, Lexer};
use crate::format::time::Civil;

/// The most keys one [`slots`] call looks for.
pub const MAX_SLOTS: usize = 48;

/// The raw JSON text of each key's value (`None`: absent).
pub type Slots<'a> = [Option<&'a str>; MAX_SLOTS];

/// Keys to look for, and how to find one quickly (any case): an open-addressing table of slot
/// numbers hashed on the length and the first and last bytes folded to lower case, so that a
/// lookup is one probe, one length comparison and one comparison of the key.
pub struct KeyIndex {
    keys: Vec<&'static str>,
    /// `(slot + 1, key length)` by hash; `(0, _)` is empty.
    table: Box<[(u8, u8); TABLE]>,
}

const TABLE: usize = 256;

#[inline]
fn hash(key: &[u8]) -> usize {
    let fold = |c: u8| usize::from(c | 0x20);
    let (first, second, last) = match key {
        [] => (0, 0, 0),
        [a] => (fold(*a), 0, fold(*a)),
        [a, b, ..] => (fold(*a), fold(*b), fold(key[key.len() - 1])),
    };
    (key.len().wrapping_mul(0x9e) ^ first.wrapping_mul(0x3b) ^ second.wrapping_mul(7) ^ last)
        % TABLE
}

impl KeyIndex {
    pub fn new(keys: &[&'static str]) -> Self {
        assert!(keys.len() <= MAX_SLOTS, "at most {MAX_SLOTS} keys");
        let mut table = Box::new([(0u8, 0u8); TABLE]);
        for (i, k) in keys.iter().enumerate() {
            let mut h = hash(k.as_bytes());
            while table[h].0 != 0 {
                h = (h + 1) % TABLE;
            }
            // Keys longer than 255 bytes never match by length; the comparison still decides.
            table[h] = (i as u8 + 1, k.len().min(255) as u8);
        }
        KeyIndex {
            keys: keys.to_vec(),
            table,
        }
    }
}

/// `a == b` for slices of equal length, without a call for the short ones keys are (8 to 16
/// bytes: two overlapping 8-byte loads each).
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| -> u64 {
        u64::from_le_bytes(s[at..at + 8].try_into().expect("eight bytes"))
    };
    match n {
        0..8 => a.iter().zip(b).all(|(x, y)| x == y),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

/// Where a key goes among the slots.
pub trait Lookup {
    fn slot(&self, key: &str) -> Option<usize>;
}

impl Lookup for KeyIndex {
    #[inline]
    fn slot(&self, key: &str) -> Option<usize> {
        let mut h = hash(key.as_bytes());
        let len = key.len().min(255) as u8;
        loop {
            let (slot, slot_len) = self.table[h];
            if slot == 0 {
                return None;
            }
            let i = usize::from(slot - 1);
            // Keys are nearly always written in the case asked for: compare exactly first.
            if slot_len == len
                && (same_bytes(self.keys[i].as_bytes(), key.as_bytes())
                    || self.keys[i].eq_ignore_ascii_case(key))
            {
                return Some(i);
            }
            h = (h + 1) % TABLE;
        }
    }
}

impl Lookup for [&str] {
    #[inline]
    fn slot(&self, key: &str) -> Option<usize> {
        self.iter()
            .position(|k| k.len() == key.len() && k.eq_ignore_ascii_case(key))
    }
}

#[inline]
pub fn slot_of(keys: &(impl Lookup + ?Sized), key: Key<'_>) -> Option<usize> {
    if key.escaped {
        keys.slot(&key.unescaped()?)
    } else {
        keys.slot(key.raw)
    }
}

/// Reads the object at the lexer's position into the slots of `keys` (the last of duplicate
/// keys wins).
#[inline]
pub fn read_slots<'a>(
    lexer: &mut Lexer<'a>,
    depth: u32,
    keys: &(impl Lookup + ?Sized),
) -> lexer::Result<Slots<'a>> {
    let mut slots: Slots<'a> = [None; MAX_SLOTS];
    lexer.object(depth, |lexer, key| {
        let value = lexer.value(depth + 1)?;
        if let Some(i) = slot_of(keys, key) {
            slots[i] = Some(value);
        }
        Ok(())
    })?;
    Ok(slots)
}

/// The values of `keys` in the JSON object `raw` (`None` where absent, or when `raw` is not an
/// object at all).
pub fn slots<'a>(raw: &'a str, keys: &(impl Lookup + ?Sized)) -> Option<Slots<'a>> {
    if !raw.starts_with('{') {
        return None;
    }
    read_slots(&mut Lexer::new(raw), 0, keys).ok()
}

/// The value of exactly `key` (case-sensitive, as JSON paths are) in the object `raw`; the
/// last one if the key repeats.
pub fn exact_key<'a>(raw: &'a str, key: &str) -> Option<&'a str> {
    if !raw.starts_with('{') {
        return None;
    }
    let mut found = None;
    Lexer::new(raw)
        .object(0, |lexer, k| {
            let value = lexer.value(1)?;
            if k.unescaped().is_some_and(|k| k == key) {
                found = Some(value);
            }
            Ok(())
        })
        .ok()?;
    found
}

/// The elements of a JSON array (`None` when `raw` is not one).
pub fn elements(raw: &str) -> Option<Vec<&str>> {
    if !raw.starts_with('[') {
        return None;
    }
    let mut out = Vec::new();
    Lexer::new(raw)
        .array(0, |lexer| {
            out.push(lexer.value(1)?);
            Ok(())
        })
        .ok()?;
    Some(out)
}

/// A leaf as text: strings unescaped, `null` absent, anything else (numbers, booleans, objects,
/// arrays) as its JSON text.
#[inline]
pub fn text(raw: Option<&str>) -> Option<Cow<'_, str>> {
    let s = raw?;
    match s.as_bytes().first()? {
        b'"' => {
            let inner = s.strip_prefix('"')?.strip_suffix('"')?;
            // Most strings are short: a plain loop beats a call for them.
            let escaped = if inner.len() < 32 {
                inner.bytes().any(|c| c == b'\\')
            } else {
                memchr::memchr(b'\\', inner.as_bytes()).is_some()
            };
            if !escaped {
                Some(Cow::Borrowed(inner))
            } else {
                serde_json::from_str::<String>(s).ok().map(Cow::Owned)
            }
        }
        b'n' => None,
        _ => Some(Cow::Borrowed(s)),
    }
}

/// A boolean written as `true`, `"true"`, `"True"` …, as `true` or `false`; other text as is.
pub fn flag(raw: Option<&str>) -> Option<Cow<'_, str>> {
    let t = text(raw)?;
    if t.eq_ignore_ascii_case("true") {
        Some(Cow::Borrowed("true"))
    } else if t.eq_ignore_ascii_case("false") {
        Some(Cow::Borrowed("false"))
    } else {
        Some(t)
    }
}

/// Raw JSON text of a free-form value; `null` is absent.
pub fn json(raw: Option<&str>) -> Option<&str> {
    raw.filter(|s| *s != "null")
}

/// An integer written as a number (possibly with a fraction) or as a string.
pub fn integer(raw: Option<&str>) -> Option<i64> {
    let t = text(raw)?;
    let t = t.trim();
    t.parse::<i64>().ok().or_else(|| {
        t.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|f| f.round() as i64)
    })
}

/// Milliseconds since the epoch of an ISO-8601 time such as `2019-01-01T00:00:00Z`,
/// `2019-01-01T00:00:00.123Z` or `2019-01-01T00:00:00+02:00`.
pub fn iso_time(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        b.get(range)?.iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let civil = Civil::date(i64::from(digits(0..4)?), digits(5..7)?, digits(8..10)?).at(
        digits(11..13)?,
        digits(14..16)?,
        digits(17..19)?,
    );
    let mut pos = 19;
    let mut millis = 0;
    if b.get(pos) == Some(&b'.') {
        let start = pos + 1;
        let mut end = start;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        let frac = &b[start..end.min(start + 3)];
        millis = frac
            .iter()
            .fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0'))
            * 10u32.pow(3 - frac.len() as u32);
        pos = end;
    }
    let offset = match b.get(pos) {
        None | Some(b'Z') | Some(b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let hh = digits(pos + 1..pos + 3)? as i32;
            let mm_at = if b.get(pos + 3) == Some(&b':') {
                pos + 4
            } else {
                pos + 3
            };
            let mm = digits(mm_at..mm_at + 2)? as i32;
            if *sign == b'+' {
                hh * 60 + mm
            } else {
                -(hh * 60 + mm)
            }
        }
        _ => return None,
    };
    Civil { millis, ..civil }.to_epoch_millis(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> &str {
        assert!(
            serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok(),
            "{s}"
        );
        s
    }

    #[test]
    fn slots_match_keys_without_case() {
        let r = raw(r#"{"accountId":"1","AccountID":"2","arn":{"x":1},"other":[1,2]}"#);
        let s = slots(r, &["accountid", "ARN", "missing"][..]).unwrap();
        assert_eq!(s[0].unwrap(), r#""2""#, "the last duplicate wins");
        assert_eq!(s[1].unwrap(), r#"{"x":1}"#);
        assert!(s[2].is_none());
        assert!(slots(raw(r#""not an object""#), &["a"][..]).is_none());
        assert!(slots(raw("{}"), &["a"][..]).unwrap()[0].is_none());
        let index = KeyIndex::new(&["accountid", "ARN", "missing", "", "esc"]);
        let s = slots(
            raw(r#"{"accountId":"1","arn":2,"":3,"e\u0073c":4,"other":6}"#),
            &index,
        )
        .unwrap();
        assert_eq!(
            &s[..5],
            &[Some(r#""1""#), Some("2"), None, Some("3"), Some("4")]
        );
        assert_eq!(
            exact_key(raw(r#"{"a":1,"A":2,"\u0061":3}"#), "a"),
            Some("3")
        );
        assert_eq!(
            elements(raw(r#"[1, "x" ,{"a":[]}]"#)),
            Some(vec!["1", r#""x""#, r#"{"a":[]}"#])
        );
    }

    #[test]
    fn key_bytes_compare_at_every_length() {
        for n in 0..40 {
            let a: Vec<u8> = (0..n as u8).collect();
            assert!(same_bytes(&a, &a.clone()));
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 0x20;
                assert!(!same_bytes(&a, &b), "length {n}, byte {i}");
            }
        }
        assert!(!same_bytes(b"abc", b"abcd"));
    }

    #[test]
    fn leaves_are_lenient() {
        assert_eq!(text(Some(raw(r#""plain""#))).as_deref(), Some("plain"));
        assert_eq!(
            text(Some(raw(r#""esc\"aped""#))).as_deref(),
            Some("esc\"aped")
        );
        assert_eq!(text(Some(raw("12"))).as_deref(), Some("12"));
        assert_eq!(text(Some(raw("null"))), None);
        assert_eq!(flag(Some(raw("true"))).as_deref(), Some("true"));
        assert_eq!(flag(Some(raw(r#""FALSE""#))).as_deref(), Some("false"));
        assert_eq!(integer(Some(raw("42"))), Some(42));
        assert_eq!(integer(Some(raw(r#""42""#))), Some(42));
        assert_eq!(integer(Some(raw("42.6"))), Some(43));
        assert_eq!(integer(Some(raw(r#""n/a""#))), None);
        assert_eq!(json(Some(raw(r#"{"a": [1]}"#))), Some(r#"{"a": [1]}"#));
        assert_eq!(json(Some(raw("null"))), None);
    }

    #[test]
    fn iso_times() {
        let t = Civil::date(2019, 1, 1).at(0, 0, 0).to_epoch_millis(0);
        assert_eq!(iso_time("2019-01-01T00:00:00Z"), t);
        assert_eq!(iso_time("2019-01-01T00:00:00.5Z"), t.map(|t| t + 500));
        assert_eq!(iso_time("2019-01-01T02:00:00+02:00"), t);
        assert_eq!(iso_time("2019-01-01T02:00:00+0200"), t);
        assert_eq!(iso_time("2019-01-01 00:00:00"), t);
        assert_eq!(iso_time("2019-02-30T00:00:00Z"), None);
        assert_eq!(iso_time("yesterday"), None);
    }
}
