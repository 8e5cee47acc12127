//! A strict JSON lexer that finds values without building them.
//!
//! CloudTrail is read by slicing: a record is an object whose members are located (key, and the
//! text its value occupies), and only the values a column needs are looked at again. Almost all
//! of the work is therefore skipping — strings above all — so this lexer does only that, over
//! bytes, with strings scanned sixteen bytes at a time.
//!
//! It accepts exactly the JSON that `serde_json` accepts (RFC 8259: no control characters in
//! strings, only the defined escapes, the number grammar, nesting at most [`MAX_DEPTH`] deep) so
//! that a reading which relies on it gives the same answer as the careful reading with
//! `serde_json`. It does not say where the JSON is wrong: a caller that meets [`Invalid`] starts
//! over the careful way, which does.

/// The text is not well-formed JSON (or nests deeper than [`MAX_DEPTH`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid;

pub type Result<T> = std::result::Result<T, Invalid>;

/// Deepest nesting read (`serde_json` stops at 128).
pub const MAX_DEPTH: u32 = 100;

/// An object member's key as written between the quotes, and whether it has escapes.
#[derive(Debug, Clone, Copy)]
pub struct Key<'a> {
    pub raw: &'a str,
    pub escaped: bool,
}

impl Key<'_> {
    /// Whether the key is `name` without regard to ASCII case.
    pub fn is(&self, name: &str) -> bool {
        if self.escaped {
            self.unescaped()
                .is_some_and(|k| k.eq_ignore_ascii_case(name))
        } else {
            self.raw.eq_ignore_ascii_case(name)
        }
    }

    /// The key with its escapes resolved (`None` for an escape that is not a character, such
    /// as a lone surrogate).
    pub fn unescaped(&self) -> Option<std::borrow::Cow<'_, str>> {
        if !self.escaped {
            return Some(self.raw.into());
        }
        let quoted = format!("\"{}\"", self.raw);
        serde_json::from_str::<String>(&quoted).ok().map(Into::into)
    }
}

pub struct Lexer<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(text: &'a str) -> Self {
        Lexer { text, pos: 0 }
    }

    #[inline]
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The byte offset the lexer is at in its text.
    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }

    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    #[inline]
    pub fn whitespace(&mut self) {
        let b = self.bytes();
        while let Some(&c) = b.get(self.pos) {
            if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                break;
            }
            self.pos += 1;
        }
    }

    #[inline]
    fn expect(&mut self, c: u8) -> Result<()> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Invalid)
        }
    }

    /// Only whitespace is left.
    pub fn end(&mut self) -> Result<()> {
        self.whitespace();
        if self.pos == self.text.len() {
            Ok(())
        } else {
            Err(Invalid)
        }
    }

    /// Skips one value (at the next byte, no whitespace before it) and returns its text.
    #[inline]
    pub fn value(&mut self, depth: u32) -> Result<&'a str> {
        let start = self.pos;
        self.skip(depth)?;
        Ok(&self.text[start..self.pos])
    }

    fn skip(&mut self, depth: u32) -> Result<()> {
        match self.peek().ok_or(Invalid)? {
            b'"' => self.string().map(|_| ()),
            b'{' => self.object(depth, |lexer, _| lexer.skip(depth + 1)),
            b'[' => self.array(depth, |lexer| lexer.skip(depth + 1)),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(Invalid),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<()> {
        if self.bytes()[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Invalid)
        }
    }

    fn digits(&mut self) -> usize {
        let b = self.bytes();
        let start = self.pos;
        while b.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Result<()> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(Invalid),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(Invalid);
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(Invalid);
            }
        }
        Ok(())
    }

    /// A string (at its opening quote); `true` if it has escapes.
    #[inline]
    pub fn string(&mut self) -> Result<bool> {
        self.expect(b'"')?;
        let b = self.bytes();
        let mut escaped = false;
        loop {
            self.pos = special(b, self.pos);
            match b.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(escaped);
                }
                Some(b'\\') => {
                    escaped = true;
                    self.pos += match b.get(self.pos + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => 2,
                        Some(b'u')
                            if b.get(self.pos + 2..self.pos + 6)
                                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
                        {
                            6
                        }
                        _ => return Err(Invalid),
                    };
                }
                // A control character, or the end of the text.
                _ => return Err(Invalid),
            }
        }
    }

    /// An object (at its `{`): `member` is called at each member's value with its key, and
    /// must read the value (with [`Self::value`] or otherwise).
    #[inline]
    pub fn object(
        &mut self,
        depth: u32,
        mut member: impl FnMut(&mut Self, Key<'a>) -> Result<()>,
    ) -> Result<()> {
        if depth >= MAX_DEPTH {
            return Err(Invalid);
        }
        self.expect(b'{')?;
        self.whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            let start = self.pos + 1;
            let escaped = self.string()?;
            let key = Key {
                raw: &self.text[start..self.pos - 1],
                escaped,
            };
            self.whitespace();
            self.expect(b':')?;
            self.whitespace();
            member(self, key)?;
            self.whitespace();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.whitespace();
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(Invalid),
            }
        }
    }

    /// An array (at its `[`): `element` is called at each element and must read it.
    #[inline]
    pub fn array(
        &mut self,
        depth: u32,
        mut element: impl FnMut(&mut Self) -> Result<()>,
    ) -> Result<()> {
        if depth >= MAX_DEPTH {
            return Err(Invalid);
        }
        self.expect(b'[')?;
        self.whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            element(self)?;
            self.whitespace();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.whitespace();
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(Invalid),
            }
        }
    }
}

#[inline]
fn is_special(c: u8) -> bool {
    c == b'"' || c == b'\\' || c < 0x20
}

/// The index of the first `"`, `\` or control character at or after `i` (`b.len()` if none).
#[inline]
fn special(b: &[u8], mut i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8,
            _mm_or_si128, _mm_set1_epi8,
        };
        // SAFETY: SSE2 is part of every x86_64 target, so its intrinsics are available; each
        // load reads the sixteen bytes from `i`, which the loop condition keeps inside `b`,
        // and `_mm_loadu_si128` needs no alignment.
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let backslash = _mm_set1_epi8(b'\\' as i8);
            let control = _mm_set1_epi8(0x1f);
            while i + 16 <= b.len() {
                let v = _mm_loadu_si128(b.as_ptr().add(i).cast::<__m128i>());
                let hits = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                    // max(v, 0x1f) == 0x1f exactly when v <= 0x1f
                    _mm_cmpeq_epi8(_mm_max_epu8(v, control), control),
                );
                let mask = _mm_movemask_epi8(hits) as u32;
                if mask != 0 {
                    return i + mask.trailing_zeros() as usize;
                }
                i += 16;
            }
        }
    }
    while i < b.len() && !is_special(b[i]) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skips(text: &str) -> bool {
        let mut l = Lexer::new(text);
        l.whitespace();
        l.value(0).is_ok() && l.end().is_ok()
    }

    #[test]
    fn accepts_what_serde_json_accepts() {
        let cases = [
            r#"{"a":1,"b":[true,false,null],"c":{"d":"e\"f\\g\/h\u00e9\n"}}"#,
            r#"  { "a" : [ 1 , -0.5e+10 , 0 , 12E3 ] , "" : "" }  "#,
            r#""a string longer than sixteen bytes with an escape \t in the middle and é""#,
            "[]",
            "{}",
            "-0",
            "[\"\\ud800\"]",
            "{\"a\":1,\"a\":2}",
            // invalid
            "{\"a\":1,}",
            "[1,]",
            "[01]",
            "[1.]",
            "[.5]",
            "[-]",
            "[1e]",
            "[tru]",
            "[nul]",
            "\"raw\ttab\"",
            "\"raw\nnewline inside a string that is longer than sixteen bytes\"",
            "\"bad \\x escape\"",
            "\"short \\u12 escape\"",
            "\"unterminated",
            "{\"a\" 1}",
            "{a:1}",
            "[1] [2]",
            "",
            "[",
            "{\"a\":{\"b\":",
        ];
        for case in cases {
            let theirs = serde_json::from_str::<serde::de::IgnoredAny>(case).is_ok();
            assert_eq!(skips(case), theirs, "{case:?}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(!skips(&deep));
        let fine = "[".repeat(50) + &"]".repeat(50);
        assert!(skips(&fine));
    }

    #[test]
    fn every_truncation_of_a_record_is_refused_cleanly() {
        let record = r#"{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s","sessionContext":{"attributes":{"mfaAuthenticated":"false"}}},"requestParameters":{"bucketName":"b","key":"caf\u00e9 \"x\".txt"},"resources":[{"ARN":"arn:aws:s3:::b"}],"readOnly":false,"bytes":1.5e3}"#;
        assert!(skips(record));
        for end in 0..record.len() {
            if record.is_char_boundary(end) {
                let cut = &record[..end];
                assert_eq!(
                    skips(cut),
                    serde_json::from_str::<serde::de::IgnoredAny>(cut).is_ok(),
                    "{cut:?}"
                );
            }
        }
    }

    #[test]
    fn members_and_keys() {
        let text = r#"{"plain":1, "esc\u0061ped" : "x" ,"EventName":[1,{"a":"}"}]}"#;
        let mut l = Lexer::new(text);
        let mut seen = Vec::new();
        l.object(0, |l, key| {
            let v = l.value(1)?;
            seen.push((key.unescaped().unwrap().into_owned(), v.to_string()));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            seen,
            vec![
                ("plain".to_string(), "1".to_string()),
                ("escaped".to_string(), "\"x\"".to_string()),
                ("EventName".to_string(), r#"[1,{"a":"}"}]"#.to_string()),
            ]
        );
        let key = Key {
            raw: "esc\\u0061ped",
            escaped: true,
        };
        assert!(key.is("ESCAPED"));
    }
}
