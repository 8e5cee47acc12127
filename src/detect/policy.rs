//! Whether a bucket policy makes the bucket public, or shares it with other accounts, as AWS
//! defines it for Block Public Access and IAM Access Analyzer.
//!
//! In: the request parameters of a policy change (the policy as an object or as JSON text) and
//! the bucket owner's account. Out: `public`, `external:<accounts>`, or nothing.
//!
//! AWS (S3 API reference, `PublicAccessBlockConfiguration`; S3 User Guide, "The meaning of
//! public") considers a policy public unless every statement that allows a wildcard principal
//! is confined by one of: `aws:SourceIp` limited to a set of CIDR blocks, or a fixed value
//! (no wildcard, no policy variable) of a principal or source key: `aws:PrincipalArn`,
//! `aws:PrincipalAccount`, `aws:PrincipalOrgID`, `aws:SourceArn`, `aws:SourceVpc`,
//! `aws:SourceVpce`, `aws:SourceOwner`, `aws:SourceAccount`, `aws:userid` (outside the
//! pattern `AROLEID:*`), `s3:x-amz-server-side-encryption-aws-kms-key-id`,
//! `s3:DataAccessPointArn`, `s3:DataAccessPointAccount`. So these do not confine, and the
//! statement stays public: a CIDR of the whole address space (`0.0.0.0/0`, `::/0`), a
//! wildcard value (`StringLike aws:PrincipalArn *`), a negated operator (`StringNotEquals`,
//! `NotIpAddress`), an `…IfExists` or `ForAllValues:` operator (true when the key is absent),
//! `Null` conditions, and any other key. An `Allow` with `NotPrincipal` allows everyone but the
//! principals named: public.

use serde_json::Value;

use super::json_value::as_list;
use super::udf::arn_account;

/// Keys whose fixed values confine a statement with a wildcard principal (lower case).
const CONFINING_KEYS: &[&str] = &[
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:userid",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

/// The policy in a request's parameters: an object, or a JSON string holding one.
fn policy_in(params: &Value) -> Option<Value> {
    for key in [
        "bucketPolicy",
        "policy",
        "policyText",
        "resourcePolicy",
        "Policy",
        "accessPolicies",
    ] {
        match params.get(key) {
            Some(v @ Value::Object(_)) => return Some(v.clone()),
            Some(Value::String(s)) if s.trim_start().starts_with('{') => {
                if let Ok(v) = serde_json::from_str(s) {
                    return Some(v);
                }
            }
            _ => {}
        }
    }
    None
}

/// `public` if the policy in `params` allows everyone (see the module's rules), else
/// `external:<accounts>` if it names principals of accounts other than `owner`, else `None`.
pub fn policy_exposure(params: &str, owner: &str) -> Option<String> {
    let params: Value = serde_json::from_str(params).ok()?;
    let policy = policy_in(&params)?;
    let mut external = std::collections::BTreeSet::new();
    for statement in as_list(policy.get("Statement")?) {
        let allows = statement
            .get("Effect")
            .and_then(Value::as_str)
            .is_some_and(|e| e.eq_ignore_ascii_case("allow"));
        if !allows {
            continue;
        }
        if statement.get("NotPrincipal").is_some() {
            return Some("public".into());
        }
        let principals = principals(statement.get("Principal"));
        let confined = statement.get("Condition").is_some_and(confines);
        for p in principals {
            if p.contains('*') {
                if !confined {
                    return Some("public".into());
                }
            } else if let Some(a) = account_of(&p)
                && a != owner
            {
                external.insert(a);
            }
        }
    }
    (!external.is_empty()).then(|| {
        format!(
            "external:{}",
            external.into_iter().collect::<Vec<_>>().join(",")
        )
    })
}

/// The AWS and canonical-user principals of a statement (services are AWS's own).
fn principals(principal: Option<&Value>) -> Vec<String> {
    match principal {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Object(map)) => map
            .iter()
            .filter(|(k, _)| {
                k.eq_ignore_ascii_case("AWS") || k.eq_ignore_ascii_case("CanonicalUser")
            })
            .flat_map(|(_, v)| {
                as_list(v)
                    .into_iter()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The twelve-digit account a principal names (an ARN's, or the bare number). CloudFront's
/// `arn:aws:iam::cloudfront:user/…` names no customer account.
fn account_of(p: &str) -> Option<String> {
    let account = arn_account(p).unwrap_or(p);
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        .then(|| account.to_string())
}

/// Whether a statement's `Condition` confines a wildcard principal (the module's rules).
fn confines(condition: &Value) -> bool {
    let Some(operators) = condition.as_object() else {
        return false;
    };
    operators.iter().any(|(operator, keys)| {
        let op = operator.to_ascii_lowercase();
        // Only positive matches confine; `…IfExists` and `ForAllValues:` hold when the key is
        // absent, `Null` only asks whether it is.
        let op = op.strip_prefix("foranyvalue:").unwrap_or(&op);
        if op.ends_with("ifexists") || op.starts_with("forallvalues:") {
            return false;
        }
        let Some(keys) = keys.as_object() else {
            return false;
        };
        keys.iter().any(|(key, values)| {
            let key = key.to_ascii_lowercase();
            let values = as_list(values);
            if values.is_empty() {
                return false;
            }
            if key == "aws:sourceip" {
                return op == "ipaddress"
                    && values.iter().all(|v| v.as_str().is_some_and(narrow_cidr));
            }
            CONFINING_KEYS.contains(&key.as_str())
                && matches!(
                    op,
                    "stringequals"
                        | "stringequalsignorecase"
                        | "stringlike"
                        | "arnequals"
                        | "arnlike"
                )
                && values.iter().all(|v| {
                    v.as_str()
                        .is_some_and(|s| fixed(s) && !(key == "aws:userid" && s.ends_with(":*")))
                })
        })
    })
}

/// A value without a wildcard or a policy variable.
fn fixed(s: &str) -> bool {
    !s.is_empty() && !s.contains(['*', '?']) && !s.contains("${")
}

/// A CIDR block (or address) that is not the whole address space.
fn narrow_cidr(s: &str) -> bool {
    let (addr, prefix) = s.split_once('/').unwrap_or((s, ""));
    let Ok(addr) = addr.trim().parse::<std::net::IpAddr>() else {
        return false;
    };
    match prefix.trim() {
        "" => true,
        p => p
            .parse::<u8>()
            .is_ok_and(|p| p > 0 && p <= if addr.is_ipv4() { 32 } else { 128 }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies() {
        let public = r#"{"bucketName":"b","bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject"}]}}"#;
        assert_eq!(policy_exposure(public, "1").as_deref(), Some("public"));
        let confined = r#"{"bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}}"#;
        assert_eq!(policy_exposure(confined, "1"), None);
        let external = r#"{"bucketPolicy":{"Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::222222222222:root","arn:aws:iam::111111111111:role/r"]},"Action":"s3:*"}}}"#;
        assert_eq!(
            policy_exposure(external, "111111111111").as_deref(),
            Some("external:222222222222")
        );
        let service = r#"{"bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject"}]}}"#;
        assert_eq!(policy_exposure(service, "1"), None);
        let as_text = r#"{"policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\"}]}"}"#;
        assert_eq!(policy_exposure(as_text, "1").as_deref(), Some("public"));
        assert_eq!(policy_exposure(r#"{"bucketPolicy":"invalid"}"#, "1"), None);
        assert_eq!(policy_exposure("null", "1"), None);
    }

    /// Each form AWS counts as public, one by one (the issue's crafted policies among them).
    #[test]
    fn what_aws_counts_as_public() {
        let statement = |s: &str| {
            format!(
                r#"{{"bucketName":"b","bucketPolicy":{{"Version":"2012-10-17","Statement":[{s}]}}}}"#
            )
        };
        let with = |cond: &str| {
            statement(&format!(
                r#"{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{cond}}}"#
            ))
        };
        let public = Some("public".to_string());
        for cond in [
            r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#,
            r#"{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","::/0"]}}"#,
            r#"{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            r#"{"Null":{"aws:SourceVpce":"true"}}"#,
            r#"{"StringLike":{"aws:PrincipalArn":"*"}}"#,
            r#"{"StringLike":{"aws:SourceVpc":"vpc-*"}}"#,
            r#"{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc"}}"#,
            r#"{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1a2b3c"}}"#,
            r#"{"ForAllValues:StringEquals":{"aws:PrincipalOrgID":"o-abc"}}"#,
            r#"{"StringEquals":{"aws:PrincipalAccount":"${aws:username}"}}"#,
            r#"{"StringLike":{"aws:userid":"AROAEXAMPLEID:*"}}"#,
            r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
        ] {
            assert_eq!(
                policy_exposure(&with(cond), "111122223333"),
                public,
                "{cond}"
            );
        }
        let not_principal = statement(
            r#"{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:*","Resource":"*"}"#,
        );
        assert_eq!(policy_exposure(&not_principal, "111122223333"), public);
        let partial = statement(
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::*:root"},"Action":"s3:GetObject"}"#,
        );
        assert_eq!(policy_exposure(&partial, "111122223333"), public);
    }

    /// Each key AWS counts as confining, with a fixed value: not public.
    #[test]
    fn what_aws_counts_as_confined() {
        let with = |cond: &str| {
            format!(
                r#"{{"bucketPolicy":{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"*"}},"Action":"s3:GetObject","Condition":{cond}}}]}}}}"#
            )
        };
        for cond in [
            r#"{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:db8::/32"]}}"#,
            r#"{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}"#,
            r#"{"StringEquals":{"aws:SourceVpc":"vpc-91237329"}}"#,
            r#"{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#,
            r#"{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}"#,
            r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/app"}}"#,
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:cloudfront::111122223333:distribution/E1"}}"#,
            r#"{"StringEquals":{"aws:SourceAccount":"111122223333"}}"#,
            r#"{"StringEquals":{"aws:userid":"AIDAEXAMPLE"}}"#,
            r#"{"StringEquals":{"s3:DataAccessPointAccount":"111122223333"}}"#,
            r#"{"ForAnyValue:StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}"#,
        ] {
            assert_eq!(policy_exposure(&with(cond), "111122223333"), None, "{cond}");
        }
    }
}
