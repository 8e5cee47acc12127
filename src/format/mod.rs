//! Log formats: what a log object is, how its bytes become Arrow rows, and how lines that are
//! not records are kept (the `rejects` table).

pub mod access_log;
pub mod cloudtrail;
pub mod rejects;
pub mod time;

use std::fmt;

/// What an object holds, decided from its first bytes (after decompression), never its name:
/// S3 delivers access logs without an extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogKind {
    /// S3 server access log lines.
    AccessLog,
    /// JSON, not yet read (CloudTrail files and their relatives).
    Json,
    /// CloudTrail records (in any of the shapes they arrive in).
    CloudTrail,
    /// A CloudTrail digest file: recognised and skipped, not events.
    Digest,
    /// Not text: NUL bytes near the start. Skipped and reported, never parsed line by line.
    Binary,
    /// Nothing but blank space.
    Empty,
}

impl LogKind {
    pub fn name(self) -> &'static str {
        match self {
            LogKind::AccessLog => "access_log",
            LogKind::Json => "json",
            LogKind::CloudTrail => "cloudtrail",
            LogKind::Digest => "cloudtrail_digest",
            LogKind::Binary => "binary",
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
pub const SNIFF_LEN: usize = 4096;

/// Decides what an object holds from its first (decompressed) bytes. Any text that is not
/// JSON is read as an access log, line by line, so that every line of a damaged or foreign
/// text object is accounted for as a row or a reject.
pub fn sniff(head: &[u8]) -> LogKind {
    let head = &head[..head.len().min(SNIFF_LEN)];
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if memchr::memchr(0, text).is_some() {
        return LogKind::Binary;
    }
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        None => LogKind::Empty,
        Some(b'{') | Some(b'[') => LogKind::Json,
        Some(_) if is_cloudtrail_fragment(text) => LogKind::Json,
        Some(_) => LogKind::AccessLog,
    }
}

/// CloudTrail text that starts inside a record (a copy out of a terminal, a download cut at the
/// front): record keys, and a first line that is not an access-log record (no `[dd/MMM/yyyy`).
fn is_cloudtrail_fragment(text: &[u8]) -> bool {
    use memchr::memmem::find;
    let first_line = &text[..memchr::memchr(b'\n', text).unwrap_or(text.len())];
    // The cheap test first: most objects read here are access logs.
    !first_line
        .windows(4)
        .any(|w| w[0] == b'[' && w[3] == b'/' && w[1].is_ascii_digit())
        && (find(text, b"\"eventVersion\"").is_some() || find(text, b"\"eventSource\"").is_some())
        && find(text, b"\"eventTime\"").is_some()
}

/// Objects that are never logs, by name: documentation (`*.md`) and hidden or marker files
/// (names starting with `.` or `_`, such as `_SUCCESS`). They are not read at all.
pub fn is_ignored(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    file.starts_with('.') || file.starts_with('_') || file.to_ascii_lowercase().ends_with(".md")
}

/// Whether an object's name is a log's: AWS's access-log key
/// (`YYYY-mm-DD-HH-MM-SS-` and a unique string, flat or date-partitioned), a CloudTrail file or
/// digest (`_CloudTrail_`, `_CloudTrail-Digest_`), or a log-like extension (`.log`, `.json`,
/// `.jsonl`, `.ndjson`, compressed or not: `x.log.gz`, not a man page's `x.1.gz`). A location none of whose objects is named
/// like a log and none of which held a record is not a log location (`--logs /etc`).
pub fn named_like_a_log(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    let access = file.as_bytes();
    let aws_access = access.len() >= 20
        && access[..19].iter().enumerate().all(|(i, b)| match i {
            4 | 7 | 10 | 13 | 16 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
        && access[19] == b'-';
    if aws_access || file.contains("_CloudTrail_") || file.contains("_CloudTrail-Digest_") {
        return true;
    }
    let lower = file.to_ascii_lowercase();
    let bare = ["gz", "bz2", "zst", "zstd"]
        .iter()
        .find_map(|c| lower.strip_suffix(&format!(".{c}")))
        .unwrap_or(&lower);
    ["log", "json", "jsonl", "ndjson"]
        .iter()
        .any(|e| bare.ends_with(&format!(".{e}")))
}

/// Whether a line that was not read as a record is still shaped like a log's: it holds an
/// access-log time (`[06/Feb/2019:00:00:38`) or CloudTrail's record keys. A damaged log is
/// still a log (its rejects are the news), whatever its name.
pub fn shaped_like_a_log(line: &str) -> bool {
    let b = line.as_bytes();
    let access_time = b.windows(13).any(|w| {
        w[0] == b'['
            && w[1].is_ascii_digit()
            && w[2].is_ascii_digit()
            && w[3] == b'/'
            && w[4..7].iter().all(u8::is_ascii_alphabetic)
            && w[7] == b'/'
            && w[8..12].iter().all(u8::is_ascii_digit)
            && w[12] == b':'
    });
    access_time || line.contains("\"eventVersion\"") || line.contains("\"eventTime\"")
}

/// The longest raw line a reject keeps; longer lines are cut (and say so).
pub const MAX_REJECT_RAW: usize = 16 * 1024;

/// The longest line read as a record (far beyond any header S3 accepts): a longer one is a
/// reject with its place and length, so one newline-free object cannot take all memory.
pub const MAX_LINE: usize = 64 << 20;

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
    /// A line longer than [`MAX_LINE`]: its place, its length, and its first bytes `head`.
    pub fn too_long(line: u64, byte_offset: u64, len: u64, head: &[u8]) -> Self {
        let head = &head[..head.len().min(MAX_REJECT_RAW)];
        Reject {
            line,
            byte_offset,
            reason: format!(
                "line of {len} bytes is longer than {MAX_LINE} bytes, the longest read as a record"
            ),
            raw: format!("{}… [{len} bytes in all]", String::from_utf8_lossy(head)),
        }
    }

    /// A reject whose text is `raw` bytes (invalid UTF-8 replaced), of which only the first
    /// [`MAX_REJECT_RAW`] are converted and kept.
    pub fn from_bytes(line: u64, byte_offset: u64, reason: String, raw: &[u8]) -> Self {
        if raw.len() <= MAX_REJECT_RAW {
            return Self::new(line, byte_offset, reason, &String::from_utf8_lossy(raw));
        }
        let head = String::from_utf8_lossy(&raw[..MAX_REJECT_RAW]);
        Reject {
            line,
            byte_offset,
            reason,
            raw: format!("{head}… [{} bytes in all]", raw.len()),
        }
    }

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
        assert_eq!(sniff(b"\n  {\"Records\": []}"), LogKind::Json);
        assert_eq!(sniff(b"\xEF\xBB\xBF[{}]"), LogKind::Json);
        assert_eq!(sniff(b"PAR1\x00\x00"), LogKind::Binary);
        assert_eq!(sniff(b" \n\r\n"), LogKind::Empty);
        // CloudTrail that starts inside a record.
        assert_eq!(
            sniff(b"ntName\":\"X\"},{\"eventVersion\":\"1.08\",\"eventTime\":\"2026-01-01T00:00:00Z\"}]}"),
            LogKind::Json
        );
        assert_eq!(
            sniff(b"79a5 b [06/Feb/2019:00:00:38 +0000] 1.2.3.4 - X REST.GET.OBJECT k \"GET / HTTP/1.1\" 200 - 1 1 1 1 \"-\" \"{\\\"eventVersion\\\":1,\\\"eventTime\\\":2}\""),
            LogKind::AccessLog
        );
        assert_eq!(sniff(b""), LogKind::Empty);
    }

    #[test]
    fn ignored_names() {
        assert!(named_like_a_log("/l/2026-11-20-10-15-32-7A1B2C3D4E5F6A7B"));
        assert!(named_like_a_log(
            "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/111122223333_CloudTrail_us-east-1_20261120T1115Z_x.json.gz"
        ));
        assert!(named_like_a_log("/tmp/x/access.log") && named_like_a_log("trail.JSON"));
        assert!(named_like_a_log("/x/a.log.gz") && named_like_a_log("/x/t.jsonl.zst"));
        assert!(!named_like_a_log("/etc/alternatives/view.ru.1.gz"));
        for not in [
            "/etc/passwd",
            "/etc/hosts",
            "/etc/ssh/sshd_config",
            "/x/2026-11-20",
            "/x/a.conf",
        ] {
            assert!(!named_like_a_log(not), "{not}");
        }
        assert!(shaped_like_a_log(
            "79a5 bucket [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - X REST.GET.VERSIONING - \"GET /"
        ));
        assert!(shaped_like_a_log("{\"eventVersion\":\"1.08\""));
        assert!(!shaped_like_a_log("root:x:0:0:root:/root:/bin/bash"));
        assert!(is_ignored("/logs/README.md"));
        assert!(is_ignored("s3://b/p/_SUCCESS"));
        assert!(is_ignored("/logs/.DS_Store"));
        assert!(!is_ignored("/logs/2026-11-20-10-15-32-7A1B2C3D4E5F6A7B"));
        assert!(!is_ignored("/logs/_dir/object.gz") && !is_ignored("/l.ogs/x"));
    }

    #[test]
    fn long_raw_lines_are_cut_on_a_char_boundary() {
        let raw = "é".repeat(MAX_REJECT_RAW);
        let r = Reject::new(1, 0, "x".into(), &raw);
        assert!(r.raw.len() < MAX_REJECT_RAW + 40);
        assert!(r.raw.ends_with(&format!("[{} bytes in all]", raw.len())));
    }
}
