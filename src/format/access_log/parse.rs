//! The grammar of one S3 server access log record.
//!
//! In: one line as bytes, without its line ending. Out: the byte spans of the fields (borrowed,
//! never copied) plus the typed values of the time and the numeric fields, written into a
//! caller-owned [`Record`] so that parsing a line allocates nothing; or a [`Refusal`] naming
//! the [`Problem`] and the byte where it was seen, so that the caller can quarantine the line.
//!
//! A record is a sequence of fields, read here as nom parsers over the line ([`super::lex`]
//! holds the hand-written scans they are built from):
//!
//! ```text
//! owner SP bucket SP [time] SP ip SP requester… SP request-id SP operation SP key… SP
//! request-uri SP status SP error-code SP bytes SP size SP total SP turnaround SP
//! referer SP user-agent [SP version-id SP host-id SP sigv SP cipher SP auth SP host SP tls
//! SP access-point SP acl-required SP source-region [SP fields AWS appended…]]
//! ```
//!
//! Several fields break the space-separated rule, and real logs contain all of these cases:
//! the time holds a space; the requester can hold spaces (`…:user/CloudFront Origin Access
//! Identity E…`), so it ends where a request ID followed by an operation begins; the
//! Request-URI, Referer and User-Agent are quoted, quoted `"-"` or a bare `-`, and AWS does not
//! escape quotes inside them. Those three hold what the requester wrote, so they are read from
//! the structure of the whole record, never from what they contain: the Request-URI ends at the
//! first quote followed by a status, an error code and four numbers; where the Referer and
//! User-Agent end is decided by the fields after them, which only AWS writes (see
//! [`super::tail`]). Records have 17 (the 2006 format) to 27 fields, and AWS appends more over
//! time: the fields after the last known one are kept verbatim as `extra_fields`.

use std::fmt;

use memchr::{memchr, memchr_iter};
use nom::Parser;

use super::lex::{
    Fail, In, PResult, Span, bracketed_time, is_operation, is_request_id, is_status,
    looks_like_record_time, number, sep, token, token_at,
};
use super::schema::{KNOWN_FIELDS, MIN_FIELDS};
use super::tail;
use crate::format::time::Civil;

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
    /// A second record starts inside this one, where only AWS writes: two lines lost their
    /// line break.
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

/// The requester may span this many space-separated tokens before we give up looking for the
/// request ID and operation.
const MAX_REQUESTER_TOKENS: usize = 16;

/// A key may span this many tokens (keys are URL-encoded, so more than one is already unusual).
const MAX_KEY_TOKENS: usize = 64;

pub const NAMES: [&str; KNOWN_FIELDS] = [
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

/// Text of a plain field: `-` and empty are NULL.
pub(super) fn text(line: In, start: usize, end: usize) -> Option<Span> {
    let t = &line[start..end];
    (!t.is_empty() && t != b"-").then(|| Span::new(start, end))
}

/// The text of a field the parser consumed as the slice `t` of `line`.
fn slice_text(line: In, t: In) -> Option<Span> {
    (!t.is_empty() && t != b"-").then(|| Span::within(line, t))
}

fn fail_at(problem: Problem, line: In, at: usize) -> nom::Err<Fail> {
    Fail::at(problem, &line[at.min(line.len())..])
}

/// Fields 1 to 7 of a record that starts at `start`: what every record begins with. Also how
/// a second record is recognised inside a line.
pub(super) struct Head {
    pub owner: Option<Span>,
    pub bucket: Option<Span>,
    pub time: Span,
    pub time_ms: i64,
    pub ip: Option<Span>,
    pub requester: Option<Span>,
    pub request_id: Option<Span>,
    pub operation: Option<Span>,
    /// Where the field after the operation starts (`None`: the line ends there).
    pub next: Option<usize>,
}

pub(super) fn head(line: In, start: usize) -> Result<Head, nom::Err<Fail>> {
    let (i, (owner, _, bucket, _)) = (token, sep(0), token, sep(1)).parse(&line[start..])?;
    let time_start = line.len() - i.len();
    let (i, t) = bracketed_time(i)?;
    let Some(time_ms) = Civil::date(i64::from(t.year), t.month, t.day)
        .at(t.hour, t.minute, t.second)
        .to_epoch_millis(t.offset)
    else {
        return Err(fail_at(Problem::ImpossibleTime, line, time_start));
    };
    match i.first() {
        None => return Err(Fail::at(Problem::Truncated { last: NAMES[2] }, i)),
        Some(b' ') => {}
        Some(_) => return Err(Fail::at(Problem::BadTime, i)),
    }
    let (i, (_, ip, _)) = (sep(2), token, sep(3)).parse(i)?;
    let (requester, request_id, operation, next) =
        requester_and_operation(line, line.len() - i.len())?;
    Ok(Head {
        owner: slice_text(line, owner),
        bucket: slice_text(line, bucket),
        time: Span::new(time_start + 1, time_start + 27),
        time_ms,
        ip: slice_text(line, ip),
        requester,
        request_id,
        operation,
        next,
    })
}

/// Does a second record start at `owner`? Its fields 1 to 15 read, up to where its Referer
/// starts: what a record glued to another has, and what a requester who forges one inside a
/// header has to write in full (a record's first seven fields alone are easy to come by).
pub(super) fn is_record_start(line: In, owner: usize) -> bool {
    let Ok(head) = head(line, owner) else {
        return false;
    };
    head.next
        .is_some_and(|pos| key_and_request_uri(line, pos, None).is_ok())
}

/// Fields 5, 6, 7 from `pos`: the requester (possibly several tokens), the request ID and the
/// operation, found as the first request ID followed by an operation.
#[expect(
    clippy::type_complexity,
    reason = "three spans and a position, named at the call"
)]
fn requester_and_operation(
    line: In,
    pos: usize,
) -> Result<(Option<Span>, Option<Span>, Option<Span>, Option<usize>), nom::Err<Fail>> {
    let mut toks = [(0usize, 0usize); MAX_REQUESTER_TOKENS + 2];
    let mut count = 0;
    let mut next = Some(pos);
    for k in 1..=MAX_REQUESTER_TOKENS {
        while count < k + 2 {
            let Some(p) = next else {
                let last = if count < 2 { NAMES[4] } else { NAMES[5] };
                return Err(fail_at(Problem::Truncated { last }, line, line.len()));
            };
            let (end, n) = token_at(line, p);
            toks[count] = (p, end);
            count += 1;
            next = n;
        }
        let (rs, re) = toks[k];
        let (os, oe) = toks[k + 1];
        let (id, op) = (&line[rs..re], &line[os..oe]);
        // Any field may be `-`, the operation too; a requester that is `-` is one token.
        if (is_request_id(id) || id == b"-") && (is_operation(op) || (k == 1 && op == b"-")) {
            return Ok((
                text(line, toks[0].0, toks[k - 1].1),
                text(line, rs, re),
                text(line, os, oe),
                next,
            ));
        }
    }
    Err(fail_at(Problem::NoOperation, line, pos))
}

/// Parses `line` (no line ending; trailing blanks allowed) into `rec`.
pub fn parse_record(line: In, rec: &mut Record, strict: bool) -> Result<(), Refusal> {
    let line = trim_end(line);
    rec.fields = [None; KNOWN_FIELDS];
    rec.extra = None;
    record(line, rec, strict).map_err(|e| {
        let fail = match e {
            nom::Err::Failure(f) | nom::Err::Error(f) => f,
            nom::Err::Incomplete(_) => Fail {
                problem: Problem::Truncated { last: NAMES[0] },
                rest: 0,
            },
        };
        let at = line.len() - fail.rest.min(line.len());
        // A line that is no record may be two that lost their line break: say so when a
        // record's start follows.
        let second = record_time_in(line, 0, line.len(), Some(0))
            .and_then(|first| tail::record_start_after(line, first + 1, line.len(), false));
        match second {
            Some(second) if fail.problem != Problem::Glued => Refusal {
                problem: Problem::Glued,
                at: second,
            },
            _ => Refusal {
                problem: fail.problem,
                at,
            },
        }
    })
}

fn record(line: In, rec: &mut Record, strict: bool) -> Result<(), nom::Err<Fail>> {
    // 1–7.
    let head = head(line, 0)?;
    rec.time_ms = head.time_ms;
    rec.fields[..7].copy_from_slice(&[
        head.owner,
        head.bucket,
        Some(head.time),
        head.ip,
        head.requester,
        head.request_id,
        head.operation,
    ]);
    let Some(pos) = head.next else {
        return Err(fail_at(
            Problem::Truncated { last: NAMES[6] },
            line,
            line.len(),
        ));
    };
    // Every check for a second record looks for its time, which opens with `[`: one scan
    // finds the first after this record's time, and most lines have none.
    let bracket = memchr(b'[', &line[head.time.end as usize..]).map(|i| head.time.end as usize + i);
    // A requester is written by AWS: a record's time inside it is a second record.
    if let Some(span) = head.requester
        && let Some(at) = record_time_in(line, span.start as usize, span.end as usize, bracket)
    {
        return Err(fail_at(Problem::Glued, line, at));
    }

    // 8–15: key, Request-URI, status, error code and the four numbers.
    let (key, uri, numbers) = key_and_request_uri(line, pos, bracket)?;
    rec.fields[7] = key;
    rec.fields[8] = uri;
    let Numbers {
        status,
        error,
        values,
        rest,
    } = numbers;
    rec.httpstatus = status.1.and_then(|s| i32::try_from(s).ok());
    rec.fields[9] = slice_text(line, status.0);
    rec.fields[10] = slice_text(line, error);
    for (n, (t, v)) in values.into_iter().enumerate() {
        rec.fields[11 + n] = slice_text(line, t);
        match n {
            0 => rec.bytessent = v,
            1 => rec.objectsize = v,
            2 => rec.totaltime = v,
            _ => rec.turnaroundtime = v,
        }
    }

    // 16, 17 and the fields AWS writes after them.
    tail::read(line, line.len() - rest.len(), rec, strict, bracket)
}

/// Fields 10 to 15: the HTTP status, the error code and the four numbers, each token with
/// its value, and the rest of the line (the space before the Referer consumed).
struct Numbers<'a> {
    status: (In<'a>, Option<i64>),
    error: In<'a>,
    values: [(In<'a>, Option<i64>); 4],
    rest: In<'a>,
}

/// Fields 10 and 11 (the status, any number here, and the error code) and the rest.
fn status_and_error(i: In<'_>) -> PResult<'_, ((In<'_>, Option<i64>), In<'_>)> {
    (number(9), sep(9), token, sep(10))
        .map(|(status, _, error, _)| (status, error))
        .parse(i)
}

/// Fields 12 to 15, the four numbers, and the space after them.
fn four_numbers(i: In<'_>) -> PResult<'_, [(In<'_>, Option<i64>); 4]> {
    (
        number(11),
        sep(11),
        number(12),
        sep(12),
        number(13),
        sep(13),
        number(14),
        sep(14),
    )
        .map(|(bytes, _, size, _, total, _, turnaround, _)| [bytes, size, total, turnaround])
        .parse(i)
}

fn numbers(i: In<'_>) -> Result<Numbers<'_>, nom::Err<Fail>> {
    let (i, (status, error)) = status_and_error(i)?;
    let (rest, values) = four_numbers(i)?;
    Ok(Numbers {
        status,
        error,
        values,
        rest,
    })
}

/// Fields 8 and 9 from `pos`: the key (URL-encoded, so one token; more only if a raw space
/// slipped in) and the Request-URI, then the fields up to the Referer (read once, while the
/// Request-URI's end is sought).
fn key_and_request_uri(
    line: In<'_>,
    pos: usize,
    bracket: Option<usize>,
) -> Result<(Option<Span>, Option<Span>, Numbers<'_>), nom::Err<Fail>> {
    let key_start = pos;
    let (mut key_end, mut after_key) = token_at(line, pos);
    let mut extra_tokens = 0;
    let uri_start = loop {
        let Some(p) = after_key else {
            return Err(fail_at(
                Problem::Truncated { last: NAMES[7] },
                line,
                line.len(),
            ));
        };
        if line[p] == b'"' {
            break p;
        }
        let (end, n) = token_at(line, p);
        if &line[p..end] == b"-" && n.is_some_and(|s| is_status(&line[s..token_at(line, s).0])) {
            break p;
        }
        extra_tokens += 1;
        if extra_tokens >= MAX_KEY_TOKENS || n.is_none() {
            return Err(fail_at(Problem::BadRequestUri, line, p));
        }
        key_end = end;
        after_key = n;
    };
    // A key is URL-encoded by AWS: a record's time in it is a second record.
    if let Some(at) = record_time_in(line, key_start, key_end, bracket) {
        return Err(fail_at(Problem::Glued, line, at));
    }
    let key = text(line, key_start, key_end);
    if line[uri_start] != b'"' {
        return Ok((key, None, numbers(&line[uri_start + 2..])?));
    }
    let mut truncated = None;
    let mut wrong = None;
    for q in memchr_iter(b'"', &line[uri_start + 1..]).map(|q| q + uri_start + 1) {
        match after_request_uri(line, q) {
            Fits::Yes(numbers) => {
                // A request line has no quote followed by a space unless it was cut short and
                // another record follows: a record's start after such a quote is a glue.
                if bracket.is_some()
                    && let Some(at) = glued_inside(line, uri_start + 1, q)
                {
                    return Err(fail_at(Problem::Glued, line, at));
                }
                return Ok((key, text(line, uri_start + 1, q), numbers));
            }
            Fits::Truncated(last) => truncated = truncated.or(Some(last)),
            Fits::Wrong(problem, at) => wrong = wrong.or(Some((problem, at))),
            Fits::No => {}
        }
    }
    Err(if let Some(last) = truncated {
        fail_at(Problem::Truncated { last }, line, line.len())
    } else if let Some((problem, at)) = wrong {
        fail_at(problem, line, at)
    } else {
        fail_at(Problem::BadRequestUri, line, uri_start)
    })
}

/// Where a record's time starts in `line[start..end]`, if anywhere; `bracket` is the first
/// `[` at or before `start` the caller knows of, or the first after it (`None`: there is none).
fn record_time_in(line: In, start: usize, end: usize, bracket: Option<usize>) -> Option<usize> {
    let from = start.max(bracket?);
    if from >= end {
        return None;
    }
    memchr_iter(b'[', &line[from..end])
        .map(|i| from + i)
        .find(|&at| looks_like_record_time(&line[at..]))
}

/// A second record inside the Request-URI `line[start..end]`: after a quote (which a request
/// line does not hold unless it was cut short and another record follows), a record's
/// beginning (owner, bucket, time, address, requester, request ID, operation). Returns where
/// it starts.
fn glued_inside(line: In, start: usize, end: usize) -> Option<usize> {
    let quote = memchr(b'"', &line[start..end])? + start;
    tail::record_start_after(line, quote + 1, end, false)
}

enum Fits<'a> {
    /// The fields after the quote, read.
    Yes(Numbers<'a>),
    /// What follows fits so far, but the line ends too early, after the named field.
    Truncated(&'static str),
    /// An HTTP status follows, but a later field is wrong (this problem, at this byte).
    Wrong(Problem, usize),
    No,
}

/// Could the quote at `q` close the Request-URI? It must be followed by an HTTP status, an
/// error code, four numbers and the start of the Referer (`"` or `-`), which a quote inside the
/// URI practically never is.
fn after_request_uri(line: In<'_>, q: usize) -> Fits<'_> {
    if q + 1 == line.len() {
        return Fits::Truncated(NAMES[8]);
    }
    if line[q + 1] != b' ' {
        return Fits::No;
    }
    let failed = |e: nom::Err<Fail>| match e {
        nom::Err::Error(f) | nom::Err::Failure(f) => f,
        nom::Err::Incomplete(_) => Fail {
            problem: Problem::BadRequestUri,
            rest: 0,
        },
    };
    let (i, (status, error)) = match status_and_error(&line[q + 2..]) {
        Ok(done) => done,
        Err(e) => {
            return match failed(e).problem {
                Problem::Truncated { last }
                    if is_status(token(&line[q + 2..]).map_or(b"", |(_, t)| t)) =>
                {
                    Fits::Truncated(last)
                }
                _ => Fits::No,
            };
        }
    };
    if !is_status(status.0) || error.is_empty() {
        return Fits::No;
    }
    let (rest, values) = match four_numbers(i) {
        Ok(done) => done,
        Err(e) => {
            let fail = failed(e);
            return match fail.problem {
                Problem::Truncated { last } => Fits::Truncated(last),
                problem => Fits::Wrong(problem, line.len() - fail.rest),
            };
        }
    };
    if matches!(rest.first(), Some(b'"' | b'-')) {
        Fits::Yes(Numbers {
            status,
            error,
            values,
            rest,
        })
    } else {
        Fits::Wrong(
            Problem::BadQuotedField { field: NAMES[15] },
            line.len() - rest.len(),
        )
    }
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
