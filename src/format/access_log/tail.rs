//! Where the text a requester wrote ends: the Referer and User-Agent, and the fields after them.
//!
//! In: a line and where its Referer (field 16) starts. Out: the Referer, the User-Agent,
//! fields 18–27 and the fields AWS appended, written into the [`Record`]; or a refusal.
//!
//! The Referer and User-Agent are quoted and AWS does not escape the quotes inside them, so a
//! requester can write anything there, a whole forged record tail or a record's time included.
//! Their content is therefore never used to find where they end. What follows the User-Agent
//! is written by AWS alone and has a recognisable shape field by field ([`fits`]): version ID,
//! host ID, signature version, cipher suite, authentication type, host header, TLS version,
//! access point ARN, aclRequired, source region, then whatever AWS appended (quoted or not).
//! Every quote followed by a space (or the end of the line) may close the User-Agent; the one
//! chosen is the **last one after which the fields fit and include a value only AWS writes**
//! ([`signs`]: a host ID, a signature version, …), else the last one after which they fit at
//! all, else the line's last quote (the reading of records AWS may write in a new way). A tail
//! forged inside the User-Agent always comes before the real closing quote, so it never wins;
//! a quoted field AWS appends after the known ones comes after the real tail, but what follows
//! its quotes does not carry AWS's values (at most dashes), so it never wins either.
//!
//! The one thing that cannot be told from a requester's text is which of the two quoted
//! headers a `" "` inside them belongs to: the Referer ends at the first `" "`, so the
//! User-Agent always holds the whole real User-Agent (and, at worst, the end of a forged
//! Referer). Only AWS's fields are evidence of a second record glued on (a line break lost):
//! a record's start in the tail, or after a closing-quote candidate whose following fields fit
//! up to it, makes the line a [`Problem::Glued`] reject; a record's time or even a whole
//! record inside a User-Agent is just text.

use memchr::{memchr_iter, memrchr, memrchr_iter};

use super::lex::token_at;
use super::lex::{Fail, In, Span, looks_like_record_time};
use super::parse::{NAMES, Problem, Record, is_record_start, text};
use super::schema::MIN_FIELDS;
use super::shape::{Field, TAIL_FIELDS, TAIL_FIRST, fits, read_field_as};

/// The slots of fields 18 onwards in a [`Record`], which the tail is read into.
type Slots = [Option<Span>; TAIL_FIELDS];

fn slots(rec: &mut Record) -> &mut Slots {
    (&mut rec.fields[TAIL_FIRST..TAIL_FIRST + TAIL_FIELDS])
        .try_into()
        .expect("ten tail fields")
}

/// What fields 18 onwards were like as read from one position (into [`Slots`]).
#[derive(Clone, Copy, Default)]
struct Tail {
    /// Known fields present (0 to 10).
    known: usize,
    /// Where the fields AWS appended after the known ones start.
    extras: Option<usize>,
    /// Every field has its shape.
    fits: bool,
    /// Some field holds a value only AWS writes.
    signed: bool,
}

/// Reads the tail from `start` (`None`: the line ended) into `out`. With `stop`, gives up at
/// the first field without its shape (for weighing candidates; the fields are then
/// incomplete).
fn read_tail(line: In, start: Option<usize>, stop: bool, out: &mut Slots) -> Tail {
    let mut tail = Tail {
        fits: true,
        ..Tail::default()
    };
    *out = [None; TAIL_FIELDS];
    let Some(mut p) = start else {
        return tail;
    };
    // Field by field, each read as compiled for it (see `read_field_as`), or as `$read` says.
    macro_rules! field {
        ($f:literal) => {
            field!($f, read_field_as::<$f>(line, p))
        };
        ($f:literal, $read:expr) => {
            let field = $read;
            if field.fits {
                tail.signed |= field.signed;
            } else {
                tail.fits = false;
                if stop {
                    return tail;
                }
            }
            out[tail.known] = text(line, p, field.end);
            tail.known += 1;
            match field.next {
                Some(n) => p = n,
                None => return tail,
            }
        };
    }
    field!(17);
    field!(18, host_id(line, p));
    field!(19);
    field!(20);
    field!(21);
    field!(22);
    field!(23);
    field!(24);
    field!(25);
    field!(26);
    debug_assert_eq!(tail.known, TAIL_FIELDS);
    tail.extras = Some(p);
    tail
}

/// One way of reading fields 16 and 17.
#[derive(Clone, Copy, Debug)]
struct Reading {
    referer: Option<Span>,
    agent: Option<Span>,
    /// Where field 18 starts (`None`: the line ends with field 17).
    tail_start: Option<usize>,
    /// The last byte of what the requester wrote (the closing quote, or the bare `-`).
    close: usize,
}

/// The text between a quote at `open` and one at `close`: `"-"` is absent (NULL), `""` is the
/// empty string (a client that sent an empty header).
fn quoted(open: usize, close: usize, line: In) -> Option<Span> {
    if close == open + 1 {
        return Some(Span::new(close, close));
    }
    text(line, open + 1, close)
}

/// The Host ID at `p`, which AWS once wrote as an IAM ID, a space and the base64 value: one
/// field of two tokens when the first is such an ID and the second has a Host ID's shape (and
/// not a signature version's).
fn host_id(line: In, p: usize) -> Field {
    let field = read_field_as::<18>(line, p);
    if field.fits
        && is_access_key_id(&line[p..field.end])
        && let Some(second) = field.next
    {
        let more = read_field_as::<18>(line, second);
        if more.fits && more.signed && !read_field_as::<19>(line, second).fits {
            return Field {
                end: more.end,
                next: more.next,
                fits: true,
                signed: true,
            };
        }
    }
    field
}

/// Whether `t` is an AWS key or unique ID (`AKIA…`, `ASIA…`, `AIDA…`, `AROA…`: a four-letter
/// prefix starting with `A`, then capitals and digits, 16 to 32 in all, as IAM documents its
/// identifiers). In 2019 AWS wrote some records' Host ID as such an ID, a space and the base64
/// value (`AIDAISBTTLPGXGH6YFFAY LzYG…=`, in NCBI's public buckets' logs): one field of two
/// tokens.
fn is_access_key_id(t: In) -> bool {
    (16..=32).contains(&t.len())
        && t[0] == b'A'
        && t[..4].iter().all(u8::is_ascii_uppercase)
        && t.iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn fail(problem: Problem, line: In, at: usize) -> nom::Err<Fail> {
    Fail::at(problem, &line[at.min(line.len())..])
}

/// Is `line[p]` a bare `-` field?
fn bare(line: In, p: usize) -> bool {
    line.get(p) == Some(&b'-') && matches!(line.get(p + 1), None | Some(b' '))
}

/// The start of the field after one that ends at `p` (inclusive), unless the line ends.
fn after(line: In, p: usize) -> Option<usize> {
    (p + 1 < line.len()).then_some(p + 2)
}

/// Reads fields 16 onwards from `pos` into `rec`. `bracket`: the first `[` after the record's
/// time (`None`: there is none, so no second record's time either).
pub(super) fn read(
    line: In,
    pos: usize,
    rec: &mut Record,
    strict: bool,
    bracket: Option<usize>,
) -> Result<(), nom::Err<Fail>> {
    let len = line.len();
    // Where the requester's text opens: the quoted User-Agent after a bare Referer, or the
    // quoted Referer.
    let (open, quoted_referer) = if bare(line, pos) {
        let ua = pos + 2;
        if ua >= len {
            return Err(fail(Problem::Truncated { last: NAMES[15] }, line, len));
        }
        if bare(line, ua) {
            let reading = Reading {
                referer: None,
                agent: None,
                tail_start: after(line, ua),
                close: ua,
            };
            return finish(line, rec, reading, None, pos, strict);
        }
        if line[ua] != b'"' {
            return Err(fail(Problem::BadQuotedField { field: NAMES[16] }, line, ua));
        }
        (ua, false)
    } else if line[pos] == b'"' {
        (pos, true)
    } else {
        return Err(fail(
            Problem::BadQuotedField { field: NAMES[15] },
            line,
            pos,
        ));
    };
    let (reading, tail) = match choose(line, open, quoted_referer, slots(rec)) {
        Some((reading, tail)) => (reading, tail),
        None => (positional(line, pos)?, None),
    };
    if bracket.is_some()
        && let Some(at) = glued(line, open, quoted_referer, &reading)
    {
        return Err(fail(Problem::Glued, line, at));
    }
    finish(line, rec, reading, tail, pos, strict)
}

/// The first `" "` after `open`: where a quoted Referer ends and the User-Agent opens.
fn first_boundary(line: In, open: usize) -> Option<usize> {
    memchr_iter(b'"', &line[open + 1..])
        .map(|q| open + 1 + q)
        .find(|&q| line.get(q + 1) == Some(&b' ') && line.get(q + 2) == Some(&b'"'))
}

/// The readings in which the quote at `q` ends the requester's text (User-Agent quoted and
/// closing at `q`; or, after a quoted Referer closing at `q`, a bare `-` User-Agent).
fn readings(
    line: In,
    open: usize,
    quoted_referer: bool,
    boundary: Option<usize>,
    q: usize,
) -> [Option<Reading>; 2] {
    let agent_closes = if !quoted_referer {
        (q > open).then(|| Reading {
            referer: None,
            agent: quoted(open, q, line),
            tail_start: after(line, q),
            close: q,
        })
    } else {
        boundary.filter(|&b| b + 2 < q).map(|b| Reading {
            referer: quoted(open, b, line),
            agent: quoted(b + 2, q, line),
            tail_start: after(line, q),
            close: q,
        })
    };
    let referer_closes =
        (quoted_referer && q > open && line.get(q + 1) == Some(&b' ') && bare(line, q + 2)).then(
            || Reading {
                referer: quoted(open, q, line),
                agent: None,
                tail_start: after(line, q + 2),
                close: q + 2,
            },
        );
    [agent_closes, referer_closes]
}

/// Quotes after `open` that could end the requester's text, the last first.
fn closing_candidates(
    line: In<'_>,
    open: usize,
    before: usize,
) -> impl Iterator<Item = usize> + '_ {
    memrchr_iter(b'"', &line[open + 1..before])
        .map(move |q| open + 1 + q)
        .filter(|&q| q + 1 == line.len() || line[q + 1] == b' ')
}

/// The reading whose tail is AWS's (see the module documentation), with that tail if it is
/// the one left in `out`; `None` when no tail fits.
fn choose(
    line: In,
    open: usize,
    quoted_referer: bool,
    out: &mut Slots,
) -> Option<(Reading, Option<Tail>)> {
    let boundary = if quoted_referer {
        first_boundary(line, open)
    } else {
        None
    };
    let mut unsigned = None;
    for q in closing_candidates(line, open, line.len()) {
        for reading in readings(line, open, quoted_referer, boundary, q)
            .into_iter()
            .flatten()
        {
            let tail = read_tail(line, reading.tail_start, true, out);
            if !tail.fits {
                continue;
            }
            // A tail that fits was read whole (reading stops only at a field that does not).
            if tail.signed {
                return Some((reading, Some(tail)));
            }
            // Read again if chosen: later candidates write over `out`.
            unsigned = unsigned.or(Some((reading, None)));
        }
    }
    unsigned
}

/// Where a second record starts, if AWS's fields say one does: in the tail of `reading`, or
/// after an earlier closing-quote candidate whose fields fit up to a record's start.
///
/// Linear in the line however many quotes and record-like times a header holds: the record
/// starts before the close are found once, and each candidate asks only for the first of them
/// after it (owners grow with the times), checked against the tail fields that fit there.
fn glued(line: In, open: usize, quoted_referer: bool, reading: &Reading) -> Option<usize> {
    // The common case: no record's time anywhere after the first quote.
    memchr_iter(b'[', &line[open..]).find(|&i| looks_like_record_time(&line[open + i..]))?;
    if let Some(start) = reading.tail_start
        && let Some(at) = record_start_after(line, start, line.len(), false)
    {
        return Some(at);
    }
    let starts = record_starts(line, open + 1, reading.close);
    if starts.is_empty() {
        return None;
    }
    let boundary = if quoted_referer {
        first_boundary(line, open)
    } else {
        None
    };
    closing_candidates(line, open, reading.close).find_map(|q| {
        readings(line, open, quoted_referer, boundary, q)
            .into_iter()
            .flatten()
            .filter_map(|r| r.tail_start)
            .find_map(|start| start_fitting_after(line, &starts, start, reading.close))
    })
}

/// A record that starts at `owner`, its time at `time`.
#[derive(Clone, Copy)]
struct Start {
    owner: usize,
    time: usize,
}

/// Every record start in `line[from..end]` (each time's owner taken as far back as `from`),
/// in order.
fn record_starts(line: In, from: usize, end: usize) -> Vec<Start> {
    let mut starts = Vec::new();
    if from >= end {
        return starts;
    }
    for t in memchr_iter(b'[', &line[from..end]).map(|i| from + i) {
        if let Some(owner) = start_at_time(line, from, t) {
            starts.push(Start { owner, time: t });
        }
    }
    starts
}

/// The record whose time is at `t`, its owner and bucket found after `from`: where it starts.
fn start_at_time(line: In, from: usize, t: usize) -> Option<usize> {
    if !looks_like_record_time(&line[t..]) || t < from + 4 || line[t - 1] != b' ' {
        return None;
    }
    let bucket = memrchr(b' ', &line[from..t - 1])
        .map(|i| from + i + 1)
        .filter(|&b| b > from + 1)?;
    let owner = memrchr(b' ', &line[from..bucket - 1]).map_or(from, |i| from + i + 1);
    // An owner and a bucket never hold a quote (what a requester writes is quoted).
    if owner + 1 >= bucket || line[owner..t].contains(&b'"') {
        return None;
    }
    is_record_start(line, owner).then_some(owner)
}

/// Whether the tokens of `line[from..owner]` are fields that fit the tail's shapes, as many
/// as the known fields are (anything AWS appended after them is free).
fn fits_before(line: In, from: usize, owner: usize) -> bool {
    let before = &line[from..owner];
    let before = before.strip_suffix(b" ").unwrap_or(before);
    before.is_empty()
        || before
            .split(|&b| b == b' ')
            .take(TAIL_FIELDS)
            .enumerate()
            .all(|(j, f)| fits(TAIL_FIRST + j, f))
}

/// [`record_start_after`] with `fitting`, from `from` to `end`, answered from the record
/// starts found once: the first start at or after `from` (owners grow with their times), or
/// one whose owner token `from` cuts (then `from` is its owner, as the scan from `from` sees it).
fn start_fitting_after(line: In, starts: &[Start], from: usize, end: usize) -> Option<usize> {
    let first = starts.partition_point(|s| s.time < from + 4);
    for s in &starts[first..] {
        if s.time >= end {
            return None;
        }
        if s.owner >= from {
            // Later starts have later owners: more tokens before them, the same first ones.
            // Only a start whose tokens before it fit can be the answer, and if this one's do
            // not, a later one's fit only if it has fewer, which it cannot.
            return fits_before(line, from, s.owner).then_some(s.owner);
        }
        // `from` is inside this start's owner or bucket: read it as the scan from `from` would.
        if let Some(owner) = start_at_time(line, from, s.time)
            && fits_before(line, from, owner)
        {
            return Some(owner);
        }
    }
    None
}

/// The start of a record (owner, bucket, time, address, requester, request ID, operation,
/// key, Request-URI, status, error code and the four numbers) in `line[from..end]`. With
/// `fitting`, only one whose preceding tokens are fields that fit the tail's shapes, as many as
/// the known fields are, and anything AWS appended after them (the second record's owner may
/// be glued to the last of them).
pub(super) fn record_start_after(
    line: In,
    from: usize,
    end: usize,
    fitting: bool,
) -> Option<usize> {
    if from >= end {
        return None;
    }
    memchr_iter(b'[', &line[from..end])
        .map(|i| from + i)
        .filter_map(|t| start_at_time(line, from, t))
        .find(|&owner| !fitting || fits_before(line, from, owner))
}

/// The reading of records no candidate's tail fits (AWS may write a field in a new way): the
/// User-Agent closes at the line's last quote, the Referer at the first `" "` before it.
fn positional(line: In, pos: usize) -> Result<Reading, nom::Err<Fail>> {
    let len = line.len();
    let last_quote = memrchr(b'"', line).unwrap_or(0);
    let (referer, ua_start) = if bare(line, pos) {
        (None, pos + 2)
    } else {
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
                return Err(fail(Problem::Truncated { last: NAMES[15] }, line, len));
            }
            Some(q) => (quoted(open, q, line), q + 2),
            None if last_quote > open
                && bare(line, last_quote + 2)
                && line.get(last_quote + 1) == Some(&b' ') =>
            {
                return Ok(Reading {
                    referer: quoted(open, last_quote, line),
                    agent: None,
                    tail_start: after(line, last_quote + 2),
                    close: last_quote + 2,
                });
            }
            None if last_quote > open && last_quote + 1 == len => {
                return Err(fail(Problem::Truncated { last: NAMES[15] }, line, len));
            }
            None if last_quote > open && line.get(last_quote + 1) == Some(&b' ') => {
                return Err(fail(
                    Problem::BadQuotedField { field: NAMES[16] },
                    line,
                    last_quote + 2,
                ));
            }
            None => {
                return Err(fail(
                    Problem::BadQuotedField { field: NAMES[15] },
                    line,
                    open,
                ));
            }
        }
    };
    if ua_start >= len {
        return Err(fail(Problem::Truncated { last: NAMES[15] }, line, len));
    }
    if line[ua_start] != b'"' || last_quote <= ua_start {
        return Err(fail(
            Problem::BadQuotedField { field: NAMES[16] },
            line,
            ua_start,
        ));
    }
    if last_quote + 1 < len && line[last_quote + 1] != b' ' {
        return Err(fail(
            Problem::BadQuotedField { field: NAMES[16] },
            line,
            last_quote,
        ));
    }
    Ok(Reading {
        referer,
        agent: quoted(ua_start, last_quote, line),
        tail_start: after(line, last_quote),
        close: last_quote,
    })
}

/// Writes the reading into `rec`, with its tail (read here unless `tail` says it is in `rec`
/// already).
fn finish(
    line: In,
    rec: &mut Record,
    reading: Reading,
    tail: Option<Tail>,
    pos: usize,
    strict: bool,
) -> Result<(), nom::Err<Fail>> {
    debug_assert!(reading.close >= pos);
    rec.fields[15] = reading.referer;
    rec.fields[16] = reading.agent;
    let tail = tail.unwrap_or_else(|| read_tail(line, reading.tail_start, false, slots(rec)));
    rec.field_count = MIN_FIELDS + tail.known;
    if let Some(p) = tail.extras {
        rec.extra = text(line, p, line.len());
        if strict && rec.extra.is_some() {
            return Err(fail(Problem::ExtraFields, line, p));
        }
        rec.field_count += count_fields(&line[p..]);
    }
    Ok(())
}

/// Space-separated fields, a quoted one (spaces and all) counting once.
fn count_fields(t: In) -> usize {
    let mut count = 0;
    let mut i = 0;
    while i < t.len() {
        count += 1;
        if t[i] == b'"'
            && let Some(close) = t[i + 1..]
                .windows(2)
                .position(|w| w == b"\" ")
                .map(|c| i + 1 + c)
                .or_else(|| (t.last() == Some(&b'"') && t.len() > i + 1).then_some(t.len() - 1))
        {
            i = close + 2;
            continue;
        }
        i = token_at(t, i).1.unwrap_or(t.len());
    }
    count
}

#[cfg(test)]
mod tests {
    use super::super::parse::{Problem, Record, parse_record};

    /// A 27-field record with a real tail; `{ua}` is the User-Agent's text, `{ref}` the
    /// Referer's.
    const TEMPLATE: &str = r#"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 arn:aws:iam::123456789012:user/alice 3E57427F3EXAMPLE REST.GET.OBJECT photos/a.jpg "GET /amzn-s3-demo-bucket1/photos/a.jpg HTTP/1.1" 200 - 113 4096 7 5 "{ref}" "{ua}" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com TLSv1.2 - Yes eu-west-1"#;

    fn line(referer: &str, agent: &str) -> String {
        TEMPLATE.replace("{ref}", referer).replace("{ua}", agent)
    }

    /// A parsed record, its fields' text and its extra fields' text.
    type Fields = (Record, Vec<Option<String>>, Option<String>);

    fn fields(line: &str) -> Result<Fields, Problem> {
        let mut rec = Record::default();
        parse_record(line.as_bytes(), &mut rec, false).map_err(|r| r.problem)?;
        let f = rec
            .fields
            .iter()
            .map(|s| s.map(|s| s.str(line).to_string()))
            .collect();
        let extra = rec.extra.map(|s| s.str(line).to_string());
        Ok((rec, f, extra))
    }

    /// Every field of the record equals the template's, with this Referer and User-Agent.
    fn assert_real(l: &str, referer: Option<&str>, agent: Option<&str>) {
        let (rec, f, extra) = fields(l).unwrap_or_else(|p| panic!("{p}: {l}"));
        assert_eq!(f[15].as_deref(), referer, "referer of {l}");
        assert_eq!(f[16].as_deref(), agent, "agent of {l}");
        assert_eq!(f[17], None);
        assert_eq!(f[18].as_deref().map(|h| &h[..4]), Some("s9lz"));
        assert_eq!(f[19].as_deref(), Some("SigV4"));
        assert_eq!(
            f[22].as_deref(),
            Some("amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com")
        );
        assert_eq!(f[23].as_deref(), Some("TLSv1.2"));
        assert_eq!(f[25].as_deref(), Some("Yes"));
        assert_eq!(f[26].as_deref(), Some("eu-west-1"));
        assert_eq!(extra, None);
        assert_eq!(rec.field_count, 27);
        assert_eq!(rec.httpstatus, Some(200));
        assert_eq!(rec.bytessent, Some(113));
        assert_eq!(rec.objectsize, Some(4096));
    }

    #[test]
    fn a_record_time_in_a_header_is_text() {
        let time = "[14/Mar/2025:10:00:01 +0000]";
        for agent in [
            format!("Mozilla/5.0 {time}"),
            time.to_string(),
            format!("x {time} y"),
            format!(
                "79a5 amzn-s3-demo-bucket1 {time} 192.0.2.3 - 3E57427F3EXAMPLE REST.GET.OBJECT k"
            ),
        ] {
            assert_real(&line("-", &agent), None, Some(&agent));
            assert_real(&line(&agent, "curl/8"), Some(&agent), Some("curl/8"));
        }
    }

    #[test]
    fn a_forged_tail_in_the_user_agent_does_not_replace_the_real_one() {
        let forged = [
            // A complete forged tail, then the rest of the agent.
            r#"Mozilla" - AAAAAAAAAAAAAAAAAAAAAAAAAAAA= SigV2 - QueryString evil.example TLSv1.0 - - us-east-1 x"#,
            // Balanced quotes, so the rest looks like a quoted extra field.
            r#"Mozilla" - AAAAAAAAAAAAAAAAAAAAAAAAAAAA= SigV2 - QueryString evil.example TLSv1.0 - - us-east-1 "x"#,
            // A forged tail ending the agent.
            r#"Mozilla" - AAAAAAAAAAAAAAAAAAAAAAAAAAAA= SigV2 - QueryString evil.example TLSv1.0 - -"#,
            // A forged Referer/User-Agent pair and tail.
            r#"a" "b" - AAAAAAAAAAAAAAAAAAAAAAAAAAAA= SigV2 - QueryString e TLSv1.0 - - us-east-1 " "c"#,
            r#"" ""#,
            r#"""#,
            r#"" "" " "#,
        ];
        for agent in forged {
            assert_real(&line("-", agent), None, Some(agent));
        }
    }

    #[test]
    fn headers_of_hundreds_of_kilobytes_full_of_forgeries_are_one_field() {
        // Escape sequences, quotes, forged tails and record times, over and over.
        let piece = "Mozilla/5.0 \x1b[31m\x07\" - AAAAAAAAAAAAAAAAAAAAAAAAAAAA= SigV4 - AuthHeader \
            e.example TLSv1.2 - Yes us-east-1 x [06/Feb/2019:00:00:38 +0000] \"GET / HTTP/1.1\" \
            200 - 1 1 1 1 ";
        let big = piece.repeat(300_000 / piece.len() + 1);
        assert!(big.len() > 300_000);
        assert_real(&line("-", &big), None, Some(&big));
        assert_real(&line(&big, "curl/8"), Some(&big), Some("curl/8"));
        let uri = format!("GET /k?{} HTTP/1.1", big.replace(' ', "%20"));
        let (_, f, _) = fields(
            &TEMPLATE
                .replace("GET /amzn-s3-demo-bucket1/photos/a.jpg HTTP/1.1", &uri)
                .replace("{ref}", "-")
                .replace("{ua}", "curl/8"),
        )
        .unwrap();
        assert_eq!(f[8].as_deref(), Some(uri.as_str()));
        assert_eq!(f[26].as_deref(), Some("eu-west-1"));
        // A header that holds a fitting tail and then a whole record is, to the grammar, two
        // records glued together (nothing tells them from a lost line break): one reject,
        // which `unparsed-records` reports; never a row with the second inside.
        let forged = "x\" - AAAAAAAAAAAAAAAAAAAAAAAAAAAA= SigV4 - AuthHeader e.example TLSv1.2 - \
            Yes us-east-1 79a5 amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - \
            3E57427F3EXAMPLE REST.GET.OBJECT k \"GET / HTTP/1.1\" 200 - 1 1 1 1 \"-\" \"y";
        let big = forged.repeat(2_000);
        assert_eq!(fields(&line("-", &big)).err(), Some(Problem::Glued));
    }

    #[test]
    fn a_forged_tail_or_agent_in_the_referer_keeps_the_real_agent_whole() {
        let referer = r#"https://x/" - AAAAAAAAAAAAAAAAAAAAAAAAAAAA= SigV2 - QueryString e TLSv1.0 - - us-east-1 x"#;
        assert_real(
            &line(referer, "real-agent/1.0"),
            Some(referer),
            Some("real-agent/1.0"),
        );
        // A `" "` in the Referer: the Referer ends at it, and the User-Agent keeps the rest and
        // the whole real agent.
        let (_, f, _) = fields(&line(r#"a" "sqlmap"#, "Mozilla/5.0")).unwrap();
        assert_eq!(f[15].as_deref(), Some("a"));
        assert_eq!(f[16].as_deref(), Some(r#"sqlmap" "Mozilla/5.0"#));
        assert_eq!(f[26].as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn quoted_fields_after_the_known_ones_keep_every_known_field() {
        let base = line("-", "aws-cli/2.15");
        for appended in [
            r#"newfield "new field two""#,
            r#""quoted first" - -"#,
            r#""a" "b c" -"#,
            r#"x "y"" z"#,
        ] {
            let l = format!("{base} {appended}");
            let (rec, f, extra) = fields(&l).unwrap_or_else(|p| panic!("{p}: {l}"));
            assert_eq!(f[16].as_deref(), Some("aws-cli/2.15"), "{l}");
            assert_eq!(f[19].as_deref(), Some("SigV4"), "{l}");
            assert_eq!(f[23].as_deref(), Some("TLSv1.2"), "{l}");
            assert_eq!(f[26].as_deref(), Some("eu-west-1"), "{l}");
            assert_eq!(extra.as_deref(), Some(appended));
            assert!(rec.field_count > 27);
        }
        let l = format!("{base} newfield \"new field two\"");
        assert_eq!(fields(&l).unwrap().0.field_count, 29);
    }

    #[test]
    fn glued_records_are_refused_whatever_joins_them() {
        let a = line("-", "Mozilla/5.0");
        for glued in [
            format!("{a}{a}"),
            format!("{a} {a}"),
            format!("{a} extra {a}"),
            // The first record cut in its tail, in its User-Agent's fields, in its Request-URI.
            format!("{}{a}", &a[..a.find(" SigV4").unwrap()]),
            format!("{}{a}", &a[..a.find(" 200 - 113").unwrap()]),
            format!("{}{a}", &a[..a.find(" 192.0.2.3").unwrap()]),
            format!("{}{a}", &a[..a.find(" photos/a.jpg").unwrap()]),
        ] {
            assert_eq!(fields(&glued).map(|_| ()), Err(Problem::Glued), "{glued}");
        }
    }

    #[test]
    fn old_records_without_a_tail_still_read() {
        let old = r#"79a5 mybucket [12/May/2014:07:54:01 +0000] 10.0.1.2 - 7ACC4BE89EXAMPLE REST.GET.OBJECT foo/bar.html "GET /foo/bar.html HTTP/1.1" 304 - - 1718 10 - "-" "Mozilla/5.0 "quoted" x""#;
        let (rec, f, _) = fields(old).unwrap();
        assert_eq!(f[16].as_deref(), Some(r#"Mozilla/5.0 "quoted" x"#));
        assert_eq!(rec.field_count, 17);
        let dashes = r#"79a5 b [12/May/2014:07:54:01 +0000] 10.0.1.2 - 7ACC4BE89EXAMPLE REST.GET.OBJECT k "GET /k HTTP/1.1" 200 - - 1 1 - "a" "b" - - - -"#;
        let (_, f, _) = fields(dashes).unwrap();
        assert_eq!((f[15].as_deref(), f[16].as_deref()), (Some("a"), Some("b")));
    }

    #[test]
    fn a_quoted_referer_then_a_bare_agent() {
        let l = line("x", "y").replace(r#""x" "y""#, r#""https://a/" "b" -"#);
        let (_, f, _) = fields(&l).unwrap();
        assert_eq!(f[15].as_deref(), Some(r#"https://a/" "b"#));
        assert_eq!(f[16], None);
        assert_eq!(f[26].as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn extra_fields_count_quoted_ones_once() {
        assert_eq!(super::count_fields(br#"a "b c" d"#), 3);
        assert_eq!(super::count_fields(br#""b c""#), 1);
        assert_eq!(super::count_fields(b"a"), 1);
        assert_eq!(super::count_fields(br#"a "unclosed x"#), 3);
    }
}
