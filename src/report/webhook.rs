//! The digest of what is new, posted to a webhook (Slack's incoming webhooks, or any HTTP
//! endpoint that takes JSON) after a report.
//!
//! In: the report. Out: one JSON document — a Slack-compatible `text` that lists the new and
//! escalated findings most severe first, and the same findings as fields for other receivers
//! — posted with retries; nothing is posted when nothing is new. Text from the logs (entities
//! are principals, addresses, user agents) is escaped for Slack's markup ([`escape::slack`]),
//! so it cannot mention `@channel` or form a link.

use std::time::Duration;

use serde_json::{Value, json};

use super::document::Report;
use super::escape;

/// Findings listed in the text at most (all of them are in `findings`).
const TEXT_FINDINGS: usize = 20;

/// The digest of the report's new findings; `None` when none is new.
pub fn digest(report: &Report) -> Option<Value> {
    let mut new: Vec<_> = report.new_findings().collect();
    if new.is_empty() {
        return None;
    }
    new.sort_by_key(|f| std::cmp::Reverse(f.finding.severity));
    let mut text = format!(
        "*{}*: {} new finding{} ({} in all) in {}",
        escape::slack(&report.title),
        new.len(),
        if new.len() == 1 { "" } else { "s" },
        report.counts.findings,
        escape::slack(&super::document::window_text(&report.window)),
    );
    for f in new.iter().take(TEXT_FINDINGS) {
        let g = &f.finding;
        text.push_str(&format!(
            "\n• {} `{}` {}: {} ({} events)",
            g.severity.name().to_uppercase(),
            escape::slack(&g.detection),
            escape::slack(&g.title),
            escape::slack(&g.entity),
            g.count
        ));
    }
    if new.len() > TEXT_FINDINGS {
        text.push_str(&format!("\n… and {} more", new.len() - TEXT_FINDINGS));
    }
    let findings: Vec<Value> = new
        .iter()
        .map(|f| {
            let g = &f.finding;
            json!({
                "detection": g.detection,
                "severity": g.severity,
                "title": g.title,
                "entity": g.entity,
                "count": g.count,
                "first_seen": g.first_seen,
                "last_seen": g.last_seen,
                "status": f.status,
            })
        })
        .collect();
    Some(json!({
        "text": text,
        "title": report.title,
        "generated_at": report.generated_at,
        "window": report.window,
        "new": new.len(),
        "findings": findings,
    }))
}

/// Why a post failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("the webhook URL {0:?} is not http(s)")]
    Url(String),
    #[error("posting to the webhook failed after {attempts} attempts: {last}")]
    Failed { attempts: u32, last: String },
}

/// Posts `body` to `url` as JSON: up to `attempts` tries (a connection failure, a timeout, a
/// 429 or a 5xx is tried again after 0.5 s, 1 s, 2 s, …; another status is final).
pub async fn post(url: &str, body: &Value, attempts: u32) -> Result<(), WebhookError> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(WebhookError::Url(url.to_string()));
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| WebhookError::Failed {
            attempts: 0,
            last: e.to_string(),
        })?;
    let text = body.to_string();
    let mut last = String::new();
    for attempt in 0..attempts.max(1) {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(500 << (attempt - 1).min(5))).await;
        }
        match client
            .post(url)
            .header("content-type", "application/json")
            .body(text.clone())
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => {
                last = format!("HTTP {}", r.status());
            }
            Ok(r) => {
                return Err(WebhookError::Failed {
                    attempts: attempt + 1,
                    last: format!("HTTP {}", r.status()),
                });
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(WebhookError::Failed {
        attempts: attempts.max(1),
        last,
    })
}
