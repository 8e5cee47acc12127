//! Findings and reports in every output format: a terminal table, JSON, NDJSON, CSV,
//! Markdown, and the self-contained HTML report. Every string that comes from the logs is
//! made inert for the format it is written in ([`escape`]).

pub mod build;
pub mod document;
pub mod escape;
pub mod export;
pub mod files;
pub mod html;
pub mod state;
pub mod summary;
pub mod webhook;

use std::fmt::Write as _;

use crate::detect::{Finding, Severity};

/// A one-line rendering of a finding's evidence.
pub fn evidence_line(e: &crate::detect::Evidence) -> String {
    let mut s = format!("{}:{}", e.log_object, e.log_line);
    let fields: Vec<String> = e
        .fields
        .iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(t) => format!("{k}={t}"),
            other => format!("{k}={other}"),
        })
        .collect();
    if !fields.is_empty() {
        let _ = write!(s, " ({})", fields.join(", "));
    }
    s
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Findings as an aligned table for a terminal.
pub fn table(findings: &[Finding]) -> String {
    table_painted(findings, |_, cell| cell.to_string())
}

/// [`table`], each row's severity cell (padded to its width) passed through `paint` (the
/// command line colours it on a terminal).
pub fn table_painted(findings: &[Finding], paint: impl Fn(Severity, &str) -> String) -> String {
    table_limited(findings, None, paint)
}

/// The findings table with at most `per_detection` rows of each detection (the most severe and
/// largest first), and a line saying how many more each has.
pub fn table_limited(
    findings: &[Finding],
    per_detection: Option<usize>,
    paint: impl Fn(Severity, &str) -> String,
) -> String {
    if findings.is_empty() {
        return "No findings.\n".to_string();
    }
    let mut shown: Vec<&Finding> = Vec::new();
    let mut more: Vec<(&str, usize)> = Vec::new();
    match per_detection {
        None => shown.extend(findings),
        Some(n) => {
            let mut by_detection: Vec<(&str, Vec<&Finding>)> = Vec::new();
            for f in findings {
                match by_detection.iter_mut().find(|(d, _)| *d == f.detection) {
                    Some((_, list)) => list.push(f),
                    None => by_detection.push((&f.detection, vec![f])),
                }
            }
            for (detection, mut list) in by_detection {
                list.sort_by(|a, b| {
                    b.severity
                        .cmp(&a.severity)
                        .then(b.count.cmp(&a.count))
                        .then_with(|| a.entity.cmp(&b.entity))
                });
                if list.len() > n {
                    more.push((detection, list.len() - n));
                    list.truncate(n);
                }
                shown.extend(list);
            }
            shown.sort_by(|a, b| {
                b.severity
                    .cmp(&a.severity)
                    .then_with(|| a.detection.cmp(&b.detection))
                    .then(b.count.cmp(&a.count))
                    .then_with(|| a.entity.cmp(&b.entity))
            });
        }
    }
    let findings = shown;
    let rows: Vec<[String; 6]> = findings
        .iter()
        .map(|f| {
            [
                f.severity.to_string(),
                f.detection.clone(),
                escape::terminal(&cut(&f.entity, 60)),
                f.count.to_string(),
                f.first_seen.clone().unwrap_or_default(),
                escape::terminal(&cut(&f.title, 70)),
            ]
        })
        .collect();
    let header = [
        "severity",
        "detection",
        "entity",
        "count",
        "first_seen",
        "title",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String], severity: Option<Severity>| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (c, w))| match severity {
                Some(s) if i == 0 => paint(s, &format!("{c:w$}")),
                _ => format!("{c:w$}"),
            })
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(&header.map(str::to_string), None);
    for (row, f) in rows.iter().zip(&findings) {
        out.push_str(&line(row, Some(f.severity)));
    }
    for (detection, n) in more {
        out.push_str(&format!(
            "… and {n} more {detection} {} (see --format json, or --max-per-detection inf)\n",
            if n == 1 { "finding" } else { "findings" }
        ));
    }
    out
}

pub fn json(findings: &[Finding]) -> String {
    serde_json::to_string_pretty(findings).unwrap_or_else(|_| "[]".into()) + "\n"
}

pub fn ndjson(findings: &[Finding]) -> String {
    findings
        .iter()
        .filter_map(|f| serde_json::to_string(f).ok())
        .map(|l| l + "\n")
        .collect()
}

pub fn csv(findings: &[Finding]) -> String {
    let mut out = String::from(
        "severity,detection,title,entity,principal,ip,bucket,count,first_seen,last_seen,details,evidence\n",
    );
    for f in findings {
        let evidence = f
            .evidence
            .iter()
            .map(|e| format!("{}:{}", e.log_object, e.log_line))
            .collect::<Vec<_>>()
            .join(" ");
        let cells = [
            f.severity.to_string(),
            f.detection.clone(),
            f.title.clone(),
            f.entity.clone(),
            f.principal.clone().unwrap_or_default(),
            f.ip.clone().unwrap_or_default(),
            f.bucket.clone().unwrap_or_default(),
            f.count.to_string(),
            f.first_seen.clone().unwrap_or_default(),
            f.last_seen.clone().unwrap_or_default(),
            f.details.clone().unwrap_or_default(),
            evidence,
        ];
        out.push_str(
            &cells
                .iter()
                .map(|c| escape::csv(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

/// Findings as Markdown: a summary table, then each finding with its evidence.
pub fn markdown(findings: &[Finding]) -> String {
    let mut out = String::new();
    if findings.is_empty() {
        out.push_str("No findings.\n");
        return out;
    }
    out.push_str("| Severity | Detection | Entity | Count | First seen | Title |\n|---|---|---|---|---|---|\n");
    for f in findings {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            f.severity,
            escape::markdown_code(&f.detection),
            escape::markdown(&cut(&f.entity, 80)),
            f.count,
            escape::markdown(f.first_seen.as_deref().unwrap_or("")),
            escape::markdown(&f.title)
        );
    }
    for f in findings {
        let _ = writeln!(
            out,
            "\n### {} — {}\n",
            f.severity.name().to_uppercase(),
            escape::markdown(&f.title)
        );
        let _ = writeln!(
            out,
            "- Detection: {} ({})",
            escape::markdown_code(&f.detection),
            escape::markdown(&f.family)
        );
        let _ = writeln!(out, "- Entity: {}", escape::markdown(&f.entity));
        for (label, value) in [
            ("Principal", &f.principal),
            ("IP", &f.ip),
            ("Bucket", &f.bucket),
            ("User agent", &f.useragent),
        ] {
            if let Some(v) = value {
                let _ = writeln!(out, "- {label}: {}", escape::markdown(v));
            }
        }
        let _ = writeln!(
            out,
            "- Seen: {} to {} ({} events)",
            escape::markdown(f.first_seen.as_deref().unwrap_or("?")),
            escape::markdown(f.last_seen.as_deref().unwrap_or("?")),
            f.count
        );
        if let Some(d) = &f.details {
            let _ = writeln!(out, "- Details: {}", escape::markdown(d));
        }
        if !f.mitre.is_empty() {
            let _ = writeln!(
                out,
                "- MITRE ATT&CK: {}",
                escape::markdown(&f.mitre.join(", "))
            );
        }
        if !f.evidence.is_empty() {
            out.push_str("- Evidence:\n");
            for e in &f.evidence {
                let _ = writeln!(out, "  - {}", escape::markdown(&evidence_line(e)));
            }
        }
    }
    out
}

/// The highest severity among the findings.
pub fn max_severity(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}
