//! Detections: SQL files with a metadata header, run over a time window, giving findings.
//!
//! A detection is one `.sql` file (the built-in pack is `queries/`, users add theirs with
//! `--rules DIR`). Its header says what it is and what it needs:
//!
//! ```text
//! -- id: mass-delete
//! -- title: Mass deletion of objects by one principal
//! -- severity: high
//! -- family: deletes
//! -- sources: access_logs, cloudtrail
//! -- mitre: T1485 Data Destruction
//! -- description: What it means …
//! --   (indented comment lines continue the previous key)
//! -- action: What to do …
//! -- references: https://…, https://…
//! -- param threshold = 100: deletes in one window before it fires
//! ```
//!
//! The body is one SELECT over the window views (see [`run`]); `${name}` is replaced by the
//! parameter's value. Each row it returns is a finding: `entity` is required; `principal`,
//! `ip`, `bucket`, `account`, `useragent`, `first_seen`, `last_seen`, `count`, `details`,
//! `evidence` (a list of structs with `log_object` and `log_line`), `severity` and `title` are
//! read when present; any other column is kept as extra detail.

pub mod config;
pub mod error;
mod findings;
pub mod history;
mod json_value;
pub mod logging_change;
pub mod pack;
pub mod param;
pub mod policy;
pub mod query_only;
pub mod rejects;
pub mod run;
pub mod udf;
pub mod window;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use error::{DetectionError, Error, RowProblem};
pub use param::{Param, ParamType};
pub use run::{Failure, Outcome, Run, RunSpec, WindowContents};
pub use window::{Window, parse_time};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// From the least to the most severe.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "info" | "informational" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" | "med" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity '{other}' (info, low, medium, high, critical)"
            )),
        }
    }
}

/// A tunable parameter of a detection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamDef {
    pub name: String,
    pub default: Param,
    pub doc: String,
}

/// One detection, parsed from its file.
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub family: String,
    pub sources: Vec<String>,
    pub mitre: Vec<String>,
    pub description: String,
    pub action: String,
    pub references: Vec<String>,
    pub params: Vec<ParamDef>,
    #[serde(skip)]
    pub sql: String,
    /// `builtin:<file>` or the file's path.
    pub origin: String,
    /// Whether `sql` has `${…}` placeholders to fill (a Sigma rule's SQL is complete: its
    /// values, which may hold `${`, are literals already).
    #[serde(skip)]
    pub templated: bool,
}

/// Why a detection file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct RuleError {
    pub origin: String,
    pub message: String,
}

impl Detection {
    /// Parses a detection file.
    pub fn parse(text: &str, origin: &str) -> Result<Detection, RuleError> {
        let err = |message: String| RuleError {
            origin: origin.to_string(),
            message,
        };
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut params = Vec::new();
        let mut body = Vec::new();
        let mut in_header = true;
        for line in text.lines() {
            let trimmed = line.trim_start();
            if in_header && let Some(comment) = trimmed.strip_prefix("--") {
                let continuation = comment.starts_with("   ") || comment.starts_with('\t');
                let comment = comment.trim();
                if comment.is_empty() {
                    continue;
                }
                if continuation && let Some((_, value)) = fields.last_mut() {
                    value.push(' ');
                    value.push_str(comment);
                    continue;
                }
                if let Some(spec) = comment.strip_prefix("param ") {
                    let (assignment, doc) = param::split_spec(spec);
                    let (name, value) = assignment
                        .split_once('=')
                        .ok_or_else(|| err(format!("parameter without a default: {spec}")))?;
                    let name = name.trim();
                    if name.is_empty()
                        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        return Err(err(format!("bad parameter name '{name}'")));
                    }
                    params.push(ParamDef {
                        name: name.to_string(),
                        default: Param::parse(value),
                        doc: doc.trim().to_string(),
                    });
                    fields.push(("param".into(), String::new()));
                    continue;
                }
                match comment.split_once(':') {
                    Some((key, value))
                        if key
                            .trim()
                            .chars()
                            .all(|c| c.is_ascii_alphabetic() || c == '_') =>
                    {
                        fields.push((key.trim().to_ascii_lowercase(), value.trim().to_string()));
                    }
                    _ => {
                        // A free comment before the SQL: keep it as part of the description.
                        fields.push(("note".into(), comment.to_string()));
                    }
                }
                continue;
            }
            if !trimmed.is_empty() {
                in_header = false;
            }
            if !in_header {
                body.push(line);
            }
        }
        let get = |key: &str| {
            fields
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        let list = |key: &str| -> Vec<String> {
            get(key)
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let id = get("id").ok_or_else(|| err("no `-- id:` in the header".into()))?;
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(err(format!("bad id '{id}': use letters, digits, - and _")));
        }
        let severity = get("severity")
            .ok_or_else(|| err("no `-- severity:` in the header".into()))?
            .parse()
            .map_err(err)?;
        let sql = body.join("\n").trim().trim_end_matches(';').to_string();
        if sql.is_empty() {
            return Err(err("no SQL after the header".into()));
        }
        Ok(Detection {
            title: get("title").unwrap_or_else(|| id.clone()),
            id,
            severity,
            family: get("family").unwrap_or_else(|| "custom".into()),
            sources: list("sources"),
            mitre: list("mitre"),
            description: get("description").unwrap_or_default(),
            action: get("action").unwrap_or_default(),
            references: list("references"),
            params,
            sql,
            origin: origin.to_string(),
            templated: true,
        })
    }

    /// The config's values for this detection's parameters, each checked against its
    /// default's type; a key that is not a parameter is an error too.
    pub fn typed_overrides(
        &self,
        given: &BTreeMap<String, Param>,
    ) -> Result<BTreeMap<String, Param>, RuleError> {
        given
            .iter()
            .map(|(key, value)| {
                let def = self.params.iter().find(|p| &p.name == key).ok_or_else(|| {
                    self.error(format!(
                        "the config sets '{key}', which is not a parameter of this detection"
                    ))
                })?;
                let value = def
                    .default
                    .accept(value)
                    .map_err(|e| self.error(format!("detections.{}.{key}: {e}", self.id)))?;
                Ok((key.clone(), value))
            })
            .collect()
    }

    fn error(&self, message: String) -> RuleError {
        RuleError {
            origin: self.origin.clone(),
            message,
        }
    }

    /// The SQL with every `${name}` replaced: the parameters' values (overrides first, checked
    /// against the defaults' types), then the built-in ones (`since`, `until`,
    /// `baseline_start`, …), each as a literal of its type. Unknown names are an error, and so
    /// is anything but a number inside a quoted literal.
    pub fn render(
        &self,
        overrides: &BTreeMap<String, Param>,
        builtins: &BTreeMap<String, String>,
    ) -> Result<String, RuleError> {
        let overrides = self.typed_overrides(overrides)?;
        if !self.templated {
            return Ok(self.sql.clone());
        }
        let mut out = String::with_capacity(self.sql.len());
        let mut rest = self.sql.as_str();
        let mut quotes = SqlQuotes::default();
        while let Some(start) = rest.find("${") {
            quotes.read(&rest[..start]);
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| self.error("unclosed ${".into()))?;
            let name = after[..end].trim();
            let inside = || {
                self.error(format!(
                    "${{{name}}} stands inside a quoted literal, where only a number may"
                ))
            };
            let param = overrides.get(name).or_else(|| {
                self.params
                    .iter()
                    .find(|p| p.name == name)
                    .map(|p| &p.default)
            });
            let value = match (param, builtins.get(name)) {
                (Some(p), _) if quotes.in_literal() => p.inside_literal().ok_or_else(inside)?,
                (Some(p), _) => p.sql(),
                (None, Some(v))
                    if quotes.in_literal() && !v.chars().all(|c| c.is_ascii_digit()) =>
                {
                    return Err(inside());
                }
                (None, Some(v)) => v.clone(),
                (None, None) => return Err(self.error(format!("unknown parameter ${{{name}}}"))),
            };
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// Where SQL text stands: in code, inside a `'…'` literal, a `"…"` identifier or a comment,
/// followed as the text goes by.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum SqlQuotes {
    #[default]
    Code,
    Literal,
    Identifier,
    LineComment,
    BlockComment,
}

impl SqlQuotes {
    fn read(&mut self, text: &str) {
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            *self = match (*self, c) {
                (SqlQuotes::Code, '\'') => SqlQuotes::Literal,
                (SqlQuotes::Code, '"') => SqlQuotes::Identifier,
                (SqlQuotes::Code, '-') if chars.peek() == Some(&'-') => {
                    chars.next();
                    SqlQuotes::LineComment
                }
                (SqlQuotes::Code, '/') if chars.peek() == Some(&'*') => {
                    chars.next();
                    SqlQuotes::BlockComment
                }
                // A doubled quote inside a literal leaves it and enters it again.
                (SqlQuotes::Literal, '\'') => SqlQuotes::Code,
                (SqlQuotes::Identifier, '"') => SqlQuotes::Code,
                (SqlQuotes::LineComment, '\n') => SqlQuotes::Code,
                (SqlQuotes::BlockComment, '*') if chars.peek() == Some(&'/') => {
                    chars.next();
                    SqlQuotes::Code
                }
                (state, _) => state,
            };
        }
    }

    fn in_literal(&self) -> bool {
        *self != SqlQuotes::Code
    }
}

/// A row of the evidence: where in the logs the finding can be seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub log_object: String,
    pub log_line: i64,
    /// Whatever else the detection chose to show (time, operation, key, …).
    #[serde(flatten)]
    pub fields: BTreeMap<String, serde_json::Value>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub detection: String,
    pub severity: Severity,
    pub title: String,
    pub family: String,
    pub entity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub useragent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    pub count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub mitre: Vec<String>,
}

impl Finding {
    /// What identifies a finding across runs (for "new since the previous report"): the
    /// detection and its entity.
    pub fn fingerprint(&self) -> String {
        format!("{}|{}", self.detection, self.entity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "-- id: demo-rule\n-- title: A demo\n-- severity: High\n-- family: demo\n-- sources: access_logs, cloudtrail\n-- description: First line\n--   and its continuation.\n-- param threshold = 10: how many\n-- param label = 'x''y': a text\n\nSELECT ${threshold} AS n, ${label} AS l, ${since} AS s;\n";

    #[test]
    fn parses_header_and_body() {
        let d = Detection::parse(RULE, "test").unwrap();
        assert_eq!(d.id, "demo-rule");
        assert_eq!(d.severity, Severity::High);
        assert_eq!(d.sources, vec!["access_logs", "cloudtrail"]);
        assert_eq!(d.description, "First line and its continuation.");
        assert_eq!(d.params.len(), 2);
        assert_eq!(d.params[0].default, Param::Int(10));
        assert_eq!(d.params[0].doc, "how many");
        assert!(d.sql.starts_with("SELECT"));
        assert!(!d.sql.ends_with(';'));
    }

    #[test]
    fn renders_parameters() {
        let d = Detection::parse(RULE, "test").unwrap();
        let builtins = BTreeMap::from([(
            "since".to_string(),
            "TIMESTAMP '2026-01-01T00:00:00Z'".to_string(),
        )]);
        let sql = d
            .render(
                &BTreeMap::from([("threshold".to_string(), Param::Int(3))]),
                &builtins,
            )
            .unwrap();
        assert_eq!(
            sql,
            "SELECT 3 AS n, 'x''y' AS l, TIMESTAMP '2026-01-01T00:00:00Z' AS s"
        );
        let bad = Detection::parse("-- id: x\n-- severity: low\nSELECT ${nope}", "t").unwrap();
        assert!(bad.render(&BTreeMap::new(), &builtins).is_err());
        // A config value of the wrong type is an error naming the detection and the key.
        let wrong = BTreeMap::from([("threshold".to_string(), Param::Text("1 OR 1=1".into()))]);
        let e = d.render(&wrong, &builtins).unwrap_err().to_string();
        assert!(
            e.contains("detections.demo-rule.threshold") && e.contains("expected an integer"),
            "{e}"
        );
        // A string value stays inside its literal.
        let text = BTreeMap::from([(
            "label".to_string(),
            Param::Text("'; DROP TABLE t; --".into()),
        )]);
        let sql = d.render(&text, &builtins).unwrap();
        assert!(sql.contains(" '''; DROP TABLE t; --' AS l"), "{sql}");
    }

    #[test]
    fn only_numbers_stand_inside_quotes() {
        let head =
            "-- id: q\n-- severity: low\n-- param minutes = 10: m\n-- param label = 'x': l\n\n";
        for body in [
            "SELECT INTERVAL '${minutes} ${label}'",
            "SELECT 1 AS \"${label}\"",
            "SELECT 1 -- ${label}",
            "SELECT 'a''${label}'",
        ] {
            let d = Detection::parse(&format!("{head}{body}"), "t").unwrap();
            let e = d.render(&BTreeMap::new(), &BTreeMap::new()).unwrap_err();
            assert!(
                e.to_string()
                    .contains("${label} stands inside a quoted literal"),
                "{body}: {e}"
            );
        }
        let body = "SELECT INTERVAL '${minutes} minutes', /* it's */ ${label}, 'a''${minutes}' -- it's\n, ${label}";
        let d = Detection::parse(&format!("{head}{body}"), "t").unwrap();
        assert_eq!(
            d.render(&BTreeMap::new(), &BTreeMap::new()).unwrap(),
            "SELECT INTERVAL '10 minutes', /* it's */ 'x', 'a''10' -- it's\n, 'x'"
        );
    }

    #[test]
    fn refuses_bad_files() {
        assert!(Detection::parse("SELECT 1", "t").is_err());
        assert!(Detection::parse("-- id: x\n-- severity: huge\nSELECT 1", "t").is_err());
        assert!(Detection::parse("-- id: x y\n-- severity: low\nSELECT 1", "t").is_err());
        assert!(Detection::parse("-- id: x\n-- severity: low\n", "t").is_err());
    }
}
