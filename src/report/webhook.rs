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

/// Why a post failed. Never holds the URL's path or query (a chat webhook's URL is its
/// secret): only its host.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("the webhook URL is not a URL: {0}")]
    Url(String),
    #[error(
        "the webhook to {0} is plain http: findings and the URL's secret would cross the network in the clear (use https, or allow it with --allow-http-webhook)"
    )]
    Http(String),
    #[error(
        "the webhook host {host} is {what} ({address}): refused, so that a URL cannot point the report at this machine or its network (allow it with --allow-private-webhook)"
    )]
    Private {
        host: String,
        what: &'static str,
        address: String,
    },
    #[error("the webhook host {host} cannot be resolved: {message}")]
    Resolve { host: String, message: String },
    #[error(
        "the webhook at {host} answered a redirect (HTTP {status}): not followed, the digest goes to the URL given only"
    )]
    Redirect { host: String, status: u16 },
    #[error("posting to the webhook at {host} failed after {attempts} attempts: {last}")]
    Failed {
        host: String,
        attempts: u32,
        last: String,
    },
}

/// Where a webhook may post to.
#[derive(Debug, Clone, Copy, Default)]
pub struct Allowed {
    /// Plain `http://`.
    pub http: bool,
    /// Loopback, private, link-local and other non-public addresses.
    pub private: bool,
}

/// What kind of non-public address `ip` is, if it is one.
pub fn non_public(ip: std::net::IpAddr) -> Option<&'static str> {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_link_local() {
                Some("link-local (cloud metadata lives there)")
            } else if v4.is_private() || (o[0] == 100 && (64..128).contains(&o[1])) {
                Some("private")
            } else if v4.is_unspecified() || v4.is_broadcast() || o[0] == 0 || o[0] >= 224 {
                Some("not a unicast address")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return non_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() || v6.is_multicast() {
                Some("not a unicast address")
            } else if (s[0] & 0xffc0) == 0xfe80 {
                Some("link-local (cloud metadata lives there)")
            } else if (s[0] & 0xfe00) == 0xfc00 {
                Some("private")
            } else {
                None
            }
        }
    }
}

/// Checks `url` against `allowed` and resolves its host: the URL and the address to connect
/// to (pinned, so that the name cannot resolve elsewhere between the check and the post).
async fn target(
    url: &str,
    allowed: Allowed,
) -> Result<(url::Url, String, std::net::SocketAddr), WebhookError> {
    let parsed = url::Url::parse(url).map_err(|e| WebhookError::Url(e.to_string()))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| WebhookError::Url("no host".into()))?
        .to_string();
    match parsed.scheme() {
        "https" => {}
        "http" if allowed.http => {}
        "http" => return Err(WebhookError::Http(host)),
        other => {
            return Err(WebhookError::Url(format!(
                "the scheme {other} is not https"
            )));
        }
    }
    let port = parsed
        .port_or_known_default()
        .ok_or_else(|| WebhookError::Url("no port".into()))?;
    let lookup = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let addresses: Vec<std::net::SocketAddr> = tokio::net::lookup_host((lookup.as_str(), port))
        .await
        .map_err(|e| WebhookError::Resolve {
            host: host.clone(),
            message: e.to_string(),
        })?
        .collect();
    let first = *addresses.first().ok_or_else(|| WebhookError::Resolve {
        host: host.clone(),
        message: "no address".into(),
    })?;
    if !allowed.private {
        for address in &addresses {
            if let Some(what) = non_public(address.ip()) {
                return Err(WebhookError::Private {
                    host,
                    what,
                    address: address.ip().to_string(),
                });
            }
        }
    }
    Ok((parsed, host, first))
}

/// Posts `body` to `url` as JSON: up to `attempts` tries (a connection failure, a timeout, a
/// 429 or a 5xx is tried again after 0.5 s, 1 s, 2 s, …; another status is final). Only
/// `https://` and public addresses unless `allowed` says otherwise; redirects are not followed;
/// errors name the host, never the URL.
pub async fn post(
    url: &str,
    body: &Value,
    attempts: u32,
    allowed: Allowed,
) -> Result<(), WebhookError> {
    let (url, host, address) = target(url, allowed).await?;
    let failed = |attempts: u32, last: String| WebhookError::Failed {
        host: host.clone(),
        attempts,
        last,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .resolve(&host, address)
        .build()
        .map_err(|e| failed(0, e.without_url().to_string()))?;
    let text = body.to_string();
    let mut last = String::new();
    for attempt in 0..attempts.max(1) {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(500 << (attempt - 1).min(5))).await;
        }
        match client
            .post(url.clone())
            .header("content-type", "application/json")
            .body(text.clone())
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) if r.status().is_redirection() => {
                return Err(WebhookError::Redirect {
                    host: host.clone(),
                    status: r.status().as_u16(),
                });
            }
            Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => {
                last = format!("HTTP {}", r.status());
            }
            Ok(r) => return Err(failed(attempt + 1, format!("HTTP {}", r.status()))),
            Err(e) => last = e.without_url().to_string(),
        }
    }
    Err(failed(attempts.max(1), last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_that_are_not_public() {
        for (ip, public) in [
            ("127.0.0.1", false),
            ("169.254.169.254", false),
            ("10.1.2.3", false),
            ("172.16.0.1", false),
            ("192.168.1.1", false),
            ("100.64.0.1", false),
            ("0.0.0.0", false),
            ("::1", false),
            ("fe80::1", false),
            ("fd00::1", false),
            ("::ffff:127.0.0.1", false),
            ("8.8.8.8", true),
            ("2001:4860:4860::8888", true),
        ] {
            assert_eq!(non_public(ip.parse().unwrap()).is_none(), public, "{ip}");
        }
    }

    #[tokio::test]
    async fn plain_http_and_private_targets_are_refused_and_errors_hide_the_url() {
        let secret = "https://127.0.0.1:9/services/T000/B000/XXXXSECRET";
        let e = post(secret, &json!({}), 1, Allowed::default())
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("loopback") && !e.contains("XXXXSECRET"), "{e}");
        let e = post(
            "http://8.8.8.8/hook/SECRET",
            &json!({}),
            1,
            Allowed::default(),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(e.contains("plain http") && !e.contains("SECRET"), "{e}");
        let e = post(
            "http://127.0.0.1:9/hook/SECRET",
            &json!({}),
            1,
            Allowed {
                http: true,
                private: true,
            },
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("failed after 1 attempts") && !e.contains("SECRET"),
            "{e}"
        );
    }
}
