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

/// The error for a location that holds no logs (`--logs /etc`): objects were read, none is
/// named like a log, none held a single record, and their lines were rejected. An object
/// named like a log but holding garbage is never this (its rejects are the news), nor is a
/// location where any record was read.
pub fn not_a_log_location(summary: &Summary) -> Option<String> {
    let objects: u64 = summary.objects.values().sum();
    (objects > 0 && summary.rows == 0 && summary.rejects > 0 && summary.named_like_logs == 0).then(
        || {
            format!(
                "s3trawl: this is not a log location: {objects} {} read ({}{}), none named \
                 or shaped like an S3 access log or CloudTrail file, none holding a record ({} {} \
                 rejected); point --logs at the log bucket or folder",
                plural(objects, "object", "objects"),
                summary
                    .first_objects
                    .iter()
                    .map(|o| terminal(o))
                    .collect::<Vec<_>>()
                    .join(", "),
                if objects > summary.first_objects.len() as u64 {
                    ", …"
                } else {
                    ""
                },
                summary.rejects,
                plural(summary.rejects, "line", "lines"),
            )
        },
    )
}

/// The exit code a run's reading gives: 2 when an object could not be read (after all the
/// others were), 1 when lines were rejected and `fail_on_rejects` asks for it, else 0.
pub fn exit_code(summary: &Summary, fail_on_rejects: bool) -> std::process::ExitCode {
    if !summary.unreadable.is_empty() || not_a_log_location(summary).is_some() {
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
    if let Some(line) = not_a_log_location(summary) {
        eprintln!("{line}");
    }
}

pub fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}
