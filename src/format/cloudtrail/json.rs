//! Lenient reading of JSON values that borrow from the input.
//!
//! A record is never deserialized into a DOM: [`slots`] walks one object and hands back the raw
//! text (`&RawValue`, a slice of the input) of the keys asked for, matched without regard to
//! case; leaves are then read by what they turn out to be. No value's type can fail a record:
//! a number where a string was expected becomes its text, `"true"` and `true` are the same
//! flag, an object where a struct was expected but a string came is simply absent.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::format::time::Civil;

/// The most keys one [`slots`] call looks for.
pub const MAX_SLOTS: usize = 48;

pub type Slots<'a> = [Option<&'a RawValue>; MAX_SLOTS];

/// Reads one JSON object into the [`Slots`] of `keys` (a seed, so it can read an element of a
/// larger document in place).
pub struct SlotSeed<'k> {
    pub keys: &'k [&'k str],
}

impl<'de> DeserializeSeed<'de> for SlotSeed<'_> {
    type Value = Slots<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SlotSeed<'_> {
    type Value = Slots<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut slots: Slots<'de> = [None; MAX_SLOTS];
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match self
                .keys
                .iter()
                .position(|k| k.eq_ignore_ascii_case(&key.0))
            {
                Some(i) => slots[i] = Some(map.next_value::<&'de RawValue>()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(slots)
    }
}

/// A key, borrowed unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// The values of `keys` in the JSON object `raw` (`None` where absent, or when `raw` is not an
/// object at all).
pub fn slots<'a>(raw: &'a RawValue, keys: &[&str]) -> Option<Slots<'a>> {
    debug_assert!(keys.len() <= MAX_SLOTS);
    if !raw.get().starts_with('{') {
        return None;
    }
    let mut de = serde_json::Deserializer::from_str(raw.get());
    SlotSeed { keys }.deserialize(&mut de).ok()
}

/// The value of exactly `key` (case-sensitive, as JSON paths are) in the object `raw`.
pub fn exact_key<'a>(raw: &'a RawValue, key: &str) -> Option<&'a RawValue> {
    struct Find<'k>(&'k str);
    impl<'de> DeserializeSeed<'de> for Find<'_> {
        type Value = Option<&'de RawValue>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }
    impl<'de> Visitor<'de> for Find<'_> {
        type Value = Option<&'de RawValue>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = None;
            while let Some(k) = map.next_key::<Key<'de>>()? {
                if k.0 == self.0 {
                    found = Some(map.next_value::<&'de RawValue>()?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }
    if !raw.get().starts_with('{') {
        return None;
    }
    let mut de = serde_json::Deserializer::from_str(raw.get());
    Find(key).deserialize(&mut de).ok().flatten()
}

/// The elements of a JSON array (`None` when `raw` is not one).
pub fn elements(raw: &RawValue) -> Option<Vec<&RawValue>> {
    if !raw.get().starts_with('[') {
        return None;
    }
    serde_json::from_str(raw.get()).ok()
}

pub fn is_null(raw: Option<&RawValue>) -> bool {
    raw.is_none_or(|r| r.get() == "null")
}

/// A leaf as text: strings unescaped, `null` absent, anything else (numbers, booleans, objects,
/// arrays) as its JSON text.
pub fn text(raw: Option<&RawValue>) -> Option<Cow<'_, str>> {
    let s = raw?.get();
    match s.as_bytes().first()? {
        b'"' => match serde_json::from_str::<&str>(s) {
            Ok(borrowed) => Some(Cow::Borrowed(borrowed)),
            Err(_) => serde_json::from_str::<String>(s).ok().map(Cow::Owned),
        },
        b'n' => None,
        _ => Some(Cow::Borrowed(s)),
    }
}

/// A boolean written as `true`, `"true"`, `"True"` …, as `true` or `false`; other text as is.
pub fn flag(raw: Option<&RawValue>) -> Option<Cow<'_, str>> {
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
pub fn json(raw: Option<&RawValue>) -> Option<&str> {
    raw.map(RawValue::get).filter(|s| *s != "null")
}

/// An integer written as a number (possibly with a fraction) or as a string.
pub fn integer(raw: Option<&RawValue>) -> Option<i64> {
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

    fn raw(s: &str) -> &RawValue {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn slots_match_keys_without_case() {
        let r = raw(r#"{"accountId":"1","AccountID":"2","arn":{"x":1},"other":[1,2]}"#);
        let s = slots(r, &["accountid", "ARN", "missing"]).unwrap();
        assert_eq!(s[0].unwrap().get(), r#""2""#, "the last duplicate wins");
        assert_eq!(s[1].unwrap().get(), r#"{"x":1}"#);
        assert!(s[2].is_none());
        assert!(slots(raw(r#""not an object""#), &["a"]).is_none());
        assert!(slots(raw("{}"), &["a"]).unwrap()[0].is_none());
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
