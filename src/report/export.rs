//! Findings in the formats other tools take: OCSF Detection Findings (class 2004) as JSON
//! Lines for a SIEM or a data lake, and AWS Security Finding Format documents for Security Hub.
//!
//! In: findings (and, for ASFF, the account, region and product ARN the config names). Out:
//! text ready to hand on: one OCSF event per line; ASFF in batches of at most 100 findings, one
//! batch (a JSON array, what `aws securityhub batch-import-findings --findings` takes) per line.
//! Values from the logs are data in JSON strings, never markup; the MITRE techniques go into
//! OCSF's `finding_info.attacks` and ASFF's `Types`.

use serde_json::{Value, json};

use crate::detect::{Finding, Severity};
use crate::format::cloudtrail::json::iso_time;

/// The OCSF schema version the events follow.
pub const OCSF_VERSION: &str = "1.3.0";
/// Security Hub takes at most this many findings per `BatchImportFindings` call.
pub const ASFF_BATCH: usize = 100;

fn millis(time: Option<&str>) -> Option<i64> {
    time.and_then(iso_time)
}

fn ocsf_severity(s: Severity) -> (u8, &'static str) {
    match s {
        Severity::Info => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

/// MITRE techniques as written in a detection (`T1537 Transfer Data to Cloud Account`,
/// `T1685.002`): their ids and names.
fn techniques(mitre: &[String]) -> Vec<(String, String)> {
    mitre
        .iter()
        .filter_map(|m| {
            let (id, name) = m.split_once(' ').unwrap_or((m.as_str(), ""));
            let id = id.trim().to_ascii_uppercase();
            (id.starts_with('T') && id[1..].starts_with(|c: char| c.is_ascii_digit()))
                .then(|| (id, name.trim().to_string()))
        })
        .collect()
}

/// One finding as an OCSF Detection Finding event; `now_ms` when it has no time of its own.
pub fn ocsf_event(f: &Finding, now_ms: i64) -> Value {
    let (severity_id, severity) = ocsf_severity(f.severity);
    let first = millis(f.first_seen.as_deref());
    let last = millis(f.last_seen.as_deref());
    let attacks: Vec<Value> = techniques(&f.mitre)
        .into_iter()
        .map(|(uid, name)| {
            let (technique, sub) = match uid.split_once('.') {
                Some((t, _)) => (t.to_string(), Some(uid.clone())),
                None => (uid.clone(), None),
            };
            let mut attack = json!({"technique": {"uid": technique}, "version": "v15"});
            if !name.is_empty() {
                attack["technique"]["name"] = json!(name);
            }
            if let Some(sub) = sub {
                attack["sub_technique"] = json!({"uid": sub});
            }
            attack
        })
        .collect();
    let evidences: Vec<Value> = f
        .evidence
        .iter()
        .map(|e| {
            let mut data = serde_json::Map::new();
            data.insert("log_object".into(), json!(e.log_object));
            data.insert("log_line".into(), json!(e.log_line));
            for (k, v) in &e.fields {
                data.insert(k.clone(), v.clone());
            }
            json!({"data": Value::Object(data)})
        })
        .collect();
    let mut event = json!({
        "activity_id": 1,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "type_uid": 200_401,
        "type_name": "Detection Finding: Create",
        "severity_id": severity_id,
        "severity": severity,
        "status_id": 1,
        "status": "New",
        "is_alert": true,
        "time": last.or(first).unwrap_or(now_ms),
        "message": f.title,
        "count": f.count,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {
                "name": "s3trawl",
                "vendor_name": "s3trawl",
                "version": env!("CARGO_PKG_VERSION"),
            },
            "log_name": f.family,
        },
        "finding_info": {
            "uid": f.fingerprint(),
            "title": f.title,
            "types": [f.family],
            "analytic": {"uid": f.detection, "name": f.detection, "type_id": 1, "type": "Rule"},
        },
        "evidences": evidences,
        "unmapped": {"entity": f.entity},
    });
    let info = &mut event["finding_info"];
    if let Some(t) = first {
        info["first_seen_time"] = json!(t);
    }
    if let Some(t) = last {
        info["last_seen_time"] = json!(t);
    }
    if let Some(d) = &f.details {
        info["desc"] = json!(d);
    }
    if !attacks.is_empty() {
        info["attacks"] = json!(attacks);
    }
    if let Some(p) = &f.principal {
        event["actor"] = json!({"user": {"uid": p, "name": p}});
    }
    if let Some(ip) = &f.ip {
        event["src_endpoint"] = json!({"ip": ip});
    }
    if let Some(b) = &f.bucket {
        event["resources"] =
            json!([{"uid": format!("arn:aws:s3:::{b}"), "name": b, "type": "AWS::S3::Bucket"}]);
    }
    if let Some(a) = &f.account {
        event["cloud"] = json!({"provider": "AWS", "account": {"uid": a}});
    }
    if f.evidence.is_empty() {
        // Evidence artifacts need at least one attribute: what the finding is about.
        event["evidences"] = json!([{"data": {"entity": f.entity}}]);
    }
    if !f.extra.is_empty() {
        event["unmapped"]["extra"] = json!(f.extra);
    }
    event
}

/// Findings as OCSF JSON Lines.
pub fn ocsf(findings: &[Finding], now_ms: i64) -> String {
    let mut out = String::new();
    for f in findings {
        out.push_str(&ocsf_event(f, now_ms).to_string());
        out.push('\n');
    }
    out
}

/// Where ASFF findings go: the account and region of the Security Hub that imports them, and
/// the product ARN (default: the account's own `default` product).
#[derive(Debug, Clone)]
pub struct AsffTarget {
    pub account: String,
    pub region: String,
    pub product_arn: Option<String>,
}

impl AsffTarget {
    /// From the config's `[settings]`: `aws_account_id`, `aws_region` and, if set,
    /// `securityhub_product_arn`.
    pub fn from_config(config: &crate::detect::config::Config) -> Result<AsffTarget, String> {
        let s = &config.settings;
        match (&s.aws_account_id, &s.aws_region) {
            (Some(account), Some(region)) => Ok(AsffTarget {
                account: account.clone(),
                region: region.clone(),
                product_arn: s.securityhub_product_arn.clone(),
            }),
            _ => Err(
                "ASFF needs the Security Hub's account and region: aws_account_id and \
                      aws_region in the config's [settings]"
                    .into(),
            ),
        }
    }

    fn product_arn(&self) -> String {
        self.product_arn.clone().unwrap_or_else(|| {
            format!(
                "arn:aws:securityhub:{}:{}:product/{}/default",
                self.region, self.account, self.account
            )
        })
    }
}

fn asff_label(s: Severity) -> &'static str {
    match s {
        Severity::Info => "INFORMATIONAL",
        Severity::Low => "LOW",
        Severity::Medium => "MEDIUM",
        Severity::High => "HIGH",
        Severity::Critical => "CRITICAL",
    }
}

/// ASFF's text fields have length limits; a longer value is cut (with a mark).
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max - 1).collect();
    t.push('…');
    t
}

/// One finding as an AWS Security Finding Format document.
pub fn asff_finding(f: &Finding, target: &AsffTarget, now: &str) -> Value {
    let product = target.product_arn();
    let mut types = vec![format!("Unusual Behaviors/Data/{}", cut(&f.family, 100))];
    types.extend(
        techniques(&f.mitre)
            .into_iter()
            .map(|(id, _)| format!("TTPs/MITRE ATT&CK/{id}")),
    );
    let mut resources = Vec::new();
    if let Some(b) = &f.bucket {
        resources.push(
            json!({"Type": "AwsS3Bucket", "Id": format!("arn:aws:s3:::{b}"),
            "Partition": "aws", "Region": target.region}),
        );
    }
    if let Some(p) = f.principal.as_deref().filter(|p| p.starts_with("arn:")) {
        resources.push(json!({"Type": "AwsIamUser", "Id": cut(p, 512), "Partition": "aws", "Region": target.region}));
    }
    if resources.is_empty() {
        resources.push(json!({"Type": "Other", "Id": cut(&f.entity, 512), "Partition": "aws", "Region": target.region}));
    }
    let description = match &f.details {
        Some(d) => format!("{} — {} ({} events)", f.title, d, f.count),
        None => format!("{} ({} events)", f.title, f.count),
    };
    let mut finding = json!({
        "SchemaVersion": "2018-10-08",
        "Id": cut(&format!("s3trawl/{}", f.fingerprint()), 512),
        "ProductArn": product,
        "GeneratorId": cut(&format!("s3trawl/{}", f.detection), 512),
        "AwsAccountId": target.account,
        "Types": types,
        "CreatedAt": now,
        "UpdatedAt": now,
        "Severity": {"Label": asff_label(f.severity)},
        "Title": cut(&f.title, 256),
        "Description": cut(&description, 1024),
        "Resources": resources,
        "ProductFields": {
            "s3trawl/entity": cut(&f.entity, 4096),
            "s3trawl/count": f.count.to_string(),
        },
        "Region": target.region,
    });
    if let Some(t) = &f.first_seen {
        finding["FirstObservedAt"] = json!(t);
    }
    if let Some(t) = &f.last_seen {
        finding["LastObservedAt"] = json!(t);
    }
    // An address CloudTrail gives as a service name (`config.amazonaws.com`) is not one.
    match f.ip.as_deref().map(str::parse::<std::net::IpAddr>) {
        Some(Ok(std::net::IpAddr::V4(ip))) => {
            finding["Network"] = json!({"Direction": "IN", "SourceIpV4": ip.to_string()});
        }
        Some(Ok(std::net::IpAddr::V6(ip))) => {
            finding["Network"] = json!({"Direction": "IN", "SourceIpV6": ip.to_string()});
        }
        _ => {}
    }
    finding
}

/// Findings as ASFF batches, one JSON array of at most [`ASFF_BATCH`] findings per line.
pub fn asff(findings: &[Finding], target: &AsffTarget, now: &str) -> String {
    let mut out = String::new();
    for batch in findings.chunks(ASFF_BATCH) {
        let docs: Vec<Value> = batch.iter().map(|f| asff_finding(f, target, now)).collect();
        out.push_str(&Value::Array(docs).to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn techniques_of_a_detection() {
        assert_eq!(
            techniques(&[
                "T1537 Transfer Data to Cloud Account".into(),
                "T1685.002".into(),
                "not one".into()
            ]),
            [
                (
                    "T1537".to_string(),
                    "Transfer Data to Cloud Account".to_string()
                ),
                ("T1685.002".to_string(), String::new())
            ]
        );
    }
}
