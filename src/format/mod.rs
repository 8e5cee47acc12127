//! Log formats: what a log object is, how its bytes become Arrow rows, and how lines that are
//! not records are kept (the `rejects` table).

pub mod access_log;
pub mod rejects;
pub mod time;

use std::fmt;

/// What an object holds, decided from its first bytes (after decompression), never its name:
/// S3 delivers access logs without an extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogKind {
    /// S3 server access log lines.
    AccessLog,
    /// JSON (CloudTrail files and their relatives).
    Json,
    /// Not text: NUL bytes near the start. Skipped and reported, never parsed line by line.
    Binary,
    /// Text, but none of its first lines looks like a log record (a README, a YAML file…).
    /// Skipped and reported as one reject.
    Unknown,
    /// Nothing but blank space.
    Empty,
}

impl LogKind {
    pub fn name(self) -> &'static str {
        match self {
            LogKind::AccessLog => "access_log",
            LogKind::Json => "json",
            LogKind::Binary => "binary",
            LogKind::Unknown => "unknown",
            LogKind::Empty => "empty",
        }
    }
}

impl fmt::Display for LogKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How many leading bytes [`sniff`] looks at.
pub const SNIFF_LEN: usize = 64 * 1024;

/// How many of the first non-blank lines may fail to look like access-log records before an
/// object is taken for something else. A damaged log with one good line among them is still a
/// log, and its bad lines become rejects one by one.
const SNIFF_LINES: usize = 32;

/// Decides what an object holds from its first (decompressed) bytes.
pub fn sniff(head: &[u8]) -> LogKind {
    let head = &head[..head.len().min(SNIFF_LEN)];
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if memchr::memchr(0, &text[..text.len().min(4096)]).is_some() {
        return LogKind::Binary;
    }
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return LogKind::Empty,
        Some(b'{') | Some(b'[') => return LogKind::Json,
        Some(_) => {}
    }
    let looks_like_log = text
        .split(|b| *b == b'\n')
        .filter(|l| !access_log::parse::is_blank(l))
        .take(SNIFF_LINES)
        .any(access_log::parse::looks_like_record);
    if looks_like_log {
        LogKind::AccessLog
    } else {
        LogKind::Unknown
    }
}

/// The longest raw line a reject keeps; longer lines are cut (and say so).
pub const MAX_REJECT_RAW: usize = 16 * 1024;

/// A line (or a whole object) that could not be read as records, with where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// 1-based line number in the decompressed object (0: the object as a whole).
    pub line: u64,
    /// Byte offset of the line's start in the decompressed object.
    pub byte_offset: u64,
    pub reason: String,
    /// The line as read (invalid UTF-8 replaced), at most [`MAX_REJECT_RAW`] bytes.
    pub raw: String,
}

impl Reject {
    pub fn new(line: u64, byte_offset: u64, reason: String, raw: &str) -> Self {
        let raw = if raw.len() > MAX_REJECT_RAW {
            let mut cut = MAX_REJECT_RAW;
            while !raw.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}… [{} bytes in all]", &raw[..cut], raw.len())
        } else {
            raw.to_string()
        };
        Reject {
            line,
            byte_offset,
            reason,
            raw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(
            sniff(b"79a5 bucket [06/Feb/2019:00:00:38 +0000] ..."),
            LogKind::AccessLog
        );
        assert_eq!(
            sniff(b"garbage\n79a5 bucket [06/Feb/2019:00:00:38 +0000] 1.2.3.4 ..."),
            LogKind::AccessLog
        );
        assert_eq!(sniff(b"# README\nThese are logs.\n"), LogKind::Unknown);
        assert_eq!(sniff(b"\n  {\"Records\": []}"), LogKind::Json);
        assert_eq!(sniff(b"\xEF\xBB\xBF[{}]"), LogKind::Json);
        assert_eq!(sniff(b"PAR1\x00\x00"), LogKind::Binary);
        assert_eq!(sniff(b" \n\r\n"), LogKind::Empty);
        assert_eq!(sniff(b""), LogKind::Empty);
    }

    #[test]
    fn long_raw_lines_are_cut_on_a_char_boundary() {
        let raw = "é".repeat(MAX_REJECT_RAW);
        let r = Reject::new(1, 0, "x".into(), &raw);
        assert!(r.raw.len() < MAX_REJECT_RAW + 40);
        assert!(r.raw.ends_with(&format!("[{} bytes in all]", raw.len())));
    }
}
