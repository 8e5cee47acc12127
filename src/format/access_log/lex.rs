//! The hot scans of the access-log grammar, as nom parsers over the line's bytes.
//!
//! In: the rest of a line (`&[u8]`). Out: a token, a time or a number, and the rest; or a
//! [`Fail`] that names the [`Problem`] and where it was seen. They are written by hand rather
//! than composed from per-byte combinators because they run thirty times a line: a space is
//! found eight bytes at a time, the time's fixed layout is checked behind one `take`.
//! The shapes of the fields after the User-Agent are in [`super::shape`].

use memchr::memchr;
use nom::bytes::complete::take;
use nom::combinator::map_opt;
use nom::error::{ErrorKind, ParseError};
use nom::{IResult, Parser};

use super::parse::{NAMES, Problem};

pub type In<'a> = &'a [u8];

/// Why a parser stopped: the problem, and how much of the line was left where it was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fail {
    pub problem: Problem,
    /// Bytes of the line from the failure to its end (the position, counted from the end).
    pub rest: usize,
}

impl Fail {
    pub fn at(problem: Problem, rest: In) -> nom::Err<Fail> {
        nom::Err::Failure(Fail {
            problem,
            rest: rest.len(),
        })
    }
}

impl<'a> ParseError<In<'a>> for Fail {
    fn from_error_kind(input: In<'a>, _kind: ErrorKind) -> Self {
        Fail {
            problem: Problem::BadTime,
            rest: input.len(),
        }
    }

    fn append(_input: In<'a>, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

pub type PResult<'a, O> = IResult<In<'a>, O, Fail>;

/// A field's position in the line: `line[start..end]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The span of `part`, a slice of `line`.
    pub fn within(line: In, part: In) -> Self {
        let start = part.as_ptr() as usize - line.as_ptr() as usize;
        Span::new(start, start + part.len())
    }

    pub fn of<'a>(&self, line: &'a [u8]) -> &'a [u8] {
        &line[self.start as usize..self.end as usize]
    }

    /// The span's text. Spans start and end next to ASCII delimiters, so on a `str` line they
    /// always fall on character boundaries; `get` keeps that an invariant rather than a panic.
    pub fn str<'a>(&self, line: &'a str) -> &'a str {
        line.get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }
}

/// The first space in `h`. Most tokens are a few to a few dozen bytes, where eight bytes at a
/// time inline costs a fraction of a call into `memchr` (its dispatch and setup dominate short
/// searches: ~30 tokens a line made it the parser's largest cost). Canonical user IDs (64
/// bytes) and host IDs (~76) stay inline; past 128 bytes `memchr`'s vector loop takes over.
#[inline]
pub fn find_space(h: In) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const SPACES: u64 = ONES * b' ' as u64;
    let mut i = 0;
    while i < 128 {
        let Some(chunk) = h.get(i..i + 8) else {
            return h[i..].iter().position(|&b| b == b' ').map(|p| i + p);
        };
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes")) ^ SPACES;
        // A zero byte of `word` is a space. The lowest flagged byte is always a true zero
        // (borrows only run upwards), and the lowest is the one wanted.
        let zeros = word.wrapping_sub(ONES) & !word & HIGHS;
        if zeros != 0 {
            return Some(i + (zeros.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    memchr(b' ', &h[i..]).map(|p| i + p)
}

/// A space-free token (possibly empty); the space after it is left.
#[inline]
pub fn token(i: In<'_>) -> PResult<'_, In<'_>> {
    let n = find_space(i).unwrap_or(i.len());
    Ok((&i[n..], &i[..n]))
}

/// The space after field `field` (0-based); at the end of the line the record was cut there.
#[inline]
pub fn sep(field: usize) -> impl Fn(In<'_>) -> PResult<'_, ()> {
    move |i: In<'_>| match i.first() {
        Some(b' ') => Ok((&i[1..], ())),
        _ => Err(Fail::at(Problem::Truncated { last: NAMES[field] }, i)),
    }
}

/// Next space-separated token of `line` from `pos`: its end, and where the following one starts
/// (`None` at the end of the line). The index form of [`token`], for the searches that go back
/// and forth over a line.
#[inline]
pub fn token_at(line: In, pos: usize) -> (usize, Option<usize>) {
    let pos = pos.min(line.len());
    match find_space(&line[pos..]) {
        Some(i) => (pos + i, Some(pos + i + 1)),
        None => (line.len(), None),
    }
}

/// Two ASCII digits at `t[at..at + 2]` as a number.
fn two_digits(t: In, at: usize) -> Option<u32> {
    let (a, b) = (t[at], t[at + 1]);
    (a.is_ascii_digit() && b.is_ascii_digit())
        .then(|| u32::from(a - b'0') * 10 + u32::from(b - b'0'))
}

/// `Jan` … `Dec` in any letter case, as 1 … 12.
fn month(m: In) -> Option<u32> {
    const NAMES: [&[u8; 3]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    let lower = [
        m[0].to_ascii_lowercase(),
        m[1].to_ascii_lowercase(),
        m[2].to_ascii_lowercase(),
    ];
    NAMES
        .iter()
        .position(|n| **n == lower)
        .map(|p| p as u32 + 1)
}

/// The parts of `[dd/MMM/yyyy:HH:mm:ss ±hhmm]`, unchecked.
#[derive(Debug)]
pub struct RawTime {
    pub day: u32,
    pub month: u32,
    pub year: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub offset: i32,
}

/// The length of `[dd/MMM/yyyy:HH:mm:ss ±hhmm]`.
pub const TIME_LEN: usize = 28;

/// The date part `[dd/MMM/yyyy:HH` of a time (the first 15 bytes), checked for shape.
fn date_and_hour(t: In) -> Option<(u32, u32, u32, u32)> {
    if t[0] != b'[' || t[3] != b'/' || t[7] != b'/' || t[12] != b':' {
        return None;
    }
    let day = two_digits(t, 1)?;
    let month = month(&t[4..7])?;
    let year = two_digits(t, 8)? * 100 + two_digits(t, 10)?;
    Some((day, month, year, two_digits(t, 13)?))
}

/// The time's fixed layout, checked byte by byte: one nom `take` and a direct check (per-byte
/// combinators cost a thousand instructions per line here, the check under a hundred).
fn fixed_time(t: In) -> Option<RawTime> {
    let (day, month, year, hour) = date_and_hour(t)?;
    if t[15] != b':' || t[18] != b':' || t[21] != b' ' || t[27] != b']' {
        return None;
    }
    let sign = match t[22] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hh, mm) = (two_digits(t, 23)?, two_digits(t, 25)?);
    if mm > 59 {
        return None;
    }
    Some(RawTime {
        day,
        month,
        year,
        hour,
        minute: two_digits(t, 16)?,
        second: two_digits(t, 19)?,
        offset: sign * (hh * 60 + mm) as i32,
    })
}

/// `[06/Feb/2019:00:00:38 +0000]`. A time cut short is a truncated record (after the bucket);
/// anything else is not a time.
pub fn bracketed_time(i: In<'_>) -> PResult<'_, RawTime> {
    match map_opt(take::<usize, In, Fail>(TIME_LEN), fixed_time).parse(i) {
        Ok(done) => Ok(done),
        Err(_) if is_time_prefix(i) => Err(Fail::at(Problem::Truncated { last: NAMES[1] }, i)),
        Err(_) => Err(Fail::at(Problem::BadTime, i)),
    }
}

/// Is `t` the beginning of a time, cut short? (Then the record is truncated, not malformed.)
fn is_time_prefix(t: In) -> bool {
    const SHAPE: &[u8] = b"[00/Aaa/0000:00:00:00 +0000]";
    t.len() < SHAPE.len()
        && t.iter().zip(SHAPE).all(|(b, s)| match s {
            b'0' => b.is_ascii_digit(),
            b'A' | b'a' => b.is_ascii_alphabetic(),
            b'+' => *b == b'+' || *b == b'-',
            s => b == s,
        })
}

/// Does a record's time start here? (Used to recognise a second record's start.)
pub fn looks_like_record_time(i: In) -> bool {
    i.len() >= TIME_LEN && fixed_time(&i[..TIME_LEN]).is_some()
}

/// `REST.GET.OBJECT`, `S3.EXPIRE.OBJECT`, `BATCH.DELETE.OBJECT`, `SOAP.CreateBucket`, …
pub fn is_operation(t: In) -> bool {
    if !t.first().is_some_and(u8::is_ascii_uppercase) {
        return false;
    }
    // The prefix before the first dot: capitals and digits only.
    let dot = t
        .iter()
        .position(|b| !(b.is_ascii_uppercase() || b.is_ascii_digit()))
        .unwrap_or(t.len());
    t.get(dot) == Some(&b'.')
        && dot + 1 < t.len()
        && t[dot + 1..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

pub fn is_request_id(t: In) -> bool {
    !t.is_empty() && t.len() <= 64 && t.iter().all(u8::is_ascii_alphanumeric)
}

/// An HTTP status field: `-` or three digits.
pub fn is_status(t: In) -> bool {
    t == b"-" || (t.len() == 3 && t.iter().all(u8::is_ascii_digit))
}

/// A numeric field's token that is neither `-` nor at most 18 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotANumber;

/// `-` is NULL; otherwise digits.
pub fn int_value(t: In) -> Result<Option<i64>, NotANumber> {
    if t == b"-" {
        return Ok(None);
    }
    if t.is_empty() || t.len() > 18 {
        return Err(NotANumber);
    }
    t.iter()
        .try_fold(0i64, |acc, b| {
            b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
        })
        .map(Some)
        .ok_or(NotANumber)
}

/// A numeric field (field `idx`): its token and value.
pub fn number(idx: usize) -> impl Fn(In<'_>) -> PResult<'_, (In<'_>, Option<i64>)> {
    move |i: In<'_>| {
        let (rest, t) = token(i)?;
        match int_value(t) {
            Ok(v) => Ok((rest, (t, v))),
            Err(NotANumber) => Err(Fail::at(Problem::BadNumber { field: NAMES[idx] }, i)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_space_finds_the_first_space_at_every_position_and_length() {
        // Every length up to past the inline limit, a space at every position (and none), with
        // bytes around it that the word trick could confuse with a space (0x20 ± 1, 0xA0, 0x00).
        for len in 0..200 {
            for at in (0..=len).chain([usize::MAX]) {
                let mut h: Vec<u8> = (0..len)
                    .map(|i| [b'!', 0x1f, 0xa0, 0, b'a'][i % 5])
                    .collect();
                if at < len {
                    h[at] = b' ';
                    if at + 3 < len {
                        h[at + 3] = b' ';
                    }
                }
                let expected = h.iter().position(|&b| b == b' ');
                assert_eq!(find_space(&h), expected, "len {len}, space at {at}");
            }
        }
    }

    #[test]
    fn operations_are_recognised_by_their_shape() {
        for yes in [
            "REST.GET.OBJECT",
            "S3.EXPIRE.OBJECT",
            "BATCH.DELETE.OBJECT",
            "SOAP.CreateBucket",
            "WEBSITE.GET.OBJECT",
            "S3.CREATE.DELETEMARKER",
            "REST.PUT.OBJECT_LOCK_CONFIGURATION",
            "A1.x-y_z",
        ] {
            assert!(is_operation(yes.as_bytes()), "{yes}");
        }
        for no in [
            "",
            "-",
            ".",
            "REST",
            "REST.",
            ".GET",
            "rest.GET",
            "1REST.GET",
            "RE-ST.GET",
            "REST.GET/OBJECT",
            "REST GET",
            "3E57427F3EXAMPLE",
        ] {
            assert!(!is_operation(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn times_and_their_prefixes() {
        let (rest, t) = bracketed_time(b"[09/Feb/2021:14:48:42 +0200] x").unwrap();
        assert_eq!((t.day, t.month, t.year, t.offset), (9, 2, 2021, 120));
        assert_eq!(rest, b" x");
        assert_eq!(
            bracketed_time(b"[09/Feb/20").unwrap_err(),
            Fail::at(Problem::Truncated { last: "bucket" }, b"[09/Feb/20")
        );
        assert!(matches!(
            bracketed_time(b"09/Feb/2021"),
            Err(nom::Err::Failure(Fail {
                problem: Problem::BadTime,
                ..
            }))
        ));
        assert!(looks_like_record_time(b"[14/Mar/2025:10:00:01 +0000]"));
        assert!(!looks_like_record_time(b"[14/Mar/2025:10:00:01"));
    }
}
