//! The scheduled anomaly report: what `s3trawl report` writes as JSON, Markdown and HTML.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::escape;
use super::state::Novelty;
use super::summary::{Activity, Top};
use crate::detect::{Detection, Finding, Severity};

/// What a detection means and what to do, for the findings' explanations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionInfo {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub family: String,
    pub description: String,
    pub action: String,
    pub references: Vec<String>,
    pub mitre: Vec<String>,
}

impl From<&Detection> for DetectionInfo {
    fn from(d: &Detection) -> Self {
        DetectionInfo {
            id: d.id.clone(),
            title: d.title.clone(),
            severity: d.severity,
            family: d.family.clone(),
            description: d.description.clone(),
            action: d.action.clone(),
            references: d.references.clone(),
            mitre: d.mitre.clone(),
        }
    }
}

/// A finding and how it relates to earlier reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportedFinding {
    #[serde(flatten)]
    pub finding: Finding,
    /// `new`, `escalated` or `known`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub previous_severity: Option<Severity>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_reported: Option<String>,
}

/// Findings a report lists in full per detection; the rest are summed up (report.json keeps
/// every one).
pub const LISTED_PER_DETECTION: usize = 25;

/// What a report leaves out of one detection's list: how many, and the largest entities.
pub struct Omitted<'a> {
    pub detection: &'a str,
    pub count: usize,
    /// The entities of the findings left out with the most events, and those counts.
    pub top: Vec<(&'a str, i64)>,
}

/// `findings` with at most `n` of each detection (the most severe and largest first, in their
/// order otherwise), and what was left out of each.
pub fn listed<'a>(
    findings: &[&'a ReportedFinding],
    n: usize,
) -> (Vec<&'a ReportedFinding>, Vec<Omitted<'a>>) {
    let mut kept: Vec<&'a ReportedFinding> = Vec::new();
    let mut omitted: Vec<Omitted<'a>> = Vec::new();
    let mut detections: Vec<&'a str> = Vec::new();
    for f in findings {
        if !detections.contains(&f.finding.detection.as_str()) {
            detections.push(&f.finding.detection);
        }
    }
    for detection in detections {
        let mut of: Vec<&'a ReportedFinding> = findings
            .iter()
            .copied()
            .filter(|f| f.finding.detection == detection)
            .collect();
        if of.len() <= n {
            kept.extend(of);
            continue;
        }
        of.sort_by(|a, b| {
            b.finding
                .severity
                .cmp(&a.finding.severity)
                .then(b.finding.count.cmp(&a.finding.count))
                .then_with(|| a.finding.entity.cmp(&b.finding.entity))
        });
        let rest = of.split_off(n);
        kept.extend(of);
        omitted.push(Omitted {
            detection,
            count: rest.len(),
            top: rest
                .iter()
                .take(5)
                .map(|f| (f.finding.entity.as_str(), f.finding.count))
                .collect(),
        });
    }
    // Back in the report's order.
    kept.sort_by_key(|k| findings.iter().position(|f| std::ptr::eq(*f, *k)));
    (kept, omitted)
}

impl ReportedFinding {
    pub fn new(finding: Finding, novelty: Novelty) -> Self {
        let (status, previous_severity, first_reported) = match novelty {
            Novelty::New => ("new", None, None),
            Novelty::Escalated { previous_severity } => {
                ("escalated", Some(previous_severity), None)
            }
            Novelty::Known { first_reported } => ("known", None, Some(first_reported)),
        };
        ReportedFinding {
            finding,
            status: status.into(),
            previous_severity,
            first_reported,
        }
    }

    /// New or escalated since the previous report.
    pub fn is_new(&self) -> bool {
        self.status != "known"
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportWindow {
    pub since: Option<String>,
    pub until: Option<String>,
    pub baseline_days: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub findings: usize,
    /// New or escalated since the previous report.
    pub new: usize,
    pub by_severity: BTreeMap<String, usize>,
    /// Lines (or objects) that are not log records: they are in the `rejects` table.
    pub rejects: u64,
    /// Findings dropped by the config's allow-lists.
    pub suppressed: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionError {
    pub detection: String,
    pub error: String,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub title: String,
    pub generated_at: String,
    pub tool: String,
    pub window: ReportWindow,
    pub sources: Vec<String>,
    /// When the previous report (in the same output folder) was written.
    pub previous_report: Option<String>,
    pub counts: Counts,
    pub activity: Activity,
    pub findings: Vec<ReportedFinding>,
    /// Findings of the previous report that this one no longer has (`detection|entity`).
    pub gone: Vec<String>,
    /// The detections that ran.
    pub ran: Vec<String>,
    /// What the detections with findings mean.
    pub detections: Vec<DetectionInfo>,
    pub errors: Vec<DetectionError>,
    /// Sigma rules that did not run, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_rules: Vec<SkippedRule>,
}

/// A Sigma rule that did not run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedRule {
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub reason: String,
}

impl Report {
    pub fn detection(&self, id: &str) -> Option<&DetectionInfo> {
        self.detections.iter().find(|d| d.id == id)
    }

    pub fn new_findings(&self) -> impl Iterator<Item = &ReportedFinding> {
        self.findings.iter().filter(|f| f.is_new())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into()) + "\n"
    }
}

/// `1536` as `1.5 KiB`.
pub fn bytes(n: i64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v.abs() >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// `1234567` as `1,234,567`.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

pub fn window_text(w: &ReportWindow) -> String {
    format!(
        "{} to {} (baseline: the {} days before)",
        w.since.as_deref().unwrap_or("the start of the data"),
        w.until.as_deref().unwrap_or("the end of the data"),
        w.baseline_days
    )
}

fn md_top(out: &mut String, title: &str, what: &str, rows: &[Top]) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n#### {title}\n\n| {what} | Requests | Bytes | Errors |\n|---|---:|---:|---:|"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            escape::markdown(&r.name),
            count(r.requests),
            bytes(r.bytes),
            count(r.errors)
        );
    }
}

/// The report as Markdown.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", escape::markdown(&report.title));
    let _ = writeln!(
        out,
        "- Window: {}",
        escape::markdown(&window_text(&report.window))
    );
    let _ = writeln!(
        out,
        "- Generated: {} by {}",
        report.generated_at, report.tool
    );
    let _ = writeln!(
        out,
        "- Sources: {}",
        escape::markdown(&report.sources.join(", "))
    );
    let _ = writeln!(
        out,
        "- Previous report: {}",
        report
            .previous_report
            .as_deref()
            .unwrap_or("none (this is the first: every finding is new)")
    );

    let c = &report.counts;
    let a = &report.activity;
    out.push_str("\n## Summary\n\n| | |\n|---|---:|\n");
    let sev: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter_map(|s| {
            c.by_severity
                .get(s.name())
                .map(|n| format!("{n} {}", s.name()))
        })
        .collect();
    for (label, value) in [
        (
            "Findings",
            format!(
                "{} ({})",
                c.findings,
                if sev.is_empty() {
                    "none".into()
                } else {
                    sev.join(", ")
                }
            ),
        ),
        ("New since the previous report", c.new.to_string()),
        ("Access-log requests", count(a.access_logs.requests)),
        ("Bytes sent", bytes(a.access_logs.bytes_sent)),
        (
            "Errors (HTTP ≥ 400)",
            format!(
                "{} ({} denied)",
                count(a.access_logs.errors),
                count(a.access_logs.denied)
            ),
        ),
        ("Anonymous requests", count(a.access_logs.anonymous)),
        (
            "Distinct IPs / principals / buckets",
            format!(
                "{} / {} / {}",
                a.access_logs.ips, a.access_logs.principals, a.access_logs.buckets
            ),
        ),
        ("CloudTrail events", count(a.cloudtrail.events)),
        ("CloudTrail errors", count(a.cloudtrail.errors)),
        ("Rejected lines", count(c.rejects as i64)),
        ("Requests left out by allow-lists", c.suppressed.to_string()),
    ] {
        let _ = writeln!(out, "| {label} | {value} |");
    }

    out.push_str("\n## New since the previous report\n\n");
    let new: Vec<&ReportedFinding> = report.new_findings().collect();
    if new.is_empty() {
        out.push_str("Nothing new.\n");
    } else {
        out.push_str(
            "| Severity | Detection | Entity | Count | First seen |\n|---|---|---|---:|---|\n",
        );
        for f in &new {
            let g = &f.finding;
            let _ = writeln!(
                out,
                "| {}{} | {} | {} | {} | {} |",
                g.severity,
                f.previous_severity
                    .map(|p| format!(" (was {p})"))
                    .unwrap_or_default(),
                escape::markdown_code(&g.detection),
                escape::markdown(&g.entity),
                g.count,
                escape::markdown(g.first_seen.as_deref().unwrap_or(""))
            );
        }
    }

    out.push_str("\n## Findings\n\n");
    if report.findings.is_empty() {
        out.push_str("No findings.\n");
    } else {
        out.push_str("| | Severity | Detection | Entity | Count | First seen | Last seen |\n|---|---|---|---|---:|---|---|\n");
        let all: Vec<&ReportedFinding> = report.findings.iter().collect();
        let (listed, omitted) = listed(&all, LISTED_PER_DETECTION);
        for f in &listed {
            let g = &f.finding;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                if f.is_new() { "**NEW**" } else { "" },
                g.severity,
                escape::markdown_code(&g.detection),
                escape::markdown(&g.entity),
                g.count,
                escape::markdown(g.first_seen.as_deref().unwrap_or("")),
                escape::markdown(g.last_seen.as_deref().unwrap_or(""))
            );
        }
        for o in &omitted {
            let top: Vec<String> = o
                .top
                .iter()
                .map(|(entity, count)| format!("{} ({count})", escape::markdown(entity)))
                .collect();
            let _ = writeln!(
                out,
                "\n… and {} more findings of {} (report.json holds every one); the largest of them: {}",
                o.count,
                escape::markdown_code(o.detection),
                top.join(", ")
            );
        }
        for f in &listed {
            let g = &f.finding;
            let _ = writeln!(
                out,
                "\n### {}{} — {}\n",
                g.severity.name().to_uppercase(),
                if f.is_new() { " (new)" } else { "" },
                escape::markdown(&g.title)
            );
            let _ = writeln!(out, "- Detection: {}", escape::markdown_code(&g.detection));
            let _ = writeln!(out, "- Entity: {}", escape::markdown(&g.entity));
            for (label, value) in [
                ("Principal", &g.principal),
                ("IP", &g.ip),
                ("Bucket", &g.bucket),
                ("User agent", &g.useragent),
                ("Details", &g.details),
            ] {
                if let Some(v) = value {
                    let _ = writeln!(out, "- {label}: {}", escape::markdown(v));
                }
            }
            let _ = writeln!(
                out,
                "- Seen: {} to {} ({} events)",
                escape::markdown(g.first_seen.as_deref().unwrap_or("?")),
                escape::markdown(g.last_seen.as_deref().unwrap_or("?")),
                g.count
            );
            if let Some(d) = report.detection(&g.detection) {
                let _ = writeln!(out, "- What it means: {}", escape::markdown(&d.description));
                let _ = writeln!(out, "- What to do: {}", escape::markdown(&d.action));
                if !d.mitre.is_empty() {
                    let _ = writeln!(
                        out,
                        "- MITRE ATT&CK: {}",
                        escape::markdown(&d.mitre.join(", "))
                    );
                }
            }
            if !g.evidence.is_empty() {
                out.push_str("- Evidence:\n");
                for e in &g.evidence {
                    let _ = writeln!(out, "  - {}", escape::markdown(&super::evidence_line(e)));
                }
            }
        }
    }

    out.push_str("\n## Activity\n");
    if a.access_logs.requests > 0 {
        out.push_str("\n### Access logs\n");
        md_top(
            &mut out,
            "Top principals",
            "Principal",
            &a.access_logs.top_principals,
        );
        md_top(&mut out, "Top IPs", "IP", &a.access_logs.top_ips);
        md_top(
            &mut out,
            "Top IPs by bytes sent",
            "IP",
            &a.access_logs.top_ips_by_bytes,
        );
        md_top(
            &mut out,
            "Top buckets",
            "Bucket",
            &a.access_logs.top_buckets,
        );
        md_top(
            &mut out,
            "Top operations",
            "Operation",
            &a.access_logs.top_operations,
        );
    }
    if a.cloudtrail.events > 0 {
        out.push_str("\n### CloudTrail\n");
        md_top(
            &mut out,
            "Top principals",
            "Principal",
            &a.cloudtrail.top_principals,
        );
        md_top(&mut out, "Top IPs", "IP", &a.cloudtrail.top_ips);
        md_top(&mut out, "Top buckets", "Bucket", &a.cloudtrail.top_buckets);
        md_top(&mut out, "Top events", "Event", &a.cloudtrail.top_events);
    }
    if a.access_logs.requests == 0 && a.cloudtrail.events == 0 {
        out.push_str("\nNo requests in the window.\n");
    }

    if !a.acl_migration.is_empty() {
        out.push_str("\n## ACL migration\n\nA bucket can switch Object Ownership to \"bucket owner enforced\" (ACLs disabled) when no request in the window depended on an ACL.\n\n| Bucket | Requests | ACL-dependent | Can disable ACLs | Requesters | Operations |\n|---|---:|---:|---|---|---|\n");
        for b in &a.acl_migration {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                escape::markdown(&b.bucket),
                count(b.requests),
                count(b.acl_requests),
                if b.can_enforce_owner { "yes" } else { "no" },
                escape::markdown(&b.requesters.join(", ")),
                escape::markdown(&b.operations.join(", "))
            );
        }
    }
    if !report.gone.is_empty() {
        out.push_str("\n## No longer seen\n\nIn the previous report, not in this one:\n\n");
        for g in &report.gone {
            let _ = writeln!(out, "- {}", escape::markdown(g));
        }
    }
    if !report.errors.is_empty() {
        out.push_str("\n## Detections that failed\n\n");
        for e in &report.errors {
            let _ = writeln!(
                out,
                "- {}: {}",
                escape::markdown_code(&e.detection),
                escape::markdown(&e.error)
            );
        }
    }
    let _ = writeln!(
        out,
        "\n---\n{} detections ran. Evidence gives the log object and line of each sample record.",
        report.ran.len()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(count(0), "0");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(-1000), "-1,000");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
