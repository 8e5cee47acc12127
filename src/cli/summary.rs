//! The stderr summary of what a run could not read: how many lines, in how many objects, and
//! the first few with their location, so one look tells whether the logs were read whole.

use crate::format::LogKind;
use crate::report::escape::terminal;
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
            // Log text, and names and reasons that quote it, reach stderr escaped.
            let raw: String = terminal(&r.raw.chars().take(120).collect::<String>());
            let ellipsis = if r.raw.chars().count() > 120 {
                "…"
            } else {
                ""
            };
            let object = terminal(object);
            let place = if r.line == 0 {
                object
            } else {
                format!("{object}:{} (byte {})", r.line, r.byte_offset)
            };
            lines.push(format!("  {place}: {}", terminal(&r.reason)));
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
    if !summary.unreadable.is_empty() {
        let n = summary.unreadable.len() as u64;
        lines.push(format!(
            "s3trawl: {n} {} could not be read (the others were; exit code 2):",
            plural(n, "object", "objects")
        ));
        for (object, reason) in &summary.unreadable {
            lines.push(format!("  {}: {}", terminal(object), terminal(reason)));
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

/// The exit code a run's reading gives: 2 when an object could not be read (after all the
/// others were), 1 when lines were rejected and `fail_on_rejects` asks for it, else 0.
pub fn exit_code(summary: &Summary, fail_on_rejects: bool) -> std::process::ExitCode {
    if !summary.unreadable.is_empty() {
        std::process::ExitCode::from(2)
    } else if fail_on_rejects && summary.rejects > 0 {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    }
}

pub fn print(summary: &Summary) {
    for line in rejects_summary(summary) {
        eprintln!("{line}");
    }
}

pub fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}
