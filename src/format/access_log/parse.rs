//! Splits one S3 server access log record into its fields.
//!
//! In: one line as bytes, without its line ending. Out: the byte spans of the fields (borrowed,
//! never copied) plus the typed values of the time and the numeric fields, written into a
//! caller-owned [`Record`] so that parsing a line allocates nothing.
//!
//! The format is space-separated, but several fields break that rule, and real logs contain all
//! of these cases:
//! - the time `[06/Feb/2019:00:00:38 +0000]` contains a space;
//! - the requester can contain spaces (`…:user/CloudFront Origin Access Identity E…`), so the
//!   requester ends where a request ID followed by an operation (`REST.GET.OBJECT`) begins;
//! - Request-URI, Referer and User-Agent are quoted, quoted `"-"`, or a bare `-`, and AWS does not
//!   escape quotes inside them. A quoted field therefore ends at the quote that is followed by
//!   what must come next (an HTTP status after the Request-URI; the Referer/User-Agent boundary
//!   `" "`; after the User-Agent only space-free fields, so its closing quote is the last one);
//! - records have 17 (the 2006 format) to 27 fields, and AWS appends more over time: the fields
//!   after the last known one are kept verbatim as `extra_fields`.
//!
//! A line that cannot be read as a record is refused with a [`Problem`] and the byte position
//! where it was found, so that the caller can quarantine it.

use std::fmt;

use memchr::{memchr, memchr_iter, memrchr};
use nom::bytes::complete::take;
use nom::combinator::map_opt;
use nom::{IResult, Parser};

use super::schema::{KNOWN_FIELDS, MIN_FIELDS};
use crate::format::time::Civil;

/// A field's position in the line: `line[start..end]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    fn new(start: usize, end: usize) -> Self {
        Span {
            start: start as u32,
            end: end as u32,
        }
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

/// One parsed record. Reused from line to line.
#[derive(Clone, Debug, Default)]
pub struct Record {
    /// Each known field's text; `None` when it is `-`, `"-"`, empty or absent.
    pub fields: [Option<Span>; KNOWN_FIELDS],
    /// `requestdatetime` in milliseconds since the epoch, UTC.
    pub time_ms: i64,
    pub httpstatus: Option<i32>,
    pub bytessent: Option<i64>,
    pub objectsize: Option<i64>,
    pub totaltime: Option<i64>,
    pub turnaroundtime: Option<i64>,
    /// Everything after the last known field, verbatim.
    pub extra: Option<Span>,
    /// How many fields the record had (17 to 27, more when AWS appended some).
    pub field_count: usize,
}

/// Why a line is not a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The line ends before the last mandatory field (`fields` were present).
    Truncated { last: &'static str },
    /// The third field is not a bracketed time.
    BadTime,
    /// The time is well-formed but cannot exist (31 February, hour 25, …).
    ImpossibleTime,
    /// No request ID followed by an operation after the requester.
    NoOperation,
    /// The Request-URI is neither `-` nor a quoted string followed by an HTTP status.
    BadRequestUri,
    /// A numeric field holds something other than digits or `-`.
    BadNumber { field: &'static str },
    /// The Referer or User-Agent is neither `-` nor quoted.
    BadQuotedField { field: &'static str },
    /// A second record's time appears inside this one: two lines lost their line break.
    Glued,
    /// `--strict`: the record has fields after the last known one.
    ExtraFields,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Truncated { last } => write!(
                f,
                "truncated record: it ends after {last}, but a record has at least {MIN_FIELDS} fields"
            ),
            Problem::BadTime => {
                f.write_str("third field is not a time like [06/Feb/2019:00:00:38 +0000]")
            }
            Problem::ImpossibleTime => f.write_str("impossible time (no such date or time of day)"),
            Problem::NoOperation => f.write_str(
                "no request ID followed by an operation (like REST.GET.OBJECT) after the requester",
            ),
            Problem::BadRequestUri => f.write_str(
                "Request-URI is neither '-' nor a quoted string followed by an HTTP status",
            ),
            Problem::BadNumber { field } => write!(f, "{field} is neither a number nor '-'"),
            Problem::BadQuotedField { field } => {
                write!(f, "{field} is neither '-' nor a quoted string")
            }
            Problem::Glued => {
                f.write_str("a second record starts inside this one (two records glued together)")
            }
            Problem::ExtraFields => write!(
                f,
                "unknown fields after the {KNOWN_FIELDS}th (refused by --strict)"
            ),
        }
    }
}

/// A refusal: what is wrong and at which byte of the line it was noticed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub problem: Problem,
    pub at: usize,
}

fn refuse<T>(problem: Problem, at: usize) -> Result<T, Refusal> {
    Err(Refusal { problem, at })
}

/// The requester may span this many space-separated tokens before we give up looking for the
/// request ID and operation.
const MAX_REQUESTER_TOKENS: usize = 16;

/// A key may span this many tokens (keys are URL-encoded, so more than one is already unusual).
const MAX_KEY_TOKENS: usize = 64;

// ---- small grammars (nom) ----

type In<'a> = &'a [u8];

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
struct RawTime {
    day: u32,
    month: u32,
    year: u32,
    hour: u32,
    minute: u32,
    second: u32,
    offset: i32,
}

/// The length of `[dd/MMM/yyyy:HH:mm:ss ±hhmm]`.
const TIME_LEN: usize = 28;

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

fn bracketed_time(i: In) -> IResult<In, RawTime> {
    map_opt(take(TIME_LEN), fixed_time).parse(i)
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

/// Does a record's time start here? Used to find records glued together.
fn looks_like_record_time(i: In) -> bool {
    i.len() >= 15 && date_and_hour(&i[..15]).is_some()
}

/// `REST.GET.OBJECT`, `S3.EXPIRE.OBJECT`, `BATCH.DELETE.OBJECT`, `SOAP.CreateBucket`, …
fn is_operation(t: In) -> bool {
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

fn is_request_id(t: In) -> bool {
    !t.is_empty() && t.len() <= 64 && t.iter().all(u8::is_ascii_alphanumeric)
}

/// An HTTP status field: `-` or three digits.
fn is_status(t: In) -> bool {
    t == b"-" || (t.len() == 3 && t.iter().all(u8::is_ascii_digit))
}

enum Fits {
    Yes,
    /// What follows fits so far, but the line ends too early, after the named field.
    Truncated(&'static str),
    /// An HTTP status follows, but a later field is wrong (this problem, at this byte).
    Wrong(Problem, usize),
    No,
}

/// Could the quote at `q` close the Request-URI? It must be followed by an HTTP status, an
/// error code, four numbers and the start of the Referer (`"` or `-`), which a quote inside the
/// URI practically never is.
fn after_request_uri(line: In, q: usize) -> Fits {
    if q + 1 == line.len() {
        return Fits::Truncated(NAMES[8]);
    }
    if line[q + 1] != b' ' {
        return Fits::No;
    }
    let mut pos = q + 2;
    for i in 0..6 {
        let (end, next) = token(line, pos);
        let t = &line[pos..end];
        let ok = match i {
            0 => is_status(t),
            1 => !t.is_empty(),
            _ => int_field(t).is_ok(),
        };
        if !ok {
            return if i >= 2 {
                Fits::Wrong(
                    Problem::BadNumber {
                        field: NAMES[9 + i],
                    },
                    pos,
                )
            } else {
                Fits::No
            };
        }
        match next {
            Some(n) => pos = n,
            None => return Fits::Truncated(NAMES[9 + i]),
        }
    }
    if matches!(line[pos], b'"' | b'-') {
        Fits::Yes
    } else {
        Fits::Wrong(Problem::BadQuotedField { field: NAMES[15] }, pos)
    }
}

/// `-` is NULL; otherwise digits.
fn int_field(t: In) -> Result<Option<i64>, ()> {
    if t == b"-" {
        return Ok(None);
    }
    if t.is_empty() || t.len() > 18 {
        return Err(());
    }
    t.iter()
        .try_fold(0i64, |acc, b| {
            b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
        })
        .map(Some)
        .ok_or(())
}

/// Text of a plain field: `-` and empty are NULL.
fn text(line: In, start: usize, end: usize) -> Option<Span> {
    let t = &line[start..end];
    (!t.is_empty() && t != b"-").then(|| Span::new(start, end))
}

/// Next space-separated token from `pos`: its end, and where the following one starts
/// (`None` at the end of the line).
fn token(line: In, pos: usize) -> (usize, Option<usize>) {
    let pos = pos.min(line.len());
    match find_space(&line[pos..]) {
        Some(i) => (pos + i, Some(pos + i + 1)),
        None => (line.len(), None),
    }
}

/// The first space in `h`. Most tokens are a few to a few dozen bytes, where eight bytes at a
/// time inline costs a fraction of a call into `memchr` (its dispatch and setup dominate short
/// searches: ~30 tokens a line made it the parser's largest cost). Canonical user IDs (64
/// bytes) and host IDs (~76) stay inline; past 128 bytes `memchr`'s vector loop takes over.
#[inline]
fn find_space(h: In) -> Option<usize> {
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

const NAMES: [&str; KNOWN_FIELDS] = [
    "bucket owner",
    "bucket",
    "time",
    "remote IP",
    "requester",
    "request ID",
    "operation",
    "key",
    "Request-URI",
    "HTTP status",
    "error code",
    "bytes sent",
    "object size",
    "total time",
    "turn-around time",
    "Referer",
    "User-Agent",
    "version ID",
    "host ID",
    "signature version",
    "cipher suite",
    "authentication type",
    "host header",
    "TLS version",
    "access point ARN",
    "aclRequired",
    "source region",
];

/// Takes field `idx` as one token starting at `pos`; the line must go on after it unless the
/// field is the last mandatory one.
fn required_token(line: In, pos: usize, idx: usize) -> Result<(usize, usize), Refusal> {
    match token(line, pos) {
        (end, Some(next)) => Ok((end, next)),
        (_, None) => refuse(Problem::Truncated { last: NAMES[idx] }, line.len()),
    }
}

fn number(line: In, start: usize, end: usize, idx: usize) -> Result<Option<i64>, Refusal> {
    int_field(&line[start..end])
        .or_else(|()| refuse(Problem::BadNumber { field: NAMES[idx] }, start))
}

/// Parses `line` (no line ending; trailing blanks allowed) into `rec`.
pub fn parse_record(line: In, rec: &mut Record, strict: bool) -> Result<(), Refusal> {
    let line = trim_end(line);
    rec.fields = [None; KNOWN_FIELDS];
    rec.extra = None;

    // 1, 2: bucket owner, bucket.
    let (end, pos) = required_token(line, 0, 0)?;
    rec.fields[0] = text(line, 0, end);
    let (end, pos2) = required_token(line, pos, 1)?;
    rec.fields[1] = text(line, pos, end);
    let pos = pos2;

    // 3: time.
    let time_start = pos;
    let rest = match bracketed_time(&line[pos..]) {
        Ok((rest, t)) => {
            let Some(ms) = Civil::date(i64::from(t.year), t.month, t.day)
                .at(t.hour, t.minute, t.second)
                .to_epoch_millis(t.offset)
            else {
                return refuse(Problem::ImpossibleTime, pos);
            };
            rec.time_ms = ms;
            rest
        }
        Err(_) => {
            return if is_time_prefix(&line[pos..]) {
                refuse(Problem::Truncated { last: NAMES[1] }, pos)
            } else {
                refuse(Problem::BadTime, pos)
            };
        }
    };
    let time_end = line.len() - rest.len();
    rec.fields[2] = Some(Span::new(time_start + 1, time_end - 1));
    if let Some(at) = memchr_iter(b'[', &line[time_end..])
        .find(|&i| looks_like_record_time(&line[time_end + i..]))
    {
        return refuse(Problem::Glued, time_end + at);
    }
    if time_end == line.len() {
        return refuse(Problem::Truncated { last: NAMES[2] }, time_end);
    }
    if line[time_end] != b' ' {
        return refuse(Problem::BadTime, time_end);
    }
    let pos = time_end + 1;

    // 4: remote IP.
    let (end, pos2) = required_token(line, pos, 3)?;
    rec.fields[3] = text(line, pos, end);
    let pos = pos2;

    // 5, 6, 7: requester (possibly several tokens), request ID, operation.
    let mut toks = [(0usize, 0usize); MAX_REQUESTER_TOKENS + 2];
    let mut count = 0;
    let mut next = Some(pos);
    let mut found = None;
    for k in 1..=MAX_REQUESTER_TOKENS {
        while count < k + 2 {
            let Some(p) = next else {
                return refuse(
                    Problem::Truncated {
                        last: if count < 2 { NAMES[4] } else { NAMES[5] },
                    },
                    line.len(),
                );
            };
            let (end, n) = token(line, p);
            toks[count] = (p, end);
            count += 1;
            next = n;
        }
        let (rs, re) = toks[k];
        let (os, oe) = toks[k + 1];
        let (id, op) = (&line[rs..re], &line[os..oe]);
        // Any field may be `-`, the operation too; a requester that is `-` is one token.
        if (is_request_id(id) || id == b"-") && (is_operation(op) || (k == 1 && op == b"-")) {
            found = Some(k);
            break;
        }
    }
    let Some(k) = found else {
        return refuse(Problem::NoOperation, pos);
    };
    rec.fields[4] = text(line, toks[0].0, toks[k - 1].1);
    rec.fields[5] = text(line, toks[k].0, toks[k].1);
    rec.fields[6] = text(line, toks[k + 1].0, toks[k + 1].1);
    let Some(pos) = next else {
        return refuse(Problem::Truncated { last: NAMES[6] }, line.len());
    };

    // 8: key (URL-encoded, so one token; more only if a raw space slipped in).
    let key_start = pos;
    let (mut key_end, mut after_key) = token(line, pos);
    let mut extra_tokens = 0;
    let uri_start = loop {
        let Some(p) = after_key else {
            return refuse(Problem::Truncated { last: NAMES[7] }, line.len());
        };
        if line[p] == b'"' {
            break p;
        }
        let (end, n) = token(line, p);
        if &line[p..end] == b"-" && n.is_some_and(|s| is_status(&line[s..token(line, s).0])) {
            break p;
        }
        extra_tokens += 1;
        if extra_tokens >= MAX_KEY_TOKENS || n.is_none() {
            return refuse(Problem::BadRequestUri, p);
        }
        key_end = end;
        after_key = n;
    };
    rec.fields[7] = text(line, key_start, key_end);

    // 9: Request-URI.
    let pos = if line[uri_start] == b'"' {
        let mut close = None;
        let mut truncated = None;
        let mut wrong = None;
        for q in memchr_iter(b'"', &line[uri_start + 1..]).map(|q| q + uri_start + 1) {
            match after_request_uri(line, q) {
                Fits::Yes => {
                    close = Some(q);
                    break;
                }
                Fits::Truncated(last) => truncated = truncated.or(Some(last)),
                Fits::Wrong(problem, at) => wrong = wrong.or(Some((problem, at))),
                Fits::No => {}
            }
        }
        let Some(close) = close else {
            return if let Some(last) = truncated {
                refuse(Problem::Truncated { last }, line.len())
            } else if let Some((problem, at)) = wrong {
                refuse(problem, at)
            } else {
                refuse(Problem::BadRequestUri, uri_start)
            };
        };
        rec.fields[8] = text(line, uri_start + 1, close);
        close + 2
    } else {
        rec.fields[8] = None;
        uri_start + 2
    };

    // 10: HTTP status.
    let (end, next) = required_token(line, pos, 9)?;
    let status = number(line, pos, end, 9)?;
    rec.httpstatus = status.and_then(|s| i32::try_from(s).ok());
    rec.fields[9] = text(line, pos, end);
    let pos = next;

    // 11: error code.
    let (end, next) = required_token(line, pos, 10)?;
    rec.fields[10] = text(line, pos, end);
    let mut pos = next;

    // 12–15: bytes sent, object size, total time, turn-around time.
    let mut numbers = [None; 4];
    for (n, value) in numbers.iter_mut().enumerate() {
        let idx = 11 + n;
        let (end, next) = required_token(line, pos, idx)?;
        *value = number(line, pos, end, idx)?;
        rec.fields[idx] = text(line, pos, end);
        pos = next;
    }
    [
        rec.bytessent,
        rec.objectsize,
        rec.totaltime,
        rec.turnaroundtime,
    ] = numbers;

    // 16, 17: Referer and User-Agent.
    let pos = referer_and_user_agent(line, pos, rec)?;

    // 18–27 and whatever AWS appended after them.
    let mut count = MIN_FIELDS;
    let mut next = pos;
    while let Some(p) = next {
        if count == KNOWN_FIELDS {
            rec.extra = text(line, p, line.len());
            if strict && rec.extra.is_some() {
                return refuse(Problem::ExtraFields, p);
            }
            count += line[p..].split(|b| *b == b' ').count();
            break;
        }
        let (end, n) = token(line, p);
        rec.fields[count] = text(line, p, end);
        count += 1;
        next = n;
    }
    rec.field_count = count;
    Ok(())
}

/// Fields 16 and 17, starting at `pos`. Returns where field 18 starts, if the line goes on.
fn referer_and_user_agent(
    line: In,
    pos: usize,
    rec: &mut Record,
) -> Result<Option<usize>, Refusal> {
    let bare_dash =
        |p: usize| line.get(p) == Some(&b'-') && matches!(line.get(p + 1), None | Some(b' '));
    // The User-Agent's closing quote is the line's last quote: the fields after it never
    // contain quotes, while the User-Agent itself may.
    let last_quote = memrchr(b'"', line).unwrap_or(0);
    let after = |q: usize| {
        if q + 1 < line.len() {
            Some(q + 2)
        } else {
            None
        }
    };

    let ua_start = if bare_dash(pos) {
        rec.fields[15] = None;
        pos + 2
    } else if line[pos] == b'"' {
        // The Referer ends at the first `" "` (a quoted User-Agent follows) or, failing that,
        // at the last quote when a bare `-` User-Agent follows.
        let open = pos;
        let boundary = memchr_iter(b'"', &line[open + 1..])
            .map(|q| q + open + 1)
            .take_while(|&q| q < last_quote)
            .find(|&q| {
                line.get(q + 1) == Some(&b' ')
                    && line.get(q + 2) == Some(&b'"')
                    && q + 2 <= last_quote
            });
        match boundary {
            // The User-Agent opens but never closes: the line was cut.
            Some(q) if q + 2 == last_quote => {
                return refuse(Problem::Truncated { last: NAMES[15] }, line.len());
            }
            Some(q) => {
                rec.fields[15] = quoted_text(line, open, q);
                q + 2
            }
            None if last_quote > open
                && bare_dash(last_quote + 2)
                && line.get(last_quote + 1) == Some(&b' ') =>
            {
                rec.fields[15] = quoted_text(line, open, last_quote);
                rec.fields[16] = None;
                return Ok(after(last_quote + 2));
            }
            None if last_quote > open && last_quote + 1 == line.len() => {
                return refuse(Problem::Truncated { last: NAMES[15] }, line.len());
            }
            None if last_quote > open && line.get(last_quote + 1) == Some(&b' ') => {
                return refuse(Problem::BadQuotedField { field: NAMES[16] }, last_quote + 2);
            }
            None => return refuse(Problem::BadQuotedField { field: NAMES[15] }, open),
        }
    } else {
        return refuse(Problem::BadQuotedField { field: NAMES[15] }, pos);
    };

    if ua_start >= line.len() {
        return refuse(Problem::Truncated { last: NAMES[15] }, line.len());
    }
    if bare_dash(ua_start) {
        rec.fields[16] = None;
        return Ok(after(ua_start));
    }
    if line[ua_start] != b'"' || last_quote <= ua_start {
        return refuse(Problem::BadQuotedField { field: NAMES[16] }, ua_start);
    }
    if last_quote + 1 < line.len() && line[last_quote + 1] != b' ' {
        return refuse(Problem::BadQuotedField { field: NAMES[16] }, last_quote);
    }
    rec.fields[16] = quoted_text(line, ua_start, last_quote);
    Ok(after(last_quote))
}

/// The text between the quotes at `open` and `close`; `"-"` and `""` are NULL.
fn quoted_text(line: In, open: usize, close: usize) -> Option<Span> {
    text(line, open + 1, close)
}

fn trim_end(line: In) -> In {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b' ' | b'\t' | b'\r') {
        end -= 1;
    }
    &line[..end]
}

/// Is the line empty or only blanks? Such lines are skipped, not rejected.
pub fn is_blank(line: In) -> bool {
    line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /amzn-s3-demo-bucket1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com TLSV1.2 arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes"#;

    fn parse(line: &str) -> Result<(Record, Vec<Option<String>>), Refusal> {
        let mut rec = Record::default();
        parse_record(line.as_bytes(), &mut rec, false)?;
        let fields = rec
            .fields
            .iter()
            .map(|s| s.map(|s| s.str(line).to_string()))
            .collect();
        Ok((rec, fields))
    }

    fn field(fields: &[Option<String>], i: usize) -> Option<&str> {
        fields[i].as_deref()
    }

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
    fn documented_example_line() {
        let (rec, f) = parse(LINE).unwrap();
        assert_eq!(rec.field_count, 26);
        assert_eq!(field(&f, 1), Some("amzn-s3-demo-bucket1"));
        assert_eq!(field(&f, 6), Some("REST.GET.VERSIONING"));
        assert_eq!(field(&f, 7), None);
        assert_eq!(
            field(&f, 8),
            Some("GET /amzn-s3-demo-bucket1?versioning HTTP/1.1")
        );
        assert_eq!(rec.httpstatus, Some(200));
        assert_eq!(rec.bytessent, Some(113));
        assert_eq!(rec.objectsize, None);
        assert_eq!(rec.totaltime, Some(7));
        assert_eq!(rec.turnaroundtime, None);
        assert_eq!(field(&f, 15), None);
        assert_eq!(field(&f, 16), Some("S3Console/0.4"));
        assert_eq!(field(&f, 25), Some("Yes"));
        assert_eq!(field(&f, 26), None);
        assert_eq!(rec.time_ms, 1_549_411_238_000);
    }

    #[test]
    fn spaces_in_requester() {
        let line = LINE.replace(
            "192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57",
            "192.0.2.3 arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL 3E57",
        );
        let (_, f) = parse(&line).unwrap();
        assert_eq!(
            field(&f, 4),
            Some("arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL")
        );
        assert_eq!(field(&f, 5), Some("3E57427F3EXAMPLE"));
        assert_eq!(field(&f, 6), Some("REST.GET.VERSIONING"));
    }

    #[test]
    fn quotes_inside_user_agent_and_spaces_in_referer() {
        let line = LINE.replace(
            r#""-" "S3Console/0.4""#,
            r#""https://example.com/a page?q=1 2" "() { :;}; /bin/bash -c "curl http://x/y" "z" ""#,
        );
        let (rec, f) = parse(&line).unwrap();
        assert_eq!(field(&f, 15), Some("https://example.com/a page?q=1 2"));
        assert_eq!(
            field(&f, 16),
            Some(r#"() { :;}; /bin/bash -c "curl http://x/y" "z" "#)
        );
        assert_eq!(field(&f, 17), None);
        assert_eq!(field(&f, 19), Some("SigV4"));
        assert_eq!(rec.field_count, 26);
    }

    #[test]
    fn quote_inside_request_uri() {
        let line = LINE.replace(
            r#""GET /amzn-s3-demo-bucket1?versioning HTTP/1.1""#,
            r#""GET /a"b" 200 x HTTP/1.1""#,
        );
        let (rec, f) = parse(&line).unwrap();
        assert_eq!(field(&f, 8), Some(r#"GET /a"b" 200 x HTTP/1.1"#));
        assert_eq!(rec.httpstatus, Some(200));
    }

    #[test]
    fn bare_dashes_for_quoted_fields() {
        let line = "36c1 jsoriano-s3-test [10/Sep/2019:15:11:07 +0000] 89.160.20.156 arn:aws:iam::123456:user/test@elastic.co 8CD7A4A71E2E5C9E BATCH.DELETE.OBJECT jolokia-war-1.5.0.war - 204 - - 344017 - - - - - IeDW5 SigV4 ECDHE-RSA-AES128-SHA AuthHeader s3.eu-central-1.amazonaws.com TLSv1.2";
        let (rec, f) = parse(line).unwrap();
        assert_eq!(field(&f, 7), Some("jolokia-war-1.5.0.war"));
        assert_eq!(field(&f, 8), None);
        assert_eq!(rec.httpstatus, Some(204));
        assert_eq!(rec.objectsize, Some(344_017));
        assert_eq!(field(&f, 15), None);
        assert_eq!(field(&f, 16), None);
        assert_eq!(field(&f, 17), None);
        assert_eq!(field(&f, 18), Some("IeDW5"));
        assert_eq!(field(&f, 23), Some("TLSv1.2"));
        assert_eq!(rec.field_count, 24);
    }

    #[test]
    fn quoted_referer_then_bare_user_agent() {
        let line = LINE.replace(r#""-" "S3Console/0.4" -"#, r#""http://x/" - -"#);
        let (_, f) = parse(&line).unwrap();
        assert_eq!(field(&f, 15), Some("http://x/"));
        assert_eq!(field(&f, 16), None);
        assert_eq!(field(&f, 18).map(|s| &s[..4]), Some("s9lz"));
    }

    #[test]
    fn short_and_long_records() {
        let (rec, f) = parse(r#"79a5 mybucket [12/May/2014:07:54:01 +0000] 10.0.1.2 - 7ACC4BE89EXAMPLE REST.GET.OBJECT foo/bar.html "GET /foo/bar.html HTTP/1.1" 304 - - 1718 10 - "-" "Mozilla/5.0" -"#).unwrap();
        assert_eq!(rec.field_count, 18);
        assert_eq!(field(&f, 4), None);
        let (rec, f) = parse(r#"79a5 mybucket [12/May/2014:07:54:01 +0000] 10.0.1.2 - 7ACC4BE89EXAMPLE REST.GET.OBJECT foo/bar.html "GET /foo/bar.html HTTP/1.1" 304 - - 1718 10 - "-" "Mozilla/5.0""#).unwrap();
        assert_eq!(rec.field_count, 17);
        assert_eq!(field(&f, 16), Some("Mozilla/5.0"));
        let (rec, f) = parse(&format!("{LINE} us-east-1 ExtraUnknownField another")).unwrap();
        assert_eq!(field(&f, 26), Some("us-east-1"));
        assert_eq!(
            rec.extra
                .map(|s| s
                    .str(&format!("{LINE} us-east-1 ExtraUnknownField another"))
                    .to_string())
                .as_deref(),
            Some("ExtraUnknownField another")
        );
        assert_eq!(rec.field_count, 29);
        let mut rec = Record::default();
        let long = format!("{LINE} us-east-1 More");
        assert_eq!(
            parse_record(long.as_bytes(), &mut rec, true)
                .unwrap_err()
                .problem,
            Problem::ExtraFields
        );
    }

    #[test]
    fn time_offset_is_applied() {
        let line = LINE.replace(
            "[06/Feb/2019:00:00:38 +0000]",
            "[09/Feb/2021:14:48:42 +0200]",
        );
        let (rec, _) = parse(&line).unwrap();
        assert_eq!(
            rec.time_ms,
            crate::format::time::to_epoch_millis(2021, 2, 9, 12, 48, 42).unwrap()
        );
    }

    #[test]
    fn refusals() {
        let p = |l: &str| parse(l).unwrap_err().problem;
        let too_few = &LINE[..LINE.find(" - 113").unwrap()];
        assert_eq!(
            p(too_few),
            Problem::Truncated {
                last: "HTTP status"
            }
        );
        assert_eq!(
            p(&LINE.replace("06/Feb/2019", "30/Feb/2019")),
            Problem::ImpossibleTime
        );
        assert_eq!(
            p(&LINE.replace("00:00:38", "25:00:38")),
            Problem::ImpossibleTime
        );
        assert_eq!(
            p(&LINE.replace("[06/Feb/2019:00:00:38 +0000]", "06/Feb/2019")),
            Problem::BadTime
        );
        assert_eq!(p(&format!("{LINE}{LINE}")), Problem::Glued);
        assert_eq!(p(&format!("{LINE} {LINE}")), Problem::Glued);
        assert_eq!(p("hello world"), Problem::Truncated { last: "bucket" });
        assert_eq!(p("garbage garbage garbage garbage"), Problem::BadTime);
        assert_eq!(
            p(&LINE.replace(" 113 ", " 11x3 ")),
            Problem::BadNumber {
                field: "bytes sent"
            }
        );
        assert_eq!(
            p(&LINE.replace("REST.GET.VERSIONING", "get")),
            Problem::NoOperation
        );
        assert_eq!(
            p(&LINE[..LINE.find("\"S3Console").unwrap() + 5]),
            Problem::Truncated { last: "Referer" }
        );
        assert_eq!(
            p(&LINE.replace("\"-\" \"S3Console/0.4\"", "\"-\" S3Console")),
            Problem::BadQuotedField {
                field: "User-Agent"
            }
        );
        assert_eq!(
            p(&LINE[..LINE.find(" \"S3Console").unwrap()]),
            Problem::Truncated { last: "Referer" }
        );
    }

    #[test]
    fn trailing_blanks_and_cr_are_ignored() {
        let (rec, f) = parse(&format!("{LINE} \r")).unwrap();
        assert_eq!(rec.field_count, 26);
        assert_eq!(field(&f, 25), Some("Yes"));
    }
}
