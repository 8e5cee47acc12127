//! Making attacker-controlled text inert in each output format.
//!
//! User agents, keys, referers and request URIs are written by whoever sends the request.
//! Each format has its own way for such text to turn into something active: terminal escape
//! sequences, spreadsheet formulas in CSV, HTML and links in Markdown and HTML. Everything a
//! report shows from the logs goes through one of these functions.

/// For a terminal: control characters (ANSI escapes, carriage returns, …) are shown as
/// `\u{…}` instead of acting.
pub fn terminal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// A CSV field: quoted when needed, and a leading `=`, `+`, `-`, `@`, tab or carriage return
/// (which spreadsheets execute as a formula) is neutralised with a `'`.
pub fn csv(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// For HTML text and attribute values.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => out.push_str(&format!("&#x{:x};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// For Markdown text (and table cells): HTML is escaped, Markdown syntax characters are
/// backslash-escaped, line breaks become spaces, so the text can neither render as markup
/// nor form a link, image or table cell boundary.
pub fn markdown(s: &str) -> String {
    angle_brackets_and_backslashes(
        s,
        &[
            '\\', '`', '*', '_', '{', '}', '[', ']', '(', ')', '#', '+', '!', '|', '~', '"', '$',
        ],
    )
}

/// For Slack's message text (`mrkdwn`, which webhooks of other chat tools also read): `&`, `<`
/// and `>` as Slack's escapes, so no `<!channel>` mention or `<url|link>` can form; the
/// formatting characters backslashed as Markdown has them; line breaks as spaces; control
/// characters shown, not sent.
pub fn slack(s: &str) -> String {
    angle_brackets_and_backslashes(s, &['*', '_', '~', '`'])
}

/// `&`, `<`, `>` as HTML entities, the characters `marked` backslashed, line breaks as spaces,
/// other control characters shown as `\u{..}`: what [`markdown`] and [`slack`] share.
fn angle_brackets_and_backslashes(s: &str, marked: &[char]) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            c if marked.contains(&c) => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_text_is_inert() {
        assert_eq!(
            slack("<!channel> *bold* <https://evil|click> a&b\nline\u{1b}"),
            "&lt;!channel&gt; \\*bold\\* &lt;https://evil|click&gt; a&amp;b line\\u{1b}"
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
}
