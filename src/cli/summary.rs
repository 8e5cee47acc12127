//! The stderr summary of what a run could not read: how many lines, in how many objects, and
//! the first few with their location, so one look tells whether the logs were read whole.

use crate::format::LogKind;
use crate::scan::Summary;

/// Lines for stderr; empty when everything was read.
pub fn rejects_summary(summary: &Summary) -> Vec<String> {
    let mut lines = Vec::new();
    if summary.rejects > 0 {
        lines.push(format!(
            "s3trawl: {} {} in {} {}: lines (or whole objects) that are not log records; all are in the `rejects` table:",
            summary.rejects,
            plural(summary.rejects, "reject", "rejects"),
            summary.rejected_objects,
            plural(summary.rejected_objects, "object", "objects"),
        ));
        for (object, r) in &summary.examples {
            let raw: String = r.raw.chars().take(120).collect();
            let ellipsis = if r.raw.chars().count() > 120 {
                "…"
            } else {
                ""
            };
            let place = if r.line == 0 {
                object.clone()
            } else {
                format!("{object}:{} (byte {})", r.line, r.byte_offset)
            };
            lines.push(format!("  {place}: {}", r.reason));
            if !raw.is_empty() {
                lines.push(format!("    {raw}{ellipsis}"));
            }
        }
        if summary.rejects > summary.examples.len() as u64 {
            lines.push(format!(
                "  … and {} more",
                summary.rejects - summary.examples.len() as u64
            ));
        }
    }
    let digests = summary.objects.get(&LogKind::Digest).copied().unwrap_or(0);
    if digests > 0 {
        lines.push(format!(
            "s3trawl: {digests} CloudTrail digest {} skipped (they list log files; they hold no events)",
            plural(digests, "file", "files")
        ));
    }
    lines
}

pub fn print(summary: &Summary) {
    for line in rejects_summary(summary) {
        eprintln!("{line}");
    }
}

pub fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}
