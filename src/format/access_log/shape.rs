//! The shapes of the fields AWS writes after the User-Agent (0-based field numbers 17 to 26):
//! version ID, host ID, signature version, cipher, authentication type, host header, TLS
//! version, access point ARN, aclRequired, source region. A requester cannot write them, so
//! their shapes decide where the requester's text ends (see [`super::tail`]).
//!
//! In: a token, or a line and where a tail field starts. Out: whether the value [`fits`] the
//! field and whether it [`signs`] it as AWS's; [`read_field`] also finds where the token ends.

use super::lex::In;
#[cfg(any(test, not(target_arch = "x86_64")))]
use super::lex::token_at;

/// The first field after the User-Agent, and how many AWS has defined after it.
pub const TAIL_FIRST: usize = 17;
pub const TAIL_FIELDS: usize = 10;

// Each byte's class, one bit each, so that one pass over a token (the OR of its bytes'
// classes) answers every question the shapes ask: which characters it holds, and whether it
// holds any outside a set.
const LOWER: u16 = 1;
const UPPER: u16 = 1 << 1;
const DIGIT: u16 = 1 << 2;
const PLUS_SLASH_EQ: u16 = 1 << 3;
const DOT: u16 = 1 << 4;
const DASH: u16 = 1 << 5;
const UNDERSCORE: u16 = 1 << 6;
const COLON: u16 = 1 << 7;
const BRACKET: u16 = 1 << 8;
const QUOTE: u16 = 1 << 9;
const OTHER: u16 = 1 << 10;
const ALNUM: u16 = LOWER | UPPER | DIGIT;
const ALL: u16 = (OTHER << 1) - 1;
/// Not a class: for [`tracked`], whether a token holds any letter (told as LOWER | UPPER).
const LETTER: u16 = OTHER << 1;

const CLASS: [u16; 256] = {
    let mut t = [OTHER; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = match c {
            b'a'..=b'z' => LOWER,
            b'A'..=b'Z' => UPPER,
            b'0'..=b'9' => DIGIT,
            b'+' | b'/' | b'=' => PLUS_SLASH_EQ,
            b'.' => DOT,
            b'-' => DASH,
            b'_' => UNDERSCORE,
            b':' => COLON,
            b'[' | b']' => BRACKET,
            b'"' => QUOTE,
            _ => OTHER,
        };
        b += 1;
    }
    t
};

/// The classes of the bytes of `t`, together.
fn classes(t: In) -> u16 {
    t.iter().fold(0, |acc, &b| acc | CLASS[b as usize])
}

/// Whether `t` can be the value of tail field `field` (`-` always can). Loose enough for what
/// AWS may write next (a new signature or TLS version, a longer host), strict enough that a
/// field never holds a quote or another field's kind of value.
pub fn fits(field: usize, t: In) -> bool {
    shape(field, t).0
}

/// Whether `t`, a value that [`fits`] field `field`, is one only AWS would have a reason to
/// write there: a host ID of real length, a signature version, a cipher suite's name, an
/// authentication type, a host name, a TLS version, an ARN, `Yes`, a region. A tail of dashes
/// and short words (what may follow a quoted field AWS appends one day) is not signed.
#[cfg(test)]
pub fn signs(field: usize, t: In) -> bool {
    shape(field, t).1
}

/// [`fits`] and [`signs`] at once, from one pass over the token, one byte at a time: the
/// reference [`read_field`] is tested against.
pub fn shape(field: usize, t: In) -> (bool, bool) {
    if t == b"-" {
        return (true, false);
    }
    let seen = classes(t);
    judge(field, t, seen & !allowed(field) == 0, seen)
}

/// The classes of bytes field `field` may hold.
const fn allowed(field: usize) -> u16 {
    match field {
        // Version ID: URL-safe base64-like, or `null`.
        17 => ALNUM | PLUS_SLASH_EQ | DOT | UNDERSCORE | DASH,
        // Host ID (x-amz-id-2): base64.
        18 => ALNUM | PLUS_SLASH_EQ,
        // Signature version: SigV2, SigV4, SigV4a, …
        19 => ALNUM,
        // Cipher suite: ECDHE-RSA-AES128-GCM-SHA256, TLS_AES_128_GCM_SHA256, …
        20 => ALNUM | DASH | UNDERSCORE,
        // Authentication type: AuthHeader, QueryString.
        21 => LOWER | UPPER,
        // Host header: a host name or address, perhaps with a port.
        22 => ALNUM | DOT | DASH | UNDERSCORE | COLON | BRACKET,
        // TLS version: TLSv1.2, TLSV1.1, …
        23 => ALNUM | DOT,
        // Access point ARN: anything but a quote.
        24 => ALL & !QUOTE,
        // aclRequired: `Yes`, compared whole.
        25 => ALL,
        // Source region: us-east-1, …
        26 => ALNUM | DASH,
        _ => 0,
    }
}

/// The classes whose presence [`judge`] asks about beyond [`allowed`] ([`LETTER`]: any of
/// LOWER and UPPER, told as both).
const fn tracked(field: usize) -> u16 {
    match field {
        20 => DIGIT | UPPER | LOWER,
        22 => DOT | LETTER,
        _ => 0,
    }
}

/// The shape of `t` (not `-`) as field `field`, given whether its bytes are all of the field's
/// [`allowed`] classes and which classes it holds (at least those [`tracked`]).
#[inline(always)]
fn judge(field: usize, t: In, only_allowed: bool, seen: u16) -> (bool, bool) {
    let fits = only_allowed
        && !t.is_empty()
        && match field {
            17 | 18 | 20 | 22 => true,
            19 => t.len() <= 16 && t.starts_with(b"SigV"),
            21 | 26 => t.len() <= 32,
            23 => (3..=16).contains(&t.len()) && t[..3].eq_ignore_ascii_case(b"TLS"),
            24 => t.starts_with(b"arn:"),
            25 => t == b"Yes",
            _ => false,
        };
    if !fits {
        return (false, false);
    }
    let signed = match field {
        18 => t.len() >= 16,
        19 | 23..=25 => true,
        20 => t.len() >= 6 && seen & DIGIT != 0 && seen & UPPER != 0 && seen & LOWER == 0,
        21 => t == b"AuthHeader" || t == b"QueryString",
        22 => seen & DOT != 0 && seen & (LOWER | UPPER) != 0,
        26 => is_region(t),
        _ => false,
    };
    (true, signed)
}

/// A tail field as [`read_field`] finds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// Where its token ends (the space after it, or the end of the line).
    pub end: usize,
    /// Where the next token starts (`None`: the line ends).
    pub next: Option<usize>,
    /// [`fits`] and [`signs`] of the token.
    pub fits: bool,
    pub signed: bool,
}

/// The token of field `field` that starts at `p`, with its shape: [`token_at`] and [`shape`]
/// in one pass ([`read_field_as`] for a field known when compiling, as the parser uses it).
#[cfg(test)]
pub fn read_field(field: usize, line: In, p: usize) -> Field {
    match field {
        17 => read_field_as::<17>(line, p),
        18 => read_field_as::<18>(line, p),
        19 => read_field_as::<19>(line, p),
        20 => read_field_as::<20>(line, p),
        21 => read_field_as::<21>(line, p),
        22 => read_field_as::<22>(line, p),
        23 => read_field_as::<23>(line, p),
        24 => read_field_as::<24>(line, p),
        25 => read_field_as::<25>(line, p),
        26 => read_field_as::<26>(line, p),
        _ => read_field_as::<0>(line, p),
    }
}

/// [`read_field`] for field `F`. The tail is a tenth of a line's bytes but ten of its fields,
/// so what a field costs apart from its bytes is what counts: each field's reading is compiled
/// for that field (its classes, its checks), and on x86_64 sixteen bytes are classified at a
/// time (SSE2, part of every x86_64 target).
#[inline(always)]
pub fn read_field_as<const F: usize>(line: In, p: usize) -> Field {
    let len = line.len();
    let p = p.min(len);
    let next = |end: usize| (end < len).then_some(end + 1);
    if line.get(p) == Some(&b'-') && matches!(line.get(p + 1), None | Some(b' ')) {
        return Field {
            end: p + 1,
            next: next(p + 1),
            fits: true,
            signed: false,
        };
    }
    #[cfg(target_arch = "x86_64")]
    let (end, only_allowed, seen) = wide::scan(line, p, allowed(F), tracked(F));
    #[cfg(not(target_arch = "x86_64"))]
    let (end, only_allowed, seen) = {
        let end = token_at(line, p).0;
        let seen = classes(&line[p..end]);
        (end, seen & !allowed(F) == 0, seen)
    };
    let (fits, signed) = judge(F, &line[p..end], only_allowed, seen);
    Field {
        end,
        next: next(end),
        fits,
        signed,
    }
}

#[cfg(target_arch = "x86_64")]
mod wide {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi8, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8,
        _mm_or_si128, _mm_set1_epi8, _mm_setzero_si128,
    };

    use super::super::lex::In;
    use super::{
        ALL, BRACKET, COLON, DASH, DIGIT, DOT, LETTER, LOWER, OTHER, PLUS_SLASH_EQ, QUOTE,
        UNDERSCORE, UPPER,
    };

    /// Sixteen bytes of `bytes` from `at` (`at + 16 <= bytes.len()`).
    #[inline(always)]
    fn load(bytes: &[u8], at: usize) -> __m128i {
        let chunk: &[u8; 16] = bytes[at..at + 16].try_into().expect("sixteen bytes");
        // SAFETY: `chunk` is sixteen readable bytes, and `_mm_loadu_si128` needs no alignment.
        unsafe { _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>()) }
    }

    #[inline(always)]
    fn eq(v: __m128i, b: u8) -> __m128i {
        // SAFETY (here and below): SSE2 is part of every x86_64 target.
        unsafe { _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8)) }
    }

    #[inline(always)]
    fn or(a: __m128i, b: __m128i) -> __m128i {
        unsafe { _mm_or_si128(a, b) }
    }

    /// The lanes of `v` in `lo..=hi`: `v - lo < hi - lo + 1` unsigned, as a signed comparison of
    /// both sides moved by 0x80.
    #[inline(always)]
    fn range(v: __m128i, lo: u8, hi: u8) -> __m128i {
        unsafe {
            let moved = _mm_add_epi8(v, _mm_set1_epi8(0x80u8.wrapping_sub(lo) as i8));
            _mm_cmplt_epi8(moved, _mm_set1_epi8(((hi - lo + 1) ^ 0x80) as i8))
        }
    }

    /// The lanes of `v` whose class is in `set` (a constant where it is called).
    #[inline(always)]
    fn members(v: __m128i, set: u16) -> __m128i {
        let mut m = unsafe { _mm_setzero_si128() };
        if set & (LOWER | UPPER) == LOWER | UPPER {
            // Setting 0x20 turns capitals into small letters and nothing else into either.
            let folded = or(v, unsafe { _mm_set1_epi8(0x20) });
            m = or(m, range(folded, b'a', b'z'));
        } else if set & LOWER != 0 {
            m = or(m, range(v, b'a', b'z'));
        } else if set & UPPER != 0 {
            m = or(m, range(v, b'A', b'Z'));
        }
        if set & DIGIT != 0 && set & PLUS_SLASH_EQ != 0 {
            // `/` comes just before `0`.
            m = or(m, range(v, b'/', b'9'));
            m = or(m, or(eq(v, b'+'), eq(v, b'=')));
        } else if set & DIGIT != 0 {
            m = or(m, range(v, b'0', b'9'));
        } else if set & PLUS_SLASH_EQ != 0 {
            m = or(m, or(eq(v, b'+'), eq(v, b'/')));
            m = or(m, eq(v, b'='));
        }
        for (class, byte) in [
            (DOT, b'.'),
            (DASH, b'-'),
            (UNDERSCORE, b'_'),
            (COLON, b':'),
            (BRACKET, b'['),
            (BRACKET, b']'),
            (QUOTE, b'"'),
        ] {
            if set & class != 0 {
                m = or(m, eq(v, byte));
            }
        }
        m
    }

    #[inline(always)]
    fn bits(v: __m128i) -> u32 {
        unsafe { _mm_movemask_epi8(v) as u32 }
    }

    /// The token at `p` (`p <= line.len()`): where it ends, whether all its bytes are of the
    /// classes `allowed`, and which of the classes `track` it holds (both constants where it
    /// is called).
    #[inline(always)]
    pub(super) fn scan(line: In, p: usize, allowed: u16, track: u16) -> (usize, bool, u16) {
        let len = line.len();
        let mut at = p;
        let mut only = true;
        let mut seen = 0;
        while len - at >= 16 {
            let v = load(line, at);
            let n = (bits(eq(v, b' ')) | 1 << 16).trailing_zeros();
            look(v, 0, (1 << n) - 1, allowed, track, &mut only, &mut seen);
            if n < 16 {
                return (at + n as usize, only, seen);
            }
            at += 16;
        }
        // The rest of the line, under sixteen bytes: the line's last sixteen shifted down by
        // `shift` (or the rest padded with spaces, on a line shorter than that).
        let avail = len - at;
        let (v, shift) = if len >= 16 {
            (load(line, len - 16), 16 - avail as u32)
        } else {
            let mut padded = [b' '; 16];
            padded[..avail].copy_from_slice(&line[at..]);
            (load(&padded, 0), 0)
        };
        let n = ((bits(eq(v, b' ')) >> shift) | 1 << avail).trailing_zeros();
        look(v, shift, (1 << n) - 1, allowed, track, &mut only, &mut seen);
        (at + n as usize, only, seen)
    }

    /// Adds to `only` and `seen` what the lanes `token` of `v`, shifted down by `shift`, hold.
    #[inline(always)]
    fn look(
        v: __m128i,
        shift: u32,
        token: u32,
        allowed: u16,
        track: u16,
        only: &mut bool,
        seen: &mut u16,
    ) {
        let ok = if allowed & OTHER != 0 {
            !(bits(members(v, ALL & !allowed)) >> shift)
        } else {
            bits(members(v, allowed)) >> shift
        };
        *only &= ok & token == token;
        if track & LETTER != 0 && (bits(members(v, LOWER | UPPER)) >> shift) & token != 0 {
            *seen |= LOWER | UPPER;
        }
        for class in [LOWER, UPPER, DIGIT, DOT] {
            if track & class != 0 && (bits(members(v, class)) >> shift) & token != 0 {
                *seen |= class;
            }
        }
    }
}

/// `us-east-1`, `eu-west-2`, `us-gov-west-1`, `ap-southeast-5`, …
fn is_region(t: In) -> bool {
    let mut parts = t.split(|&b| b == b'-');
    let lower = |p: In| !p.is_empty() && p.iter().all(u8::is_ascii_lowercase);
    let Some(first) = parts.next() else {
        return false;
    };
    if first.len() < 2 || !lower(first) {
        return false;
    }
    let mut middle = 0;
    let mut last = None;
    for p in parts {
        if let Some(prev) = last.replace(p) {
            if !lower(prev) {
                return false;
            }
            middle += 1;
        }
    }
    middle >= 1 && last.is_some_and(|d: In| !d.is_empty() && d.iter().all(u8::is_ascii_digit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_shapes_take_real_values_and_refuse_other_fields() {
        let real: [(usize, &str); 16] = [
            (17, "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd"),
            (17, "qsEq9bDa2VyxyZ4cz0c7oBnF67VYTTij"),
            (
                18,
                "s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234=",
            ),
            (19, "SigV4"),
            (19, "SigV2"),
            (20, "ECDHE-RSA-AES128-GCM-SHA256"),
            (20, "TLS_AES_128_GCM_SHA256"),
            (21, "AuthHeader"),
            (21, "QueryString"),
            (22, "amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com"),
            (23, "TLSv1.2"),
            (23, "TLSV1.1"),
            (
                24,
                "arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP",
            ),
            (25, "Yes"),
            (26, "eu-west-1"),
            (26, "us-gov-west-1"),
        ];
        for (field, value) in real {
            assert!(fits(field, value.as_bytes()), "{field} {value}");
        }
        for field in 17..27 {
            assert!(fits(field, b"-"));
            assert!(!fits(field, b"\"x"), "no field holds a quote");
            assert!(!fits(field, b""), "no field is empty");
        }
        assert!(!fits(19, b"AuthHeader"));
        assert!(!fits(21, b"SigV4x-1"));
        assert!(!fits(23, b"ECDHE-RSA"));
        assert!(!fits(
            25,
            b"Yes79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
        ));
        assert!(!signs(17, b"3HL4kqtJ") && !signs(18, b"IeDW5") && !signs(20, b"-"));
        assert!(signs(19, b"SigV4") && signs(18, b"IeDW5I3wefFxU8iHOcAzi5qr"));
        for (field, value) in real.iter().filter(|(f, _)| *f > 18) {
            assert!(signs(*field, value.as_bytes()), "{field} {value}");
        }
        for (field, value) in [
            (20, "--"),
            (20, "abc-12"),
            (21, "Header"),
            (22, "localhost"),
            (26, "east-1"),
            (26, "us-east"),
        ] {
            assert!(!signs(field, value.as_bytes()), "{field} {value}");
        }
    }

    /// A line of random bytes from an alphabet of every class's members, spaces and bytes the
    /// lane arithmetic could confuse (0x80 and up, neighbours of each range).
    fn random_line(seed: &mut u64, len: usize) -> Vec<u8> {
        const ALPHABET: &[u8] = b"aAzZ09/+=.-_:[]\" @`{\x7f!,;|~";
        (0..len)
            .map(|_| {
                *seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let r = (*seed >> 33) as usize;
                match r % 8 {
                    0 => b' ',
                    1 => 0x80 + (r >> 3) as u8 % 0x80,
                    _ => ALPHABET[(r >> 3) % ALPHABET.len()],
                }
            })
            .collect()
    }

    #[test]
    fn read_field_agrees_with_token_at_and_shape_everywhere() {
        let mut seed = 7;
        let mut lines: Vec<Vec<u8>> = (0..4000).map(|i| random_line(&mut seed, i % 70)).collect();
        // Real values, alone and in a line, at every distance from the line's end.
        let real = "- s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= \
            SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader amzn-s3-demo-bucket1.s3.us-west-1.\
            amazonaws.com TLSv1.2 arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes \
            eu-west-1 [::1]:8080 null 3HL4kqtJlcpXroDTDmjVBH40Nrjfkd TLS_AES_128_GCM_SHA256 -";
        for cut in 0..real.len() {
            lines.push(real.as_bytes()[cut..].to_vec());
            lines.push(real.as_bytes()[..cut].to_vec());
        }
        let mut checked = 0;
        for line in &lines {
            for p in 0..=line.len() {
                for field in 16..28 {
                    let (end, next) = token_at(line, p);
                    let (fits, signed) = shape(field, &line[p..end]);
                    let want = Field {
                        end,
                        next,
                        fits,
                        signed,
                    };
                    assert_eq!(
                        read_field(field, line, p),
                        want,
                        "field {field} at {p} of {:?}",
                        String::from_utf8_lossy(line)
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 1_000_000, "{checked}");
    }
}
