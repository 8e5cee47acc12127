//! The report as one self-contained HTML file: inline CSS and inline SVG charts, no script and
//! no fetch (a Content-Security-Policy forbids both), so it opens offline and an attacker's
//! user agent or key cannot become markup. Every string from the logs goes through
//! [`escape::html`].

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::document::{Report, ReportedFinding, bytes, count, window_text};
use super::escape::html as esc;
use super::summary::{Timeline, Top};
use crate::detect::Severity;
use crate::format::cloudtrail::json::iso_time;

const STYLE: &str = r#"
:root { --fg:#1d2330; --muted:#5d6675; --line:#dde1e8; --bg:#f6f7f9; --card:#fff;
  --critical:#8e1b1b; --high:#d93a2b; --medium:#e8870e; --low:#c9a400; --info:#7d8a99;
  --access:#2f6fdf; --errors:#d93a2b; --trail:#1f9d6b; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg); background:var(--bg); }
header { background:#1d2330; color:#fff; padding:20px 32px; }
header h1 { margin:0 0 6px; font-size:22px; }
header p { margin:2px 0; color:#c7cdd8; }
main { padding:16px 32px 40px; max-width:1280px; }
h2 { font-size:18px; margin:28px 0 10px; }
h3 { font-size:15px; margin:18px 0 8px; }
.cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(170px,1fr)); gap:12px; margin-top:16px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
.card .v { font-size:22px; font-weight:600; }
.card .l { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.panel { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:14px; overflow-x:auto; }
table { border-collapse:collapse; width:100%; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-size:12px; color:var(--muted); text-transform:uppercase; letter-spacing:.03em; }
td.n, th.n { text-align:right; font-variant-numeric:tabular-nums; }
td { overflow-wrap:anywhere; }
code, .mono { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12.5px; }
.sev { display:inline-block; min-width:64px; text-align:center; border-radius:4px; padding:1px 6px; color:#fff; font-size:12px; font-weight:600; }
.sev.critical { background:var(--critical); } .sev.high { background:var(--high); }
.sev.medium { background:var(--medium); } .sev.low { background:var(--low); color:#1d2330; }
.sev.info { background:var(--info); }
.new { display:inline-block; background:#1d2330; color:#fff; border-radius:4px; padding:1px 6px; font-size:11px; font-weight:700; white-space:nowrap; }
td.time { white-space:nowrap; }
details { background:var(--card); border:1px solid var(--line); border-radius:8px; margin:8px 0; padding:8px 12px; }
details summary { cursor:pointer; }
details dl { display:grid; grid-template-columns:140px 1fr; gap:4px 12px; margin:10px 0; }
details dt { color:var(--muted); }
details dd { margin:0; overflow-wrap:anywhere; }
.legend span { margin-right:16px; }
.legend i { display:inline-block; width:12px; height:12px; border-radius:2px; margin-right:5px; vertical-align:-1px; }
.grid2 { display:grid; grid-template-columns:repeat(auto-fit,minmax(420px,1fr)); gap:16px; }
.muted { color:var(--muted); }
svg text { font:11px system-ui,sans-serif; fill:var(--muted); }
@media print { header { background:none; color:#000; } details { break-inside:avoid; } }
"#;

fn sev_badge(s: Severity) -> String {
    format!("<span class=\"sev {0}\">{0}</span>", s.name())
}

fn sev_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#8e1b1b",
        Severity::High => "#d93a2b",
        Severity::Medium => "#e8870e",
        Severity::Low => "#c9a400",
        Severity::Info => "#7d8a99",
    }
}

fn time_label(ms: i64, bin_seconds: i64) -> String {
    let Some(t) = chrono::DateTime::from_timestamp_millis(ms) else {
        return String::new();
    };
    if bin_seconds >= 86_400 {
        t.format("%Y-%m-%d").to_string()
    } else {
        t.format("%m-%d %H:%M").to_string()
    }
}

/// Requests over time, with each finding's first sighting marked.
fn timeline_svg(t: &Timeline, findings: &[ReportedFinding]) -> String {
    const W: f64 = 1000.0;
    const H: f64 = 240.0;
    const LEFT: f64 = 56.0;
    const TOP: f64 = 18.0;
    const BOTTOM: f64 = 28.0;
    let n = t.points.len();
    if n == 0 {
        return "<p class=\"muted\">No requests in the window.</p>".into();
    }
    let bin_ms = t.bin_seconds * 1000;
    let start = t.points[0].start_ms;
    let end = start + n as i64 * bin_ms;
    let max = t
        .points
        .iter()
        .map(|p| p.access_requests.max(p.cloudtrail_events))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let plot_w = W - LEFT - 10.0;
    let plot_h = H - TOP - BOTTOM;
    let x = |ms: f64| LEFT + (ms - start as f64) / (end - start) as f64 * plot_w;
    let y = |v: f64| TOP + plot_h - v / max * plot_h;
    let mid = |i: usize| x(start as f64 + (i as f64 + 0.5) * bin_ms as f64);
    let mut svg = format!(
        "<svg viewBox=\"0 0 {W} {H}\" width=\"100%\" role=\"img\" aria-label=\"Requests over time\">"
    );
    // Axes and gridlines.
    for frac in [0.0, 0.5, 1.0] {
        let v = max * frac;
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#dde1e8\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            W - 10.0,
            LEFT - 6.0,
            y(v) + 4.0,
            count(v.round() as i64),
            y = y(v)
        );
    }
    let ticks = 6.min(n);
    for k in 0..ticks {
        let i = if ticks == 1 {
            0
        } else {
            k * (n - 1) / (ticks - 1)
        };
        let anchor = match (k, ticks) {
            (0, _) => "start",
            (k, t) if k + 1 == t => "end",
            _ => "middle",
        };
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            mid(i),
            H - 8.0,
            esc(&time_label(t.points[i].start_ms, t.bin_seconds))
        );
    }
    // Access-log requests as columns, their errors in red at the foot of each column, and
    // CloudTrail events as a line with a dot on every non-empty bin.
    let bw = plot_w / n as f64;
    for p in &t.points {
        let x0 = x(p.start_ms as f64) + bw * 0.08;
        let w = (bw * 0.84).max(0.8);
        for (v, color) in [(p.access_requests, "#2f6fdf"), (p.access_errors, "#d93a2b")] {
            if v > 0 {
                let top = y(v as f64);
                let _ = write!(
                    svg,
                    "<rect x=\"{x0:.1}\" y=\"{top:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{color}\"><title>{}: {} requests, {} errors, {} CloudTrail events</title></rect>",
                    (y(0.0) - top).max(0.5),
                    esc(&time_label(p.start_ms, 60)),
                    p.access_requests,
                    p.access_errors,
                    p.cloudtrail_events
                );
            }
        }
    }
    if t.points.iter().any(|p| p.cloudtrail_events > 0) {
        let line = (0..n)
            .map(|i| {
                format!(
                    "{:.1},{:.1}",
                    mid(i),
                    y(t.points[i].cloudtrail_events as f64)
                )
            })
            .collect::<Vec<_>>()
            .join(" ");
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"#1f9d6b\" stroke-width=\"1.6\" points=\"{line}\"/>"
        );
        for (i, p) in t.points.iter().enumerate() {
            if p.cloudtrail_events > 0 {
                let _ = write!(
                    svg,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"#1f9d6b\"/>",
                    mid(i),
                    y(p.cloudtrail_events as f64)
                );
            }
        }
    }
    // Anomaly markers: the first sighting of each finding above info.
    for f in findings {
        let g = &f.finding;
        if g.severity == Severity::Info {
            continue;
        }
        let Some(ms) = g.first_seen.as_deref().and_then(iso_time) else {
            continue;
        };
        if ms < start || ms >= end {
            continue;
        }
        let px = x(ms as f64);
        let color = sev_color(g.severity);
        let _ = write!(
            svg,
            "<g><title>{} {}: {} ({})</title><line x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{TOP}\" y2=\"{:.1}\" stroke=\"{color}\" stroke-dasharray=\"3 3\"/><polygon fill=\"{color}\" points=\"{:.1},{} {:.1},{} {px:.1},{}\"/></g>",
            g.severity,
            esc(&g.detection),
            esc(&g.entity),
            esc(g.first_seen.as_deref().unwrap_or("")),
            TOP + plot_h,
            px - 5.0,
            TOP - 10.0,
            px + 5.0,
            TOP - 10.0,
            TOP - 1.0
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A horizontal bar chart of a top list.
fn bars_svg(title: &str, rows: &[Top], by_bytes: bool, color: &str) -> String {
    if rows.is_empty() {
        return String::new();
    }
    const W: f64 = 480.0;
    const ROW: f64 = 22.0;
    const LABEL: f64 = 210.0;
    let value = |t: &Top| if by_bytes { t.bytes } else { t.requests };
    let max = rows.iter().map(value).max().unwrap_or(0).max(1) as f64;
    let h = ROW * rows.len() as f64 + 8.0;
    let mut svg = format!(
        "<div><h3>{}</h3><svg viewBox=\"0 0 {W} {h}\" width=\"100%\" role=\"img\" aria-label=\"{}\">",
        esc(title),
        esc(title)
    );
    for (i, t) in rows.iter().enumerate() {
        let y = i as f64 * ROW + 4.0;
        let v = value(t);
        let bar = (v as f64 / max * (W - LABEL - 90.0)).max(1.0);
        let label: String = if t.name.chars().count() > 34 {
            let mut s: String = t.name.chars().take(33).collect();
            s.push('…');
            s
        } else {
            t.name.clone()
        };
        let shown = if by_bytes { bytes(v) } else { count(v) };
        let _ = write!(
            svg,
            "<g><title>{}: {}</title><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect x=\"{LABEL}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{}\" rx=\"2\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text></g>",
            esc(&t.name),
            esc(&shown),
            LABEL - 6.0,
            y + 13.0,
            esc(&label),
            ROW - 6.0,
            LABEL + bar + 5.0,
            y + 13.0,
            esc(&shown)
        );
    }
    svg.push_str("</svg></div>");
    svg
}

fn top_table(out: &mut String, title: &str, what: &str, rows: &[Top]) {
    if rows.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<div><h3>{}</h3><table><tr><th>{}</th><th class=\"n\">Requests</th><th class=\"n\">Bytes</th><th class=\"n\">Errors</th></tr>",
        esc(title),
        esc(what)
    );
    for r in rows {
        let _ = write!(
            out,
            "<tr><td class=\"mono\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&r.name),
            count(r.requests),
            bytes(r.bytes),
            count(r.errors)
        );
    }
    out.push_str("</table></div>");
}

fn findings_table(out: &mut String, findings: &[&ReportedFinding]) {
    out.push_str("<div class=\"panel\"><table><tr><th>Severity</th><th></th><th>Detection</th><th>Entity</th><th class=\"n\">Count</th><th>First seen</th><th>Last seen</th></tr>");
    for f in findings {
        let g = &f.finding;
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td class=\"mono\">{}</td><td class=\"n\">{}</td><td class=\"time\">{}</td><td class=\"time\">{}</td></tr>",
            sev_badge(g.severity),
            if f.is_new() {
                "<span class=\"new\">NEW</span>"
            } else {
                ""
            },
            esc(&g.detection),
            esc(&g.entity),
            count(g.count),
            esc(g.first_seen.as_deref().unwrap_or("")),
            esc(g.last_seen.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</table></div>");
}

fn finding_details(out: &mut String, report: &Report, f: &ReportedFinding) {
    let g = &f.finding;
    let open = f.is_new() && g.severity >= Severity::High;
    let _ = write!(
        out,
        "<details{}><summary>{} {}<strong>{}</strong> — <span class=\"mono\">{}</span></summary><dl>",
        if open { " open" } else { "" },
        sev_badge(g.severity),
        if f.is_new() {
            "<span class=\"new\">NEW</span> "
        } else {
            ""
        },
        esc(&g.title),
        esc(&g.entity)
    );
    let mut row = |label: &str, value: &str| {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(label), esc(value));
    };
    row("Detection", &g.detection);
    for (label, value) in [
        ("Principal", &g.principal),
        ("IP", &g.ip),
        ("Bucket", &g.bucket),
        ("Account", &g.account),
        ("User agent", &g.useragent),
        ("Details", &g.details),
    ] {
        if let Some(v) = value {
            row(label, v);
        }
    }
    row(
        "Seen",
        &format!(
            "{} to {} ({} events)",
            g.first_seen.as_deref().unwrap_or("?"),
            g.last_seen.as_deref().unwrap_or("?"),
            g.count
        ),
    );
    match (&f.previous_severity, &f.first_reported) {
        (Some(p), _) => row("Status", &format!("escalated from {p}")),
        (_, Some(first)) => row("Status", &format!("reported before, first on {first}")),
        _ => row("Status", "new since the previous report"),
    }
    for (k, v) in &g.extra {
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        row(k, &text);
    }
    if let Some(d) = report.detection(&g.detection) {
        row("What it means", &d.description);
        row("What to do", &d.action);
        if !d.mitre.is_empty() {
            row("MITRE ATT&CK", &d.mitre.join(", "));
        }
        if !d.references.is_empty() {
            row("References", &d.references.join(" "));
        }
    }
    out.push_str("</dl>");
    if !g.evidence.is_empty() {
        let keys: BTreeSet<&String> = g.evidence.iter().flat_map(|e| e.fields.keys()).collect();
        out.push_str("<table><tr><th>Log object</th><th class=\"n\">Line</th>");
        for k in &keys {
            let _ = write!(out, "<th>{}</th>", esc(k));
        }
        out.push_str("</tr>");
        for e in &g.evidence {
            let _ = write!(
                out,
                "<tr><td class=\"mono\">{}</td><td class=\"n\">{}</td>",
                esc(&e.log_object),
                e.log_line
            );
            for k in &keys {
                let text = match e.fields.get(*k) {
                    None | Some(serde_json::Value::Null) => String::new(),
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                };
                let _ = write!(out, "<td class=\"mono\">{}</td>", esc(&text));
            }
            out.push_str("</tr>");
        }
        out.push_str("</table>");
    }
    out.push_str("</details>");
}

fn card(out: &mut String, label: &str, value: &str) {
    let _ = write!(
        out,
        "<div class=\"card\"><div class=\"l\">{}</div><div class=\"v\">{}</div></div>",
        esc(label),
        value
    );
}

/// The report as one HTML document.
pub fn render(report: &Report) -> String {
    let a = &report.activity;
    let c = &report.counts;
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"generator\" content=\"{}\"><title>{}</title><style>{STYLE}</style></head><body>",
        esc(&report.tool),
        esc(&report.title)
    );
    let _ = write!(
        out,
        "<header><h1>{}</h1><p>{}</p><p>Generated {} · previous report: {}</p><p class=\"mono\">{}</p></header><main>",
        esc(&report.title),
        esc(&window_text(&report.window)),
        esc(&report.generated_at),
        esc(report
            .previous_report
            .as_deref()
            .unwrap_or("none (every finding is new)")),
        esc(&report.sources.join(" "))
    );

    // Summary cards.
    out.push_str("<section class=\"cards\">");
    let by_sev: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter_map(|s| {
            c.by_severity
                .get(s.name())
                .map(|n| format!("<span class=\"sev {}\">{n} {}</span>", s.name(), s.name()))
        })
        .collect();
    card(&mut out, "Findings", &c.findings.to_string());
    card(&mut out, "New since previous report", &c.new.to_string());
    card(
        &mut out,
        "Requests (access logs)",
        &count(a.access_logs.requests),
    );
    card(
        &mut out,
        "Bytes sent",
        &esc(&bytes(a.access_logs.bytes_sent)),
    );
    card(
        &mut out,
        "Errors (HTTP ≥ 400)",
        &format!(
            "{} <span class=\"muted\" style=\"font-size:13px\">{} denied</span>",
            count(a.access_logs.errors),
            count(a.access_logs.denied)
        ),
    );
    card(&mut out, "CloudTrail events", &count(a.cloudtrail.events));
    card(
        &mut out,
        "Distinct IPs",
        &count(a.access_logs.ips.max(a.cloudtrail.ips)),
    );
    card(&mut out, "Rejected lines", &count(c.rejects as i64));
    out.push_str("</section>");
    if !by_sev.is_empty() {
        let _ = write!(out, "<p>{}</p>", by_sev.join(" "));
    }

    out.push_str("<h2>Requests over time</h2><div class=\"panel\">");
    out.push_str(&timeline_svg(&a.timeline, &report.findings));
    let _ = write!(
        out,
        "<p class=\"legend muted\"><span><i style=\"background:#2f6fdf\"></i>access-log requests</span><span><i style=\"background:#d93a2b\"></i>errors</span><span><i style=\"background:#1f9d6b\"></i>CloudTrail events</span><span>▼ first sighting of a finding (hover for details)</span> · one point per {}</p></div>",
        esc(&bin_text(a.timeline.bin_seconds))
    );

    out.push_str("<h2>New since the previous report</h2>");
    let new: Vec<&ReportedFinding> = report.new_findings().collect();
    if new.is_empty() {
        out.push_str("<p>Nothing new.</p>");
    } else {
        findings_table(&mut out, &new);
    }

    out.push_str("<h2>Findings</h2>");
    if report.findings.is_empty() {
        out.push_str("<p>No findings.</p>");
    } else {
        let all: Vec<&ReportedFinding> = report.findings.iter().collect();
        let (listed, omitted) =
            super::document::listed(&all, super::document::LISTED_PER_DETECTION);
        findings_table(&mut out, &listed);
        for o in &omitted {
            let top: Vec<String> = o
                .top
                .iter()
                .map(|(entity, count)| format!("{} ({count})", esc(entity)))
                .collect();
            out.push_str(&format!(
                "<p class=\"muted\">… and {} more findings of <code>{}</code> (report.json holds every one); the largest of them: {}</p>",
                o.count,
                esc(o.detection),
                top.join(", ")
            ));
        }
        out.push_str("<h3>Details and evidence</h3>");
        for f in listed {
            finding_details(&mut out, report, f);
        }
    }

    out.push_str("<h2>Top talkers</h2>");
    if a.access_logs.requests == 0 && a.cloudtrail.events == 0 {
        out.push_str("<p>No requests in the window.</p>");
    }
    if a.access_logs.requests > 0 {
        out.push_str("<div class=\"panel\"><div class=\"grid2\">");
        out.push_str(&bars_svg(
            "IPs by requests",
            &a.access_logs.top_ips,
            false,
            "#2f6fdf",
        ));
        out.push_str(&bars_svg(
            "IPs by bytes sent",
            &a.access_logs.top_ips_by_bytes,
            true,
            "#6a4fd8",
        ));
        out.push_str(&bars_svg(
            "Principals by requests",
            &a.access_logs.top_principals,
            false,
            "#2f6fdf",
        ));
        out.push_str(&bars_svg(
            "Buckets by requests",
            &a.access_logs.top_buckets,
            false,
            "#2f6fdf",
        ));
        out.push_str("</div><div class=\"grid2\">");
        top_table(
            &mut out,
            "Operations (access logs)",
            "Operation",
            &a.access_logs.top_operations,
        );
        top_table(
            &mut out,
            "Principals (access logs)",
            "Principal",
            &a.access_logs.top_principals,
        );
        out.push_str("</div></div>");
    }
    if a.cloudtrail.events > 0 {
        out.push_str("<h3>CloudTrail</h3><div class=\"panel\"><div class=\"grid2\">");
        out.push_str(&bars_svg(
            "Principals by events",
            &a.cloudtrail.top_principals,
            false,
            "#1f9d6b",
        ));
        out.push_str(&bars_svg(
            "IPs by events",
            &a.cloudtrail.top_ips,
            false,
            "#1f9d6b",
        ));
        out.push_str("</div><div class=\"grid2\">");
        top_table(&mut out, "Events", "Event", &a.cloudtrail.top_events);
        top_table(&mut out, "Buckets", "Bucket", &a.cloudtrail.top_buckets);
        out.push_str("</div></div>");
    }

    if !a.acl_migration.is_empty() {
        out.push_str("<h2>ACL migration</h2><p>A bucket can switch Object Ownership to “bucket owner enforced” (ACLs disabled) when no request in the window depended on an ACL.</p><div class=\"panel\"><table><tr><th>Bucket</th><th class=\"n\">Requests</th><th class=\"n\">ACL-dependent</th><th>Can disable ACLs</th><th>Requesters</th><th>Operations</th></tr>");
        for b in &a.acl_migration {
            let _ = write!(
                out,
                "<tr><td class=\"mono\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td></tr>",
                esc(&b.bucket),
                count(b.requests),
                count(b.acl_requests),
                if b.can_enforce_owner {
                    "yes"
                } else {
                    "<strong>no</strong>"
                },
                esc(&b.requesters.join(", ")),
                esc(&b.operations.join(", "))
            );
        }
        out.push_str("</table></div>");
    }

    if !report.gone.is_empty() {
        out.push_str("<h2>No longer seen</h2><p>In the previous report, not in this one:</p><ul>");
        for g in &report.gone {
            let _ = write!(out, "<li class=\"mono\">{}</li>", esc(g));
        }
        out.push_str("</ul>");
    }
    if !report.errors.is_empty() {
        out.push_str("<h2>Detections that failed</h2><ul>");
        for e in &report.errors {
            let _ = write!(
                out,
                "<li><code>{}</code>: {}</li>",
                esc(&e.detection),
                esc(&e.error)
            );
        }
        out.push_str("</ul>");
    }
    let _ = writeln!(
        out,
        "<p class=\"muted\">{} detections ran; {} requests were left out by allow-lists. Evidence gives the log object and line of each sample record.</p></main></body></html>",
        report.ran.len(),
        c.suppressed
    );
    out
}

fn bin_text(seconds: i64) -> String {
    match seconds {
        s if s % 86_400 == 0 => format!("{} day{}", s / 86_400, if s == 86_400 { "" } else { "s" }),
        s if s % 3600 == 0 => format!("{} hour{}", s / 3600, if s == 3600 { "" } else { "s" }),
        s => format!("{} minutes", s / 60),
    }
}
