//! What a call does to logging, judged from its request: whether it reduces or redirects what is
//! logged, and how. The tampering detections use it (SQL `logging_reduction(eventsource,
//! eventname, requestparameters)`), so that a call made to add coverage, or one that fails on
//! its own misconfiguration, is not taken for tampering, while every call that reduces logging
//! is, whether it succeeded or not.
//!
//! In: a CloudTrail record's event source, event name and request parameters (JSON text).
//! Out: `None` when the call does not reduce or redirect logging, else a short description
//! ("logging stopped", "multi-region off", "delivery moved to bucket x", …).
//!
//! Treated as reducing (from the CloudTrail API reference: `UpdateTrail`, `PutEventSelectors`,
//! `PutAdvancedEventSelectors`, `UpdateEventDataStore`; and S3's `PutBucketLogging`):
//! - a trail stopped or deleted; an event data store deleted or its ingestion stopped;
//! - `UpdateTrail` moving delivery (a bucket or prefix given), turning multi-region, global
//!   service events, organization-wide logging or log file validation off, changing the KMS key,
//!   or removing CloudWatch Logs delivery (an empty log group);
//! - event selectors removed altogether, or that drop management events, record only reads or only writes, or exclude
//!   management events; advanced event selectors that no longer select S3 object data events;
//! - an event data store made single-region or unprotected against termination;
//! - `PutBucketLogging` without `LoggingEnabled` (server access logging off).
//!
//! Not reducing: `UpdateTrail` adding CloudWatch Logs delivery or an SNS topic, `StartLogging`,
//! selectors that keep management events for reads and writes, and any other call.

use serde_json::Value;

use super::json_value::as_list;

/// How the call reduces or redirects logging, or `None`.
pub fn logging_reduction(source: &str, name: &str, params: &str) -> Option<String> {
    let p: Value = serde_json::from_str(params).unwrap_or(Value::Null);
    match (source, name) {
        ("cloudtrail.amazonaws.com", "StopLogging") => Some("logging stopped".into()),
        ("cloudtrail.amazonaws.com", "DeleteTrail") => Some("trail deleted".into()),
        ("cloudtrail.amazonaws.com", "DeleteEventDataStore") => {
            Some("event data store deleted".into())
        }
        ("cloudtrail.amazonaws.com", "StopEventDataStoreIngestion") => {
            Some("event data store ingestion stopped".into())
        }
        ("cloudtrail.amazonaws.com", "UpdateTrail") => joined(update_trail(&p)),
        ("cloudtrail.amazonaws.com", "PutEventSelectors") => joined(event_selectors(&p)),
        ("cloudtrail.amazonaws.com", "PutAdvancedEventSelectors") => advanced_selectors(&p),
        ("cloudtrail.amazonaws.com", "UpdateEventDataStore") => {
            let mut how = Vec::new();
            if is_false(&p["multiRegionEnabled"]) {
                how.push("multi-region off".to_string());
            }
            if is_false(&p["terminationProtectionEnabled"]) {
                how.push("termination protection off".to_string());
            }
            joined(how)
        }
        ("s3.amazonaws.com", "PutBucketLogging") => {
            let status = &p["BucketLoggingStatus"];
            (status.get("LoggingEnabled").is_none_or(Value::is_null))
                .then(|| "server access logging off".to_string())
        }
        _ => None,
    }
}

fn joined(how: Vec<String>) -> Option<String> {
    (!how.is_empty()).then(|| how.join(", "))
}

/// `false`, as JSON or as text.
fn is_false(v: &Value) -> bool {
    match v {
        Value::Bool(b) => !b,
        Value::String(s) => s.eq_ignore_ascii_case("false"),
        _ => false,
    }
}

fn text(v: &Value) -> Option<&str> {
    v.as_str()
}

fn update_trail(p: &Value) -> Vec<String> {
    let mut how = Vec::new();
    if let Some(bucket) = text(&p["s3BucketName"]) {
        how.push(format!("delivery moved to bucket {bucket}"));
    }
    if let Some(prefix) = text(&p["s3KeyPrefix"]) {
        how.push(format!("delivery prefix set to {prefix:?}"));
    }
    for (field, what) in [
        ("isMultiRegionTrail", "multi-region off"),
        ("includeGlobalServiceEvents", "global service events off"),
        ("isOrganizationTrail", "organization trail off"),
        ("enableLogFileValidation", "log file validation off"),
    ] {
        if is_false(&p[field]) {
            how.push(what.to_string());
        }
    }
    if let Some(key) = text(&p["kmsKeyId"]) {
        how.push(if key.is_empty() {
            "log encryption removed".to_string()
        } else {
            format!("log encryption key changed to {key}")
        });
    }
    if text(&p["cloudWatchLogsLogGroupArn"]).is_some_and(str::is_empty) {
        how.push("CloudWatch Logs delivery removed".to_string());
    }
    how
}

fn event_selectors(p: &Value) -> Vec<String> {
    let mut how = Vec::new();
    if p["eventSelectors"].as_array().is_some_and(Vec::is_empty)
        && as_list(&p["advancedEventSelectors"]).is_empty()
    {
        how.push("every event selector removed".to_string());
    }
    for s in as_list(&p["eventSelectors"]) {
        if is_false(&s["includeManagementEvents"]) {
            how.push("management events dropped".to_string());
        }
        match text(&s["readWriteType"]) {
            Some(t) if t.eq_ignore_ascii_case("ReadOnly") => {
                how.push("only reads recorded".to_string())
            }
            Some(t) if t.eq_ignore_ascii_case("WriteOnly") => {
                how.push("only writes recorded".to_string())
            }
            _ => {}
        }
    }
    if let Some(a) = advanced_selectors(p) {
        how.push(a);
    }
    how.sort();
    how.dedup();
    how
}

/// Advanced selectors that select no S3 object data events, or exclude management events.
fn advanced_selectors(p: &Value) -> Option<String> {
    let selectors = as_list(&p["advancedEventSelectors"]);
    if selectors.is_empty() {
        return None;
    }
    let s3_data = selectors.iter().any(|s| {
        as_list(&s["fieldSelectors"]).iter().any(|f| {
            text(&f["field"]) == Some("resources.type")
                && as_list(&f["equals"])
                    .iter()
                    .any(|v| text(v) == Some("AWS::S3::Object"))
        })
    });
    (!s3_data).then(|| "S3 data events no longer selected".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: &str = "cloudtrail.amazonaws.com";

    #[test]
    fn adding_cloudwatch_delivery_is_not_a_reduction() {
        // The real lab's root calls, refused with InvalidCloudWatchLogsRoleArnException.
        let adding = r#"{"name":"management-events","cloudWatchLogsLogGroupArn":"arn:aws:logs:us-east-1:111122223333:log-group:aws-cloudtrail-logs:*","cloudWatchLogsRoleArn":"arn:aws:iam::111122223333:role/CloudTrailRoleForCloudWatchLogs"}"#;
        assert_eq!(logging_reduction(CT, "UpdateTrail", adding), None);
        assert_eq!(
            logging_reduction(CT, "UpdateTrail", r#"{"name":"t","snsTopicName":"x"}"#),
            None
        );
        assert_eq!(
            logging_reduction(CT, "StartLogging", r#"{"name":"t"}"#),
            None
        );
    }

    #[test]
    fn every_reducing_update_is_named() {
        let r = |p: &str| logging_reduction(CT, "UpdateTrail", p).unwrap_or_default();
        assert!(r(r#"{"name":"t","s3BucketName":"attacker-bucket"}"#).contains("attacker-bucket"));
        assert!(r(r#"{"name":"t","s3KeyPrefix":"elsewhere"}"#).contains("prefix"));
        assert_eq!(
            r(r#"{"name":"t","isMultiRegionTrail":false}"#),
            "multi-region off"
        );
        assert_eq!(
            r(r#"{"name":"t","enableLogFileValidation":"false"}"#),
            "log file validation off"
        );
        assert_eq!(
            r(r#"{"name":"t","includeGlobalServiceEvents":false}"#),
            "global service events off"
        );
        assert!(r(r#"{"name":"t","kmsKeyId":"arn:aws:kms:x"}"#).contains("key changed"));
        assert_eq!(
            r(r#"{"name":"t","cloudWatchLogsLogGroupArn":""}"#),
            "CloudWatch Logs delivery removed"
        );
        assert_eq!(
            r(r#"{"name":"t","isMultiRegionTrail":true,"enableLogFileValidation":true}"#),
            ""
        );
    }

    #[test]
    fn selectors_that_narrow_and_that_keep() {
        let r = |n: &str, p: &str| logging_reduction(CT, n, p);
        assert_eq!(
            r(
                "PutEventSelectors",
                r#"{"eventSelectors":[{"readWriteType":"All","includeManagementEvents":true}]}"#
            ),
            None
        );
        assert_eq!(
            r("PutEventSelectors", r#"{"eventSelectors":[{"readWriteType":"ReadOnly","includeManagementEvents":true}]}"#).as_deref(),
            Some("only reads recorded")
        );
        assert_eq!(
            r(
                "PutEventSelectors",
                r#"{"eventSelectors":[{"readWriteType":"All","includeManagementEvents":false}]}"#
            )
            .as_deref(),
            Some("management events dropped")
        );
        assert_eq!(
            r(
                "PutEventSelectors",
                r#"{"trailName":"t","eventSelectors":[]}"#
            )
            .as_deref(),
            Some("every event selector removed")
        );
        let keep = r#"{"advancedEventSelectors":[{"fieldSelectors":[{"field":"eventCategory","equals":["Data"]},{"field":"resources.type","equals":["AWS::S3::Object"]}]}]}"#;
        assert_eq!(r("PutAdvancedEventSelectors", keep), None);
        let drop = r#"{"advancedEventSelectors":[{"fieldSelectors":[{"field":"eventCategory","equals":["Management"]}]}]}"#;
        assert!(r("PutAdvancedEventSelectors", drop).is_some());
    }

    #[test]
    fn stops_deletes_and_access_logging_off() {
        assert!(logging_reduction(CT, "StopLogging", "{}").is_some());
        assert!(logging_reduction(CT, "DeleteTrail", "not json").is_some());
        let off = r#"{"bucketName":"b","BucketLoggingStatus":{"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/"}}"#;
        assert_eq!(
            logging_reduction("s3.amazonaws.com", "PutBucketLogging", off).as_deref(),
            Some("server access logging off")
        );
        let on = r#"{"bucketName":"b","BucketLoggingStatus":{"LoggingEnabled":{"TargetBucket":"logs","TargetPrefix":"b/"}}}"#;
        assert_eq!(
            logging_reduction("s3.amazonaws.com", "PutBucketLogging", on),
            None
        );
        assert_eq!(
            logging_reduction("s3.amazonaws.com", "GetObject", "{}"),
            None
        );
    }
}
