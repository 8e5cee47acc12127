//! The detection config file (TOML): allow-lists, threat lists and per-detection settings.
//!
//! ```toml
//! [allow]
//! ips = ["10.0.0.0/8", "192.0.2.10"]          # addresses or CIDR ranges
//! principals = ["arn:aws:iam::111122223333:role/backup-*"]   # * matches anything
//! accounts = ["111122223333"]
//! user_agents = ["*Veeam*"]
//!
//! [[threat_lists]]
//! name = "tor-exits"
//! file = "tor-exit-nodes.txt"                  # one address or CIDR per line; # comments
//!
//! [detections.mass-delete]
//! severity = "critical"                        # override the severity
//! threshold = 500                              # any other key overrides a parameter
//!
//! [detections.acl-dependent-requests]
//! enabled = false
//!
//! [settings]
//! baseline_days = 14
//! private_buckets = ["payroll-*"]              # buckets that must never be read anonymously
//! ```
//!
//! Relative `file` paths are read relative to the config file.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Param, Severity};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    #[serde(default)]
    pub ips: Vec<String>,
    #[serde(default)]
    pub principals: Vec<String>,
    #[serde(default)]
    pub accounts: Vec<String>,
    #[serde(default)]
    pub user_agents: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreatListSpec {
    pub name: String,
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// Addresses or ranges given inline.
    #[serde(default)]
    pub entries: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub baseline_days: Option<u32>,
    #[serde(default)]
    pub private_buckets: Vec<String>,
    #[serde(default)]
    pub offensive_user_agents: Vec<String>,
    /// Requests in flight to S3 (`--s3-concurrency` wins).
    pub s3_concurrency: Option<u16>,
    /// The account and region of the Security Hub that imports ASFF findings (`--format asff`).
    pub aws_account_id: Option<String>,
    pub aws_region: Option<String>,
    /// The product ARN of ASFF findings (default: the account's `default` product).
    pub securityhub_product_arn: Option<String>,
    /// The memory budget of a run (`--memory-limit` and S3TRAWL_MEMORY_LIMIT win), e.g. "4GiB".
    pub memory_limit: Option<String>,
    /// Where `report` posts its digest of new findings (`--webhook` and S3TRAWL_WEBHOOK_URL
    /// win); kept out of `config show`.
    pub webhook_url: Option<String>,
}

/// Settings of one detection: `enabled`, `severity`, and parameter values.
#[derive(Debug, Clone, Default)]
pub struct DetectionSettings {
    pub enabled: Option<bool>,
    pub severity: Option<Severity>,
    pub params: BTreeMap<String, Param>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    allow: Allow,
    #[serde(default)]
    threat_lists: Vec<ThreatListSpec>,
    #[serde(default)]
    detections: BTreeMap<String, toml::Table>,
    #[serde(default)]
    settings: Settings,
    /// Sigma rule files or folders, run with the pack.
    #[serde(default)]
    sigma: Vec<PathBuf>,
}

/// The whole config, threat lists loaded.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub allow: Allow,
    pub allowed_networks: Vec<Network>,
    pub threat_lists: Vec<(String, Vec<Network>)>,
    pub detections: BTreeMap<String, DetectionSettings>,
    pub settings: Settings,
    /// Sigma rule files or folders (relative ones resolved from the config's folder).
    pub sigma: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
#[error("config {path}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let err = |message: String| ConfigError {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        Self::parse(&text, path.parent().unwrap_or(Path::new("."))).map_err(|e| err(e.message))
    }

    /// Parses config text; relative threat-list files are read from `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Config, ConfigError> {
        let err = |message: String| ConfigError {
            path: String::new(),
            message,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let allowed_networks = raw
            .allow
            .ips
            .iter()
            .map(|s| Network::parse(s).map_err(&err))
            .collect::<Result<_, _>>()?;
        let mut threat_lists = Vec::new();
        for spec in &raw.threat_lists {
            let mut networks: Vec<Network> = spec
                .entries
                .iter()
                .map(|s| Network::parse(s).map_err(&err))
                .collect::<Result<_, _>>()?;
            if let Some(file) = &spec.file {
                let path = if file.is_absolute() {
                    file.clone()
                } else {
                    base.join(file)
                };
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| err(format!("threat list {}: {e}", path.display())))?;
                for (n, line) in text.lines().enumerate() {
                    let entry = line.split('#').next().unwrap_or("").trim();
                    if entry.is_empty() {
                        continue;
                    }
                    networks.push(
                        Network::parse(entry)
                            .map_err(|e| err(format!("{}:{}: {e}", path.display(), n + 1)))?,
                    );
                }
            }
            threat_lists.push((spec.name.clone(), networks));
        }
        let mut detections = BTreeMap::new();
        for (id, table) in raw.detections {
            let mut settings = DetectionSettings::default();
            for (key, value) in table {
                match key.as_str() {
                    "enabled" => {
                        settings.enabled = Some(value.as_bool().ok_or_else(|| {
                            err(format!("detections.{id}.enabled must be true or false"))
                        })?)
                    }
                    "severity" => {
                        let s = value.as_str().ok_or_else(|| {
                            err(format!("detections.{id}.severity must be a string"))
                        })?;
                        settings.severity =
                            Some(s.parse().map_err(|e: String| {
                                err(format!("detections.{id}.severity: {e}"))
                            })?);
                    }
                    _ => {
                        let param = toml_param(value).ok_or_else(|| {
                            err(format!(
                                "detections.{id}.{key}: a parameter is an integer, a number, a string or a list of them"
                            ))
                        })?;
                        settings.params.insert(key, param);
                    }
                }
            }
            detections.insert(id, settings);
        }
        Ok(Config {
            allow: raw.allow,
            allowed_networks,
            threat_lists,
            detections,
            settings: raw.settings,
            sigma: raw.sigma.iter().map(|p| base.join(p)).collect(),
        })
    }

    pub fn ip_allowed(&self, ip: &str) -> bool {
        parse_ip(ip).is_some_and(|ip| self.allowed_networks.iter().any(|n| n.contains(ip)))
    }

    pub fn principal_allowed(&self, principal: &str) -> bool {
        self.allow
            .principals
            .iter()
            .any(|p| glob_match(p, principal))
    }

    pub fn account_allowed(&self, account: &str) -> bool {
        self.allow.accounts.iter().any(|a| a == account)
    }

    /// Whether any allow-list has an entry.
    pub fn has_allow_lists(&self) -> bool {
        !self.allowed_networks.is_empty()
            || !self.allow.principals.is_empty()
            || !self.allow.accounts.is_empty()
            || !self.allow.user_agents.is_empty()
    }

    /// The one rule of the allow-lists: a request is left out of every detection when its
    /// address, its principal, its principal's account (or the account given) or its user
    /// agent is on an allow-list. It is judged request by request, before anything is
    /// counted or grouped, so a group of requests is left out only when every one of them is
    /// (one decoy request with an allowed user agent hides nothing else). Empty means absent.
    pub fn request_allowed(&self, ip: &str, principal: &str, agent: &str, account: &str) -> bool {
        let account = if account.is_empty() {
            super::udf::arn_account(principal).unwrap_or_default()
        } else {
            account
        };
        (!ip.is_empty() && self.ip_allowed(ip))
            || (!principal.is_empty() && self.principal_allowed(principal))
            || (!account.is_empty() && self.account_allowed(account))
            || (!agent.is_empty() && self.agent_allowed(agent))
    }

    pub fn agent_allowed(&self, agent: &str) -> bool {
        self.allow.user_agents.iter().any(|p| glob_match(p, agent))
    }

    /// What the detection functions read of the config ([`super::udf`]), as bytes: how a
    /// function bound to this config reaches a cluster's scheduler and executors.
    pub fn function_settings(&self) -> Vec<u8> {
        let nets = |n: &[Network]| n.iter().map(Network::to_string).collect::<Vec<_>>();
        let settings = FunctionSettings {
            allow: self.allow.clone(),
            allowed_networks: nets(&self.allowed_networks),
            threat_lists: self
                .threat_lists
                .iter()
                .map(|(name, n)| (name.clone(), nets(n)))
                .collect(),
            private_buckets: self.settings.private_buckets.clone(),
            offensive_user_agents: self.settings.offensive_user_agents.clone(),
        };
        serde_json::to_vec(&settings).expect("plain data serialises")
    }

    /// The config [`Self::function_settings`] wrote (its other parts empty).
    pub fn from_function_settings(bytes: &[u8]) -> Result<Config, String> {
        let s: FunctionSettings =
            serde_json::from_slice(bytes).map_err(|e| format!("function settings: {e}"))?;
        let nets = |n: Vec<String>| {
            n.iter()
                .map(|n| Network::parse(n))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Config {
            allow: s.allow,
            allowed_networks: nets(s.allowed_networks)?,
            threat_lists: s
                .threat_lists
                .into_iter()
                .map(|(name, n)| Ok((name, nets(n)?)))
                .collect::<Result<_, String>>()?,
            settings: Settings {
                private_buckets: s.private_buckets,
                offensive_user_agents: s.offensive_user_agents,
                ..Settings::default()
            },
            ..Config::default()
        })
    }

    /// The name of the first threat list holding `ip`.
    pub fn threat_list(&self, ip: &str) -> Option<&str> {
        let ip = parse_ip(ip)?;
        self.threat_lists
            .iter()
            .find(|(_, nets)| nets.iter().any(|n| n.contains(ip)))
            .map(|(name, _)| name.as_str())
    }
}

/// `*` matches any run of characters; everything else matches itself (case-sensitive).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// An address, or a CIDR range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The parts of a [`Config`] the detection functions read, as [`Config::function_settings`]
/// writes them.
#[derive(Serialize, Deserialize)]
struct FunctionSettings {
    allow: Allow,
    allowed_networks: Vec<String>,
    threat_lists: Vec<(String, Vec<String>)>,
    private_buckets: Vec<String>,
    offensive_user_agents: Vec<String>,
}

impl Network {
    pub fn parse(s: &str) -> Result<Network, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (
                a,
                Some(
                    p.parse::<u8>()
                        .map_err(|_| format!("bad prefix length in '{s}'"))?,
                ),
            ),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("not an IP address or CIDR range: '{s}'"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(format!("prefix length over {max} in '{s}'"));
        }
        Ok(Network { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.prefix)
                };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.prefix)
                };
                u128::from(n) & mask == u128::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V4(a)) => n.to_ipv4_mapped().is_some_and(|n| {
                self.prefix >= 96 && {
                    let p = self.prefix - 96;
                    let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
                    u32::from(n) & mask == u32::from(a) & mask
                }
            }),
            (IpAddr::V4(_), IpAddr::V6(a)) => a
                .to_ipv4_mapped()
                .is_some_and(|a| self.contains(IpAddr::V4(a))),
        }
    }
}

/// An address as logged (CloudTrail may log `a, b`: the first one counts).
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    s.split(',').next()?.trim().parse().ok()
}

/// A config value as a parameter value (its type is checked against the detection's default
/// when the two meet).
fn toml_param(value: toml::Value) -> Option<Param> {
    Some(match value {
        toml::Value::Integer(i) => Param::Int(i),
        toml::Value::Float(f) => Param::Float(f),
        toml::Value::String(s) => Param::Text(s),
        toml::Value::Array(items) => {
            Param::List(items.into_iter().map(toml_param).collect::<Option<_>>()?)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        let n = Network::parse("10.0.0.0/8").unwrap();
        assert!(n.contains("10.1.2.3".parse().unwrap()));
        assert!(!n.contains("11.1.2.3".parse().unwrap()));
        assert!(
            Network::parse("192.0.2.7")
                .unwrap()
                .contains("192.0.2.7".parse().unwrap())
        );
        assert!(
            Network::parse("2001:db8::/32")
                .unwrap()
                .contains("2001:db8::1".parse().unwrap())
        );
        assert!(
            Network::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(Network::parse("10.0.0.0/33").is_err());
        assert!(Network::parse("example.com").is_err());
    }

    #[test]
    fn globs() {
        assert!(glob_match(
            "arn:aws:iam::1:role/backup-*",
            "arn:aws:iam::1:role/backup-nightly"
        ));
        assert!(!glob_match(
            "arn:aws:iam::1:role/backup-*",
            "arn:aws:iam::1:role/admin"
        ));
        assert!(glob_match("*Veeam*", "APN/1.0 Veeam/1.0 Backup"));
        assert!(glob_match("exact", "exact") && !glob_match("exact", "exactly"));
    }

    #[test]
    fn parses_a_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("tor.txt"),
            "# Tor exits\n198.51.100.0/24\n203.0.113.9 # one\n",
        )
        .unwrap();
        let c = Config::parse(
            r#"
[allow]
ips = ["10.0.0.0/8"]
principals = ["arn:aws:iam::1:role/backup-*"]

[[threat_lists]]
name = "tor"
file = "tor.txt"

[detections.mass-delete]
severity = "critical"
threshold = 500
enabled = true
"#,
            dir.path(),
        )
        .unwrap();
        assert!(c.ip_allowed("10.2.3.4") && !c.ip_allowed("192.0.2.1"));
        assert_eq!(c.threat_list("198.51.100.77"), Some("tor"));
        assert_eq!(c.threat_list("203.0.113.9, 10.0.0.1"), Some("tor"));
        assert_eq!(c.threat_list("203.0.113.10"), None);
        let d = &c.detections["mass-delete"];
        assert_eq!(d.severity, Some(Severity::Critical));
        assert_eq!(d.params["threshold"], Param::Int(500));
        assert!(Config::parse("[allow]\nips = [\"nonsense\"]", dir.path()).is_err());
        assert!(Config::parse("[unknown]\nx = 1", dir.path()).is_err());
    }
}
