//! Making attacker-controlled text inert in each output format: one function per kind of sink,
//! used by every format that writes to it.
//!
//! User agents, keys, referers and request URIs are written by whoever sends the request.
//! Each sink has its own way for such text to turn into something active or misleading:
//! terminal escape sequences, spreadsheet formulas in CSV, HTML, links, images and mentions in
//! Markdown and chat, and, everywhere text is read by a person, invisible characters that
//! reorder or hide what is shown (`…\u{202E}exe.gnp` reads `png.exe`). Everything a command or
//! a report shows from the logs goes through one of these functions; byte streams (query
//! results on a terminal, JSON) go through [`TerminalSafe`] and [`JsonSafe`].

use std::io::Write;

/// Characters that are not shown as themselves and change how the text around them is shown
/// or read: controls (C0, DEL, C1), bidirectional formatting, zero-width and other invisible
/// formatting characters, line and paragraph separators, and Unicode tags.
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}'
                | '\u{034f}'
                | '\u{061c}'
                | '\u{115f}'
                | '\u{1160}'
                | '\u{17b4}'
                | '\u{17b5}'
                | '\u{180b}'..='\u{180f}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{3164}'
                | '\u{fe00}'..='\u{fe0f}'
                | '\u{feff}'
                | '\u{ffa0}'
                | '\u{fff0}'..='\u{fffb}'
                | '\u{e0000}'..='\u{e0fff}'
        )
}

/// `c` as visible text: `\u{202e}`.
fn shown(c: char, out: &mut String) {
    out.push_str(&c.escape_unicode().to_string());
}

/// For a terminal: control and invisible characters (ANSI escapes, carriage returns,
/// bidirectional overrides, …) are shown as `\u{…}` instead of acting.
pub fn terminal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_invisible(c) {
            shown(c, &mut out);
        } else {
            out.push(c);
        }
    }
    out
}

/// A CSV cell's text made inert: a leading `=`, `+`, `-`, `@`, tab or carriage return (which
/// spreadsheets execute as a formula) is neutralised with a `'`, and control and invisible
/// characters are shown as `\u{…}`. Quoting is the writer's.
pub fn csv_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    if s.starts_with([
        '=', '+', '-', '@', '\t', '\r', '\u{ff1d}', '\u{ff0b}', '\u{ff0d}', '\u{ff20}',
    ]) {
        out.push('\'');
    }
    for c in s.chars() {
        if is_invisible(c) {
            shown(c, &mut out);
        } else {
            out.push(c);
        }
    }
    out
}

/// A CSV field: [`csv_cell`], quoted when needed.
pub fn csv(s: &str) -> String {
    let s = csv_cell(s);
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// For HTML text and attribute values: markup escaped, invisible characters shown as
/// `\u{…}` (an entity would still act).
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push('\n'),
            c if is_invisible(c) => shown(c, &mut out),
            c => out.push(c),
        }
    }
    out
}

/// For Markdown text (and table cells): HTML is escaped, Markdown syntax characters are
/// backslash-escaped, line breaks become spaces, links that renderers make of bare text
/// (`https://…`, `www.…`, `user@host`) and mentions (`@channel`) are defanged
/// (`hxxps://`, `www[.]`, `[@]`), invisible characters are shown: the text can neither
/// render as markup nor form a link, image, mention or table cell boundary.
pub fn markdown(s: &str) -> String {
    angle_brackets_and_backslashes(
        &defang(s),
        &[
            '\\', '`', '*', '_', '{', '}', '[', ']', '(', ')', '#', '+', '!', '|', '~', '"', '$',
        ],
        &['[', ']'],
    )
}

/// For Slack's message text (`mrkdwn`, which webhooks of other chat tools also read): `&`, `<`
/// and `>` as Slack's escapes, so no `<!channel>` mention or `<url|link>` can form; links and
/// mentions in bare text defanged as in [`markdown`]; the formatting characters backslashed as
/// Markdown has them; line breaks as spaces; invisible characters shown, not sent.
pub fn slack(s: &str) -> String {
    angle_brackets_and_backslashes(&defang(s), &['*', '_', '~', '`'], &[])
}

/// Text for a Markdown code span (a detection id, say): a fence longer than any run of
/// backticks in it, `|` escaped for table cells, line breaks as spaces, invisible characters
/// shown. Nothing inside a code span is a link.
pub fn markdown_code(s: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    let mut body = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' => body.push(' '),
            '|' => body.push_str("\\|"),
            c if is_invisible(c) => shown(c, &mut body),
            c => body.push(c),
        }
    }
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if body.starts_with('`') || body.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

/// Bare-text links and mentions broken so that no renderer makes them live: `http` before
/// `://` becomes `hxxp`, `www.` becomes `www[.]`, an `@` before a letter or digit becomes
/// `[@]`, and any other `://` becomes `[:]//`.
fn defang(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    let bytes = s.as_bytes();
    while i < s.len() {
        let rest = &lower[i..];
        if (rest.starts_with("http://") || rest.starts_with("https://"))
            || (rest.starts_with("ftp://") || rest.starts_with("ftps://"))
        {
            // `http` → `hxxp`, keeping the original case of the letters kept.
            let scheme_len = rest.find("://").unwrap_or(0);
            let scheme = &s[i..i + scheme_len];
            out.push_str(&scheme.replacen(['t', 'T'], "x", 2));
            out.push_str("://");
            i += scheme_len + 3;
            continue;
        }
        if rest.starts_with("www.") {
            out.push_str(&s[i..i + 3]);
            out.push_str("[.]");
            i += 4;
            continue;
        }
        if bytes[i] == b'@' && bytes.get(i + 1).is_some_and(|b| b.is_ascii_alphanumeric()) {
            out.push_str("[@]");
            i += 1;
            continue;
        }
        if bytes[i] == b':' && bytes.get(i + 1) == Some(&b'/') && bytes.get(i + 2) == Some(&b'/') {
            // Any other scheme (`javascript://`, `data://`): `:` broken too.
            out.push_str("[:]//");
            i += 3;
            continue;
        }
        let c = s[i..].chars().next().unwrap_or_default();
        out.push(c);
        i += c.len_utf8().max(1);
    }
    out
}

/// `&`, `<`, `>` as HTML entities, the characters `marked` backslashed (but not those of the
/// defanging marks in `kept`, which must stay brackets), line breaks as spaces, invisible
/// characters shown as `\u{..}`: what [`markdown`] and [`slack`] share.
fn angle_brackets_and_backslashes(s: &str, marked: &[char], kept: &[char]) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        // The defanging marks `[.]`, `[@]`, `[:]` stay readable brackets, escaped as text.
        if !kept.is_empty()
            && c == '['
            && (s[at..].starts_with("[.]")
                || s[at..].starts_with("[@]")
                || s[at..].starts_with("[:]"))
        {
            out.push_str("\\[");
            let (_, inner) = chars.next().unwrap_or((at, '.'));
            out.push(inner);
            chars.next();
            out.push_str("\\]");
            continue;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            c if marked.contains(&c) => {
                out.push('\\');
                out.push(c);
            }
            c if is_invisible(c) => shown(c, &mut out),
            c => out.push(c),
        }
    }
    out
}

/// A writer for a terminal: control and invisible characters (C0 but line breaks and tabs,
/// DEL, C1, bidirectional and zero-width formatting) are shown as `\x1b`/`\u{…}` escapes
/// instead of acting, whatever format the text is in. Bytes that are not UTF-8 are shown as
/// `\x…`.
pub struct TerminalSafe<W: Write> {
    inner: W,
    /// The start of a character cut by the end of the last write.
    pending: Vec<u8>,
}

impl<W: Write> TerminalSafe<W> {
    pub fn new(inner: W) -> Self {
        TerminalSafe {
            inner,
            pending: Vec::new(),
        }
    }
}

impl<W: Write> Write for TerminalSafe<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // Plain printable ASCII (most of any output) goes through as it is.
        if self.pending.is_empty()
            && buf
                .iter()
                .all(|&b| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\t')
        {
            self.inner.write_all(buf)?;
            return Ok(buf.len());
        }
        let mut bytes = std::mem::take(&mut self.pending);
        bytes.extend_from_slice(buf);
        let mut out = Vec::with_capacity(bytes.len() + 16);
        let cut = pieces(
            &bytes,
            |c| is_invisible(c) && c != '\n' && c != '\t',
            |piece| match piece {
                Piece::Text(t) => out.extend_from_slice(t),
                Piece::Char(c) if (c as u32) < 0x80 => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                Piece::Char(c) => {
                    let _ = write!(out, "{}", c.escape_unicode());
                }
                Piece::Byte(b) => {
                    let _ = write!(out, "\\x{b:02x}");
                }
            },
        );
        self.pending = bytes[cut..].to_vec();
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        for b in std::mem::take(&mut self.pending) {
            write!(self.inner, "\\x{b:02x}")?;
        }
        self.inner.flush()
    }
}

/// A writer for JSON text: characters that JSON writers leave raw but that act or hide when
/// the text is shown (C1 controls, bidirectional and zero-width formatting) written as `\uXXXX`
/// escapes. They can only occur inside JSON strings, where the escape means the same
/// character, so the JSON is unchanged for every reader.
pub struct JsonSafe<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> JsonSafe<W> {
    pub fn new(inner: W) -> Self {
        JsonSafe {
            inner,
            pending: Vec::new(),
        }
    }

    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for JsonSafe<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // ASCII is never escaped here (JSON writers escape its controls themselves).
        if self.pending.is_empty() && buf.is_ascii() {
            self.inner.write_all(buf)?;
            return Ok(buf.len());
        }
        let mut bytes = std::mem::take(&mut self.pending);
        bytes.extend_from_slice(buf);
        let mut out = Vec::with_capacity(bytes.len() + 16);
        let cut = pieces(
            &bytes,
            |c| (c as u32) >= 0x80 && is_invisible(c),
            |piece| match piece {
                Piece::Text(t) => out.extend_from_slice(t),
                Piece::Char(c) => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        let _ = write!(out, "\\u{unit:04x}");
                    }
                }
                Piece::Byte(b) => out.push(b),
            },
        );
        self.pending = bytes[cut..].to_vec();
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let pending = std::mem::take(&mut self.pending);
        self.inner.write_all(&pending)?;
        self.inner.flush()
    }
}

/// `s` with the characters [`JsonSafe`] escapes escaped (for JSON built as a string).
pub fn json(s: &str) -> String {
    let mut w = JsonSafe::new(Vec::with_capacity(s.len()));
    let _ = w.write_all(s.as_bytes());
    let _ = w.flush();
    String::from_utf8(w.into_inner())
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

enum Piece<'a> {
    /// Text that passes as it is.
    Text(&'a [u8]),
    /// A character that `special` picked.
    Char(char),
    /// A byte that is not UTF-8.
    Byte(u8),
}

/// Calls `f` on the runs of `bytes` that pass as they are, on each character `special` picks,
/// and on each byte that is not UTF-8, in order; returns where a character cut short by the
/// end of `bytes` starts (`bytes.len()` if none).
fn pieces(bytes: &[u8], special: impl Fn(char) -> bool, mut f: impl FnMut(Piece<'_>)) -> usize {
    let mut at = 0;
    while at < bytes.len() {
        let (good, bad) = match std::str::from_utf8(&bytes[at..]) {
            Ok(_) => (bytes.len() - at, None),
            Err(e) => (e.valid_up_to(), Some(e.error_len())),
        };
        // `from_utf8` said these bytes are UTF-8.
        let text = std::str::from_utf8(&bytes[at..at + good]).unwrap_or_default();
        let mut run = 0;
        for (i, c) in text.char_indices() {
            if special(c) {
                if run < i {
                    f(Piece::Text(&text.as_bytes()[run..i]));
                }
                f(Piece::Char(c));
                run = i + c.len_utf8();
            }
        }
        if run < text.len() {
            f(Piece::Text(&text.as_bytes()[run..]));
        }
        at += good;
        match bad {
            None => return bytes.len(),
            Some(None) => return at,
            Some(Some(n)) => {
                for &b in &bytes[at..at + n] {
                    f(Piece::Byte(b));
                }
                at += n;
            }
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_text_is_inert() {
        assert_eq!(
            slack("<!channel> *bold* <https://evil|click> a&b\nline\u{1b} @here"),
            "&lt;!channel&gt; \\*bold\\* &lt;hxxps://evil|click&gt; a&amp;b line\\u{1b} [@]here"
        );
    }

    #[test]
    fn inert() {
        assert_eq!(terminal("a\u{1b}[31mred\r"), "a\\u{1b}[31mred\\u{d}");
        assert_eq!(
            csv("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(csv("-2+3"), "'-2+3");
        assert_eq!(csv("plain"), "plain");
        assert_eq!(
            html("<script>alert('x')</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        );
        assert_eq!(
            markdown("[click](javascript:alert(1)) | <b>"),
            "\\[click\\]\\(javascript:alert\\(1\\)\\) \\| &lt;b&gt;"
        );
        assert_eq!(markdown("line\nbreak"), "line break");
    }

    #[test]
    fn links_and_mentions_in_bare_text_are_defanged() {
        assert_eq!(
            markdown("see https://evil.example/x and www.evil.example @everyone a@b.c"),
            "see hxxps://evil.example/x and www\\[.\\]evil.example \\[@\\]everyone a\\[@\\]b.c"
        );
        assert_eq!(markdown("javascript://x"), "javascript\\[:\\]//x");
        assert_eq!(markdown("HTTP://X"), "HxxP://X");
    }

    #[test]
    fn bidirectional_and_zero_width_characters_are_shown() {
        let name = "invoice\u{202e}fdp.exe\u{200b}";
        for out in [
            terminal(name),
            html(name),
            markdown(name),
            slack(name),
            csv(name),
        ] {
            assert!(
                out.contains("\\u{202e}") && out.contains("\\u{200b}"),
                "{out}"
            );
            assert!(!out.chars().any(is_invisible), "{out:?}");
        }
    }

    #[test]
    fn code_spans_cannot_be_broken() {
        assert_eq!(markdown_code("plain-id"), "`plain-id`");
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(markdown_code("``x|y"), "``` ``x\\|y ```");
    }

    #[test]
    fn a_terminal_sees_no_control_bytes() {
        let mut out = Vec::new();
        {
            let mut w = TerminalSafe::new(&mut out);
            w.write_all("a\x1b[31mred\x07\r\nb\u{9b}2J é\t\u{202e}".as_bytes())
                .unwrap();
            // A C1 control split across writes, a bidi override too, and a bad byte.
            w.write_all(&[b'x', 0xc2]).unwrap();
            w.write_all(&[0x9b, b'y', 0xe2, 0x80]).unwrap();
            w.write_all(&[0xae, 0xff]).unwrap();
            w.flush().unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a\\x1b[31mred\\x07\\x0d\nb\\u{9b}2J é\t\\u{202e}x\\u{9b}y\\u{202e}\\xff"
        );
    }

    #[test]
    fn json_text_keeps_its_meaning_without_raw_invisible_characters() {
        let value = serde_json::json!({"key": "a\u{9b}b\u{202e}c\u{e0041}é"});
        let text = json(&value.to_string());
        assert!(
            !text.chars().any(|c| c as u32 >= 0x80 && is_invisible(c)),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }
}
