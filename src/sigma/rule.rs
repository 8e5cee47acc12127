//! A Sigma rule file in, the rules it holds out: detection rules (their search identifiers,
//! field tests with modifiers and values, and condition) and correlation rules.
//!
//! Every detection rule is parsed by the `sigma-rust` crate first (the rule model of the
//! specification, and the evaluator the tests use as a second opinion); a rule it refuses is
//! skipped with its reason. sigma-rust 0.7 keeps its detection model private (only `Rule` and
//! `Event` are exported), so the search identifiers are read here, with serde, into the small
//! typed model the SQL translation needs. Correlation rules (Sigma v2), which sigma-rust does not
//! parse, are read the same way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_norway::Value;

use super::condition::{self, Condition};

/// Why a rule does not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct Skipped {
    pub file: String,
    /// The rule's title, when it could be read.
    pub title: Option<String>,
    pub reason: String,
}

/// Where a rule's events come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogSource {
    /// `product: aws`, `service: cloudtrail`: the `cloudtrail` table.
    CloudTrail,
    /// `product: aws`, `service: s3_access`: the `access_logs` table (our log source).
    S3Access,
}

impl LogSource {
    pub fn table(self) -> &'static str {
        match self {
            LogSource::CloudTrail => "cloudtrail",
            LogSource::S3Access => "access_logs",
        }
    }
}

/// What every rule has.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub file: String,
    pub id: String,
    /// The `name` a correlation may refer to the rule by.
    pub name: Option<String>,
    pub title: String,
    pub description: String,
    pub level: Option<String>,
    pub tags: Vec<String>,
    pub references: Vec<String>,
    pub author: Option<String>,
}

/// One test of a field: `name|modifiers: values`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldTest {
    pub field: String,
    pub modifiers: Vec<String>,
    pub values: Vec<Value>,
}

/// A search identifier: any of its groups, each of which needs all of its tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub groups: Vec<Vec<FieldTest>>,
}

/// A detection rule.
#[derive(Debug, Clone)]
pub struct DetectionRule {
    pub meta: Meta,
    pub source: LogSource,
    pub searches: BTreeMap<String, Search>,
    pub condition: Condition,
}

/// How a correlation counts.
#[derive(Debug, Clone, PartialEq)]
pub enum CorrelationKind {
    /// Events of the rules, per group and time window.
    EventCount,
    /// Distinct values of a field, per group and time window.
    ValueCount { field: String },
    /// Every one of the rules matched, per group and time window.
    Temporal,
}

/// A comparison of a correlation's count: `gte: 10`, `lt: 3`, …
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub op: &'static str,
    pub value: i64,
}

/// A correlation rule (Sigma v2).
#[derive(Debug, Clone)]
pub struct CorrelationRule {
    pub meta: Meta,
    pub kind: CorrelationKind,
    /// The rules it correlates, by id or name.
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    pub timespan_seconds: i64,
    pub thresholds: Vec<Threshold>,
    /// Whether the rules it names also run on their own (`generate: true`).
    pub generate: bool,
}

/// A rule of a file.
#[derive(Debug, Clone)]
pub enum SigmaRule {
    Detection(DetectionRule),
    Correlation(CorrelationRule),
}

impl SigmaRule {
    pub fn meta(&self) -> &Meta {
        match self {
            SigmaRule::Detection(r) => &r.meta,
            SigmaRule::Correlation(r) => &r.meta,
        }
    }
}

/// The Sigma rule files under `paths` (files, or folders read recursively for `*.yml` and
/// `*.yaml`), in path order.
pub fn files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else {
            // A named file must exist: reading it says so.
            std::fs::metadata(p)?;
            out.push(p.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The rules of one file (a file may hold several YAML documents), and those skipped.
pub fn read(path: &Path) -> (Vec<SigmaRule>, Vec<Skipped>) {
    let file = path.display().to_string();
    let skip = |title: Option<String>, reason: String| Skipped {
        file: file.clone(),
        title,
        reason,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return (Vec::new(), vec![skip(None, format!("cannot read it: {e}"))]),
    };
    let mut rules = Vec::new();
    let mut skipped = Vec::new();
    for (i, document) in split_documents(&text).into_iter().enumerate() {
        let doc_file = if i == 0 {
            file.clone()
        } else {
            format!("{file} (document {})", i + 1)
        };
        if let Err(reason) = super::limits::document(document) {
            skipped.push(skip(None, reason));
            continue;
        }
        let value: Value = match serde_norway::from_str(document) {
            Ok(Value::Null) => continue,
            Ok(v) => v,
            Err(e) => {
                skipped.push(skip(None, format!("not YAML: {e}")));
                continue;
            }
        };
        match rule(&doc_file, document, &value) {
            Ok(r) => rules.push(r),
            Err(reason) => skipped.push(Skipped {
                file: doc_file,
                title: text_of(&value, "title"),
                reason,
            }),
        }
    }
    (rules, skipped)
}

/// The YAML documents of a file (`---` lines between them).
fn split_documents(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" {
            out.push(&text[start..pos]);
            start = pos + line.len();
        }
        pos += line.len();
    }
    out.push(&text[start..]);
    out.into_iter().filter(|d| !d.trim().is_empty()).collect()
}

fn text_of(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    match v.get(key) {
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn meta(file: &str, v: &Value) -> Result<Meta, String> {
    let title = text_of(v, "title").ok_or("no title")?;
    let id = text_of(v, "id")
        .or_else(|| text_of(v, "name"))
        .ok_or("no id (nor name)")?;
    // An id names the detection everywhere (tables, reports, chat, the state of reports):
    // letters, digits and `-_.:` only, so that it can be shown raw.
    if id.is_empty()
        || id.len() > 128
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    {
        return Err(format!(
            "refused: the id {:?} is not letters, digits and -_.: (at most 128)",
            id.chars().take(60).collect::<String>()
        ));
    }
    Ok(Meta {
        file: file.to_string(),
        id,
        name: text_of(v, "name"),
        title,
        description: text_of(v, "description").unwrap_or_default(),
        level: text_of(v, "level"),
        tags: strings(v, "tags"),
        references: strings(v, "references"),
        author: text_of(v, "author"),
    })
}

fn rule(file: &str, document: &str, v: &Value) -> Result<SigmaRule, String> {
    if let Some(Value::String(c)) = v.get("detection").and_then(|d| d.get("condition")) {
        super::limits::condition(c)?;
    }
    if let Some(Value::Sequence(items)) = v.get("detection").and_then(|d| d.get("condition")) {
        for item in items {
            if let Value::String(c) = item {
                super::limits::condition(c)?;
            }
        }
    }
    if v.get("correlation").is_some() {
        return correlation(file, v).map(SigmaRule::Correlation);
    }
    let meta = meta(file, v)?;
    if let Some(Value::String(c)) = v.get("detection").and_then(|d| d.get("condition"))
        && c.contains('|')
    {
        return Err(format!(
            "the aggregation in {c:?} is deprecated Sigma (count() …): use a correlation rule"
        ));
    }
    // The specification's model first: a rule sigma-rust refuses is not run.
    sigma_rust::rule_from_yaml(document).map_err(|e| format!("not a valid Sigma rule: {e}"))?;
    let logsource = v.get("logsource").ok_or("no logsource")?;
    let product = text_of(logsource, "product").unwrap_or_default();
    let service = text_of(logsource, "service").unwrap_or_default();
    let source = match (product.as_str(), service.as_str()) {
        ("aws", "cloudtrail") => LogSource::CloudTrail,
        ("aws", "s3_access") => LogSource::S3Access,
        _ => {
            return Err(format!(
                "log source product: {product:?}, service: {service:?} is not one of ours \
                 (aws/cloudtrail, aws/s3_access)"
            ));
        }
    };
    let detection = v.get("detection").ok_or("no detection")?;
    let Value::Mapping(map) = detection else {
        return Err("detection is not a mapping".into());
    };
    let mut searches = BTreeMap::new();
    let mut condition_text = None;
    for (key, value) in map {
        let Value::String(key) = key else {
            return Err(format!("a search identifier that is not text: {key:?}"));
        };
        if key == "condition" {
            condition_text = Some(match value {
                Value::String(s) => s.clone(),
                Value::Sequence(items) if items.len() == 1 => {
                    text_of_value(&items[0]).ok_or("condition is not text")?
                }
                Value::Sequence(_) => {
                    return Err("several conditions in one rule are not supported".into());
                }
                _ => return Err("condition is not text".into()),
            });
            continue;
        }
        if key == "timeframe" {
            return Err("timeframe (the deprecated aggregation window) is not supported".into());
        }
        searches.insert(key.clone(), search(key, value)?);
    }
    let text = condition_text.ok_or("no condition")?;
    if text.contains('|') {
        return Err(format!(
            "the aggregation in {text:?} is deprecated Sigma (count() …): use a correlation rule"
        ));
    }
    super::limits::searches(searches.values())?;
    let condition = condition::parse(&text)?;
    condition.check(&searches)?;
    Ok(SigmaRule::Detection(DetectionRule {
        meta,
        source,
        searches,
        condition,
    }))
}

fn text_of_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// A search identifier's body: a mapping (all of its tests), a list of mappings (any of them),
/// or a list of keywords (not supported).
fn search(name: &str, value: &Value) -> Result<Search, String> {
    let groups = match value {
        Value::Mapping(map) => vec![tests(name, map)?],
        Value::Sequence(items) if items.iter().all(|i| matches!(i, Value::Mapping(_))) => items
            .iter()
            .map(|i| match i {
                Value::Mapping(map) => tests(name, map),
                _ => unreachable!("checked above"),
            })
            .collect::<Result<_, _>>()?,
        Value::Sequence(_) | Value::String(_) | Value::Number(_) => {
            return Err(format!(
                "{name}: keyword searches (values without a field) are not supported"
            ));
        }
        other => return Err(format!("{name}: not a search: {other:?}")),
    };
    Ok(Search { groups })
}

fn tests(name: &str, map: &serde_norway::Mapping) -> Result<Vec<FieldTest>, String> {
    let mut out = Vec::new();
    for (key, value) in map {
        let Value::String(key) = key else {
            return Err(format!("{name}: a field name that is not text: {key:?}"));
        };
        let mut parts = key.split('|');
        let field = parts.next().unwrap_or_default().to_string();
        if field.is_empty() {
            return Err(format!(
                "{name}: a test without a field name ({key:?}): keywords are not supported"
            ));
        }
        let modifiers: Vec<String> = parts.map(str::to_ascii_lowercase).collect();
        let values = match value {
            Value::Sequence(items) => items.clone(),
            other => vec![other.clone()],
        };
        if values.is_empty() {
            return Err(format!("{name}: {key} has no values"));
        }
        out.push(FieldTest {
            field,
            modifiers,
            values,
        });
    }
    if out.is_empty() {
        return Err(format!("{name}: no field tests"));
    }
    Ok(out)
}

/// `10m`, `1h`, `30s`, `2d`, `1w` in seconds.
fn timespan(text: &str) -> Option<i64> {
    let t = text.trim();
    let (number, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = number.parse().ok()?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    n.checked_mul(unit).filter(|s| *s > 0)
}

fn correlation(file: &str, v: &Value) -> Result<CorrelationRule, String> {
    let meta = meta(file, v)?;
    let c = v.get("correlation").ok_or("no correlation")?;
    let kind_name = text_of(c, "type").ok_or("correlation without a type")?;
    let rules = strings(c, "rules");
    if rules.is_empty() {
        return Err("a correlation needs the rules it correlates".into());
    }
    let group_by = strings(c, "group-by");
    let span = text_of(c, "timespan").ok_or("a correlation needs a timespan")?;
    let timespan_seconds =
        timespan(&span).ok_or_else(|| format!("timespan {span:?} is not like 10m, 1h or 2d"))?;
    let condition = c.get("condition");
    let mut thresholds = Vec::new();
    let mut field = None;
    if let Some(Value::Mapping(map)) = condition {
        for (k, value) in map {
            let Value::String(k) = k else { continue };
            let op = match k.as_str() {
                "gt" => ">",
                "gte" => ">=",
                "lt" => "<",
                "lte" => "<=",
                "eq" => "=",
                "field" => {
                    field = text_of_value(value);
                    continue;
                }
                other => return Err(format!("condition {other:?} is not a comparison")),
            };
            let Some(n) = value.as_i64() else {
                return Err(format!("the condition's {k} is not a whole number"));
            };
            thresholds.push(Threshold { op, value: n });
        }
    }
    let kind = match kind_name.as_str() {
        "event_count" => CorrelationKind::EventCount,
        "value_count" => CorrelationKind::ValueCount {
            field: field.ok_or("a value_count correlation needs condition.field")?,
        },
        "temporal" => CorrelationKind::Temporal,
        other => return Err(format!("correlation type {other:?} is not supported")),
    };
    if thresholds.is_empty() && kind != CorrelationKind::Temporal {
        return Err("a correlation needs a condition (gte, gt, lt, lte or eq)".into());
    }
    let generate = matches!(c.get("generate"), Some(Value::Bool(true)))
        || matches!(v.get("generate"), Some(Value::Bool(true)));
    Ok(CorrelationRule {
        meta,
        kind,
        rules,
        group_by,
        timespan_seconds,
        thresholds,
        generate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans() {
        assert_eq!(timespan("10m"), Some(600));
        assert_eq!(timespan("1h"), Some(3600));
        assert_eq!(timespan("2d"), Some(172_800));
        assert_eq!(timespan("0m"), None);
        assert_eq!(timespan("ten"), None);
        assert_eq!(timespan("5y"), None);
    }

    #[test]
    fn documents_of_a_file() {
        let docs = split_documents("a: 1\n---\nb: 2\n---\n\n");
        assert_eq!(docs, ["a: 1\n", "b: 2\n"]);
    }
}
