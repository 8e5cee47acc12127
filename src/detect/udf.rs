//! SQL functions the detections use: the config's allow-lists and threat lists, known
//! offensive user agents, and ARN and address helpers.
//!
//! `allowed_ip(ip)`, `allowed_principal(arn)`, `allowed_account(id)`, `allowed_agent(ua)`,
//! `private_bucket(name)` → boolean; `threat_list(ip)` → the list's name or NULL;
//! `offensive_agent(ua)` → the tool or distribution recognised, or NULL; `arn_account(arn)` →
//! the account ID in an ARN; `is_private_ip(ip)` → whether an address is private, loopback or
//! link-local; `ip_in_cidr(ip, cidr)` → boolean; `logging_reduction(eventsource, eventname,
//! requestparameters)` → how a call reduces or redirects logging, or NULL
//! ([`super::logging_change`]).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanBuilder, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;

use super::config::{Config, Network, glob_match, parse_ip};
use super::json_value::as_list;
pub use super::policy::policy_exposure;

type TextFn = dyn Fn(&[&str]) -> Option<Out> + Send + Sync;

enum Out {
    Bool(bool),
    Text(String),
}

/// A function of strings defined by a closure.
struct TextUdf {
    name: &'static str,
    arity: usize,
    returns: DataType,
    f: Arc<TextFn>,
    signature: Signature,
    /// The config the function was made with (see [`encode`]).
    config: Arc<Config>,
}

impl fmt::Debug for TextUdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TextUdf").field("name", &self.name).finish()
    }
}

impl PartialEq for TextUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && Arc::ptr_eq(&self.f, &other.f)
    }
}

impl Eq for TextUdf {}

impl Hash for TextUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

/// Makes the functions bound to one config.
struct Maker<'a> {
    config: &'a Arc<Config>,
    made: Vec<ScalarUDF>,
}

impl Maker<'_> {
    fn udf(
        &mut self,
        name: &'static str,
        arity: usize,
        returns: DataType,
        f: impl Fn(&[&str]) -> Option<Out> + Send + Sync + 'static,
    ) {
        self.made.push(ScalarUDF::from(TextUdf {
            name,
            arity,
            returns,
            f: Arc::new(f),
            signature: Signature::any(arity, Volatility::Immutable),
            config: Arc::clone(self.config),
        }));
    }
}

/// A detection function's definition for a cluster's plan codec: its config's
/// [`Config::function_settings`]; `None` for functions that are not ours.
pub fn encode(udf: &ScalarUDF) -> Option<Vec<u8>> {
    let ours = udf.inner().downcast_ref::<TextUdf>()?;
    Some(ours.config.function_settings())
}

/// The detection function `name` as [`encode`] wrote it.
pub fn decode(name: &str, definition: &[u8]) -> Result<ScalarUDF, String> {
    let config = Arc::new(Config::from_function_settings(definition)?);
    functions(&config)
        .into_iter()
        .find(|f| f.name() == name)
        .ok_or_else(|| format!("no detection function named {name}"))
}

impl ScalarUDFImpl for TextUdf {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.returns.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        if args.args.len() != self.arity {
            return exec_err!("{} takes {} arguments", self.name, self.arity);
        }
        let (arrays, scalar_input) = crate::engine::udf::text_arguments(&args)?;
        let strings: Vec<&arrow::array::StringArray> =
            arrays.iter().map(|a| a.as_string::<i32>()).collect();
        let mut values = Vec::with_capacity(self.arity);
        let out: ArrayRef = match self.returns {
            DataType::Boolean => {
                let mut b = BooleanBuilder::with_capacity(rows);
                for i in 0..rows {
                    if strings.iter().any(|s| s.is_null(i)) {
                        b.append_value(false);
                        continue;
                    }
                    values.clear();
                    values.extend(strings.iter().map(|s| s.value(i)));
                    b.append_value(matches!((self.f)(&values), Some(Out::Bool(true))));
                }
                Arc::new(b.finish())
            }
            _ => {
                let mut b = StringBuilder::with_capacity(rows, rows * 8);
                for i in 0..rows {
                    if strings.iter().any(|s| s.is_null(i)) {
                        b.append_null();
                        continue;
                    }
                    values.clear();
                    values.extend(strings.iter().map(|s| s.value(i)));
                    match (self.f)(&values) {
                        Some(Out::Text(t)) => b.append_value(t),
                        _ => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
        };
        if scalar_input {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

/// Tools and distributions whose user agents mark offensive use, as (pattern, label); matched
/// as case-insensitive substrings. SDKs and ordinary clients are not on it.
pub const OFFENSIVE_AGENTS: &[(&str, &str)] = &[
    ("sqlmap", "sqlmap"),
    ("nikto", "Nikto"),
    ("nmap", "Nmap"),
    ("masscan", "masscan"),
    ("zgrab", "ZGrab"),
    ("nuclei", "Nuclei"),
    ("gobuster", "gobuster"),
    ("dirbuster", "DirBuster"),
    ("feroxbuster", "feroxbuster"),
    ("ffuf", "ffuf"),
    ("wfuzz", "wfuzz"),
    ("hydra", "THC Hydra"),
    ("metasploit", "Metasploit"),
    ("wpscan", "WPScan"),
    ("commix", "commix"),
    ("owasp zap", "OWASP ZAP"),
    ("pacu", "Pacu"),
    ("stratus-red-team", "Stratus Red Team"),
    ("weirdaal", "WeirdAAL"),
    ("cloudfox", "CloudFox"),
    ("s3scanner", "S3Scanner"),
    ("bucket_finder", "bucket_finder"),
    ("lazys3", "lazys3"),
    ("slurp", "slurp"),
    ("kali", "Kali Linux"),
    ("parrotsec", "Parrot OS"),
    ("parrot/", "Parrot OS"),
    ("pentoo", "Pentoo"),
    ("blackarch", "BlackArch"),
];

pub fn offensive_agent(agent: &str, extra: &[String]) -> Option<String> {
    let lower = agent.to_ascii_lowercase();
    OFFENSIVE_AGENTS
        .iter()
        .find(|(pattern, _)| lower.contains(pattern))
        .map(|(_, label)| (*label).to_string())
        .or_else(|| {
            extra
                .iter()
                .find(|p| lower.contains(&p.to_ascii_lowercase()))
                .cloned()
        })
}

/// The account ID of an ARN (`arn:partition:service:region:account:resource`).
pub fn arn_account(arn: &str) -> Option<&str> {
    let account = arn.strip_prefix("arn:")?.split(':').nth(3)?;
    (!account.is_empty()).then_some(account)
}

pub fn is_private_ip(ip: &str) -> bool {
    match parse_ip(ip) {
        Some(std::net::IpAddr::V4(a)) => {
            a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.octets()[0] == 100 && (64..128).contains(&a.octets()[1])
        }
        Some(std::net::IpAddr::V6(a)) => {
            a.is_loopback()
                || (a.segments()[0] & 0xfe00) == 0xfc00
                || (a.segments()[0] & 0xffc0) == 0xfe80
        }
        None => false,
    }
}

/// The shortest expiration (in days) of the enabled rules of a lifecycle configuration in a
/// request's parameters.
pub fn min_expiration_days(params: &str) -> Option<i64> {
    let params: serde_json::Value = serde_json::from_str(params).ok()?;
    let config = params.get("LifecycleConfiguration")?;
    let number = |v: Option<&serde_json::Value>| -> Option<i64> {
        match v? {
            serde_json::Value::Number(n) => n.as_i64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    };
    as_list(config.get("Rule")?)
        .into_iter()
        .filter(|rule| {
            rule.get("Status")
                .and_then(|s| s.as_str())
                .is_none_or(|s| s.eq_ignore_ascii_case("enabled"))
        })
        .flat_map(|rule| {
            [
                number(rule.get("Expiration").and_then(|e| e.get("Days"))),
                number(
                    rule.get("NoncurrentVersionExpiration")
                        .and_then(|e| e.get("NoncurrentDays")),
                ),
            ]
        })
        .flatten()
        .min()
}

/// Registers the functions, bound to `config`.
pub fn register(ctx: &SessionContext, config: &Arc<Config>) {
    for f in functions(config) {
        ctx.register_udf(f);
    }
}

/// The functions, bound to `config`.
pub fn functions(config: &Arc<Config>) -> Vec<ScalarUDF> {
    let mut m = Maker {
        config,
        made: Vec::new(),
    };
    let c = Arc::clone(config);
    m.udf("allowed_ip", 1, DataType::Boolean, move |a| {
        Some(Out::Bool(c.ip_allowed(a[0])))
    });
    let c = Arc::clone(config);
    m.udf("allowed_principal", 1, DataType::Boolean, move |a| {
        Some(Out::Bool(c.principal_allowed(a[0])))
    });
    let c = Arc::clone(config);
    m.udf("allowed_account", 1, DataType::Boolean, move |a| {
        Some(Out::Bool(c.account_allowed(a[0])))
    });
    let c = Arc::clone(config);
    m.udf("allowed_agent", 1, DataType::Boolean, move |a| {
        Some(Out::Bool(c.agent_allowed(a[0])))
    });
    let c = Arc::clone(config);
    m.udf("allowed_request", 4, DataType::Boolean, move |a| {
        Some(Out::Bool(c.request_allowed(a[0], a[1], a[2], a[3])))
    });
    let c = Arc::clone(config);
    m.udf("private_bucket", 1, DataType::Boolean, move |a| {
        Some(Out::Bool(
            c.settings
                .private_buckets
                .iter()
                .any(|p| glob_match(p, a[0])),
        ))
    });
    let c = Arc::clone(config);
    m.udf("threat_list", 1, DataType::Utf8, move |a| {
        c.threat_list(a[0]).map(|n| Out::Text(n.to_string()))
    });
    let c = Arc::clone(config);
    m.udf("offensive_agent", 1, DataType::Utf8, move |a| {
        offensive_agent(a[0], &c.settings.offensive_user_agents).map(Out::Text)
    });
    m.udf("arn_account", 1, DataType::Utf8, |a| {
        arn_account(a[0]).map(|s| Out::Text(s.to_string()))
    });
    m.udf("is_private_ip", 1, DataType::Boolean, |a| {
        Some(Out::Bool(is_private_ip(a[0])))
    });
    // Sigma's |cidr: whether an address is in a range (false for text that is not one).
    m.udf("cidr_match", 2, DataType::Boolean, |a| {
        let ip = a[0].trim().parse::<std::net::IpAddr>().ok();
        let net = Network::parse(a[1]).ok();
        Some(Out::Bool(
            matches!((ip, net), (Some(ip), Some(n)) if n.contains(ip)),
        ))
    });
    m.udf("policy_exposure", 2, DataType::Utf8, |a| {
        policy_exposure(a[0], a[1]).map(Out::Text)
    });
    m.udf("logging_reduction", 3, DataType::Utf8, |a| {
        super::logging_change::logging_reduction(a[0], a[1], a[2]).map(Out::Text)
    });
    m.udf("min_expiration_days", 1, DataType::Utf8, |a| {
        min_expiration_days(a[0]).map(|d| Out::Text(d.to_string()))
    });
    m.udf("ip_in_cidr", 2, DataType::Boolean, |a| {
        let (Some(ip), Ok(net)) = (parse_ip(a[0]), Network::parse(a[1])) else {
            return Some(Out::Bool(false));
        };
        Some(Out::Bool(net.contains(ip)))
    });
    m.made
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycles() {
        let one =
            r#"{"LifecycleConfiguration":{"Rule":{"Expiration":{"Days":1},"Status":"Enabled"}}}"#;
        assert_eq!(min_expiration_days(one), Some(1));
        let disabled =
            r#"{"LifecycleConfiguration":{"Rule":{"Expiration":{"Days":1},"Status":"Disabled"}}}"#;
        assert_eq!(min_expiration_days(disabled), None);
        let many = r#"{"LifecycleConfiguration":{"Rule":[{"Expiration":{"Days":"30"},"Status":"Enabled"},{"NoncurrentVersionExpiration":{"NoncurrentDays":3},"Status":"Enabled"}]}}"#;
        assert_eq!(min_expiration_days(many), Some(3));
    }

    #[test]
    fn helpers() {
        assert_eq!(
            arn_account("arn:aws:iam::123456789012:user/a"),
            Some("123456789012")
        );
        assert_eq!(arn_account("arn:aws:s3:::bucket"), None);
        assert_eq!(
            arn_account("arn:aws-us-gov:sts::210987654321:assumed-role/r/s"),
            Some("210987654321")
        );
        assert!(
            is_private_ip("10.1.2.3")
                && is_private_ip("192.168.0.1")
                && is_private_ip("127.0.0.1")
                && is_private_ip("fd00::1")
        );
        assert!(!is_private_ip("8.8.8.8") && !is_private_ip("AWS Internal"));
        assert_eq!(
            offensive_agent("sqlmap/1.8.2#stable (https://sqlmap.org)", &[]).as_deref(),
            Some("sqlmap")
        );
        assert_eq!(
            offensive_agent(
                "aws-cli/1.29.16 Python/3.11.2 Linux/6.5.0-kali3-amd64 botocore/1.31.16",
                &[]
            )
            .as_deref(),
            Some("Kali Linux")
        );
        assert_eq!(
            offensive_agent("aws-sdk-java/2.25.60 Linux/5.10", &[]),
            None
        );
        assert_eq!(
            offensive_agent("custom-scanner/1.0", &["custom-scanner".into()]).as_deref(),
            Some("custom-scanner")
        );
    }
}
