//! A Sigma rule in, DataFusion SQL out: the rule's condition as a predicate over `cloudtrail`
//! (or `access_logs` for our `s3_access` log source), and the query that turns the matching
//! events into findings, one per entity.
//!
//! Fields map to columns without regard to case; a dotted path goes into struct fields
//! (`userIdentity.arn`) or, where a column keeps a JSON object as text (`requestParameters`),
//! into it with `json_extract_scalar`; a field the table does not have is absent. Values match
//! as the specification says: without regard to case unless `|cased`, `*` and `?` wildcards with
//! `\` escapes, `contains`/`startswith`/`endswith`/`all`/`re`/`cidr`/`fieldref`/`exists`,
//! `gt`/`gte`/`lt`/`lte`, and `null` for an absent or null field. A test on a field a record does
//! not have is false, also under `not`: SQL's NULL would make `NOT (x = 'a')` unknown and drop
//! the record, so every test under a `not` is made two-valued (`coalesce(test, false)`); tests
//! outside any `not` are left as they are, where NULL already acts as false, so that simple
//! conjuncts such as `lower(eventname) IN (…)` reach the CloudTrail decoder's pushdown.

use std::fmt::Write as _;

use serde_norway::Value;

use super::condition::{self, Condition};
use super::rule::{
    CorrelationKind, CorrelationRule, DetectionRule, FieldTest, LogSource, Search, Threshold,
};
use crate::format::cloudtrail::schema::{Kind, Node, RECORD};

/// A predicate before it is written out: `not` must know what it wraps.
#[derive(Debug, Clone)]
enum Pred {
    /// A test that may be NULL.
    Atom(String),
    /// `subject = value` (the value as text, quoted when written): several of one subject
    /// become one `IN`, which the CloudTrail decoder's pushdown reads.
    Eq(String, String),
    /// `subject IN (values…)`.
    In(String, Vec<String>),
    /// A test that is never NULL (`IS NULL`, `IS NOT NULL`, constants).
    Sure(String),
    And(Vec<Pred>),
    Or(Vec<Pred>),
    Not(Box<Pred>),
}

impl Pred {
    fn write(&self, negated: bool) -> String {
        match self {
            Pred::Atom(s) if negated => format!("coalesce({s}, false)"),
            Pred::Atom(s) | Pred::Sure(s) => s.clone(),
            Pred::Eq(subject, value) => {
                Pred::Atom(format!("{subject} = {}", literal(value))).write(negated)
            }
            Pred::In(subject, values) => Pred::Atom(format!(
                "{subject} IN ({})",
                values
                    .iter()
                    .map(|v| literal(v))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .write(negated),
            Pred::And(items) => join(items, " AND ", negated),
            Pred::Or(items) => join(items, " OR ", negated),
            Pred::Not(inner) => format!("NOT ({})", inner.write(true)),
        }
    }
}

fn join(items: &[Pred], op: &str, negated: bool) -> String {
    match items {
        [] => "true".into(),
        [one] => one.write(negated),
        _ => format!(
            "({})",
            items
                .iter()
                .map(|p| p.write(negated))
                .collect::<Vec<_>>()
                .join(op)
        ),
    }
}

/// A SQL string literal: the one way a value from a rule reaches SQL.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A SQL identifier, quoted: the one way a column name reaches SQL (the names are our schema's;
/// a rule's field names only select among them).
pub fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Where a field's value is, as a SQL expression; `None` when the table has no such field.
fn field_sql(source: LogSource, field: &str) -> Result<Option<String>, String> {
    match source {
        LogSource::S3Access => {
            use crate::format::access_log::schema::{COLUMNS, ColumnType};
            let wanted = field.to_ascii_lowercase();
            Ok(COLUMNS
                .iter()
                .find(|c| c.name == wanted)
                .map(|c| match c.ty {
                    ColumnType::Text => ident(c.name),
                    // Sigma compares text: numbers as their digits, times as ISO 8601.
                    ColumnType::Timestamp => {
                        format!("to_char({}, '%Y-%m-%dT%H:%M:%SZ')", ident(c.name))
                    }
                    _ => format!("CAST({} AS VARCHAR)", ident(c.name)),
                }))
        }
        LogSource::CloudTrail => cloudtrail_field(field),
    }
}

fn find<'a>(nodes: &'a [Node], part: &str) -> Option<&'a Node> {
    nodes
        .iter()
        .find(|n| n.key.eq_ignore_ascii_case(part) || n.name.eq_ignore_ascii_case(part))
}

/// A JSON path of the keys `parts` (`$["a"]["b"]`).
fn json_path(parts: &[&str]) -> Result<String, String> {
    let mut path = String::from("$");
    for p in parts {
        if p.contains(['"', '\\']) || p.is_empty() {
            return Err(format!("the JSON key {p:?} cannot be looked up"));
        }
        let _ = write!(path, "[\"{p}\"]");
    }
    Ok(path)
}

fn cloudtrail_field(field: &str) -> Result<Option<String>, String> {
    let parts: Vec<&str> = field.split('.').collect();
    // Columns of our own that are not record fields (eventtime, s3_bucket, …) by name.
    if parts.len() == 1
        && find(RECORD, parts[0]).is_none()
        && let Some(c) = crate::format::cloudtrail::schema::columns()
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(parts[0]))
    {
        return Ok(Some(if c.name == "eventtime" {
            // As the record writes it.
            "to_char(eventtime, '%Y-%m-%dT%H:%M:%SZ')".to_string()
        } else {
            format!("CAST({} AS VARCHAR)", ident(c.name))
        }));
    }
    let mut nodes = RECORD;
    let mut expr = String::new();
    for (i, part) in parts.iter().enumerate() {
        let Some(node) = find(nodes, part) else {
            return Ok(None);
        };
        if expr.is_empty() {
            expr = ident(node.name);
        } else {
            let _ = write!(expr, "[{}]", literal(node.name));
        }
        let rest = &parts[i + 1..];
        match node.kind {
            Kind::Struct(children) if !rest.is_empty() => nodes = children,
            Kind::Struct(_) => {
                // The whole object: not a value a test can match (as sigma-rust: false).
                return Ok(Some("CAST(NULL AS VARCHAR)".into()));
            }
            Kind::Json | Kind::Text if !rest.is_empty() => {
                return Ok(Some(format!(
                    "json_extract_scalar({expr}, {})",
                    literal(&json_path(rest)?)
                )));
            }
            Kind::Text | Kind::Flag | Kind::Json => return Ok(Some(expr)),
            Kind::List(_) => {
                // Lists are not searched (as sigma-rust's evaluator: false).
                return Ok(Some("CAST(NULL AS VARCHAR)".into()));
            }
        }
    }
    Ok(Some(expr))
}

/// A Sigma wildcard value as a LIKE pattern (escape `\`); `None` when it has no wildcard.
fn like_pattern(value: &str) -> (String, bool) {
    let mut out = String::new();
    let mut wild = false;
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => {
                out.push('%');
                wild = true;
            }
            '?' => {
                out.push('_');
                wild = true;
            }
            '\\' => match chars.peek() {
                Some('*' | '?' | '\\') => {
                    let next = chars.next().unwrap_or('\\');
                    out.push('\\');
                    out.push(next);
                }
                _ => out.push_str("\\\\"),
            },
            '%' | '_' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    (out, wild)
}

/// A value as the text it matches.
fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

const SUPPORTED: [&str; 15] = [
    "contains",
    "startswith",
    "endswith",
    "all",
    "re",
    "i",
    "m",
    "s",
    "cidr",
    "fieldref",
    "exists",
    "cased",
    "gt",
    "gte",
    "lt",
];

/// One field test as a predicate.
fn test(source: LogSource, t: &FieldTest) -> Result<Pred, String> {
    for m in &t.modifiers {
        if !SUPPORTED.contains(&m.as_str()) && m != "lte" {
            return Err(format!(
                "the modifier |{m} (on {}) is not supported",
                t.field
            ));
        }
    }
    let has = |m: &str| t.modifiers.iter().any(|x| x == m);
    let field = field_sql(source, &t.field)?;
    if has("exists") {
        let want = match t.values.as_slice() {
            [Value::Bool(b)] => *b,
            _ => return Err(format!("{}|exists needs true or false", t.field)),
        };
        return Ok(Pred::Sure(match (field, want) {
            (None, want) => (!want).to_string(),
            (Some(f), true) => format!("{f} IS NOT NULL"),
            (Some(f), false) => format!("{f} IS NULL"),
        }));
    }
    let Some(field) = field else {
        // Not a field of the table: every test on it is false (`null` excepted: absent).
        let null = t.values.iter().any(|v| matches!(v, Value::Null));
        return Ok(Pred::Sure((null && !has("all")).to_string()));
    };
    let cased = has("cased");
    let mut preds = Vec::new();
    for v in &t.values {
        if matches!(v, Value::Null) {
            preds.push(Pred::Sure(format!("{field} IS NULL")));
            continue;
        }
        let text =
            value_text(v).ok_or_else(|| format!("{}: a value that is not text: {v:?}", t.field))?;
        let pred = if has("fieldref") {
            let other = field_sql(source, &text)?;
            Pred::Atom(match other {
                Some(o) => format!("{field} = {o}"),
                None => "CAST(NULL AS BOOLEAN)".into(),
            })
        } else if has("re") {
            let flags: String = ["i", "m", "s"].iter().filter(|f| has(f)).copied().collect();
            regex::Regex::new(&text).map_err(|e| {
                format!("{}: the regular expression does not compile: {e}", t.field)
            })?;
            Pred::Atom(if flags.is_empty() {
                format!("regexp_like({field}, {})", literal(&text))
            } else {
                format!(
                    "regexp_like({field}, {}, {})",
                    literal(&text),
                    literal(&flags)
                )
            })
        } else if has("cidr") {
            Pred::Atom(format!("cidr_match({field}, {})", literal(&text)))
        } else if let Some(op) = ["gt", "gte", "lt", "lte"].iter().find(|m| has(m)) {
            let n: f64 = text
                .parse()
                .map_err(|_| format!("{}|{op}: {text:?} is not a number", t.field))?;
            let op = match *op {
                "gt" => ">",
                "gte" => ">=",
                "lt" => "<",
                _ => "<=",
            };
            Pred::Atom(format!("TRY_CAST({field} AS DOUBLE) {op} {n}"))
        } else {
            let (mut pattern, mut wild) = like_pattern(&text);
            let (pre, post) = if has("contains") {
                ("%", "%")
            } else if has("startswith") {
                ("", "%")
            } else if has("endswith") {
                ("%", "")
            } else {
                ("", "")
            };
            if !pre.is_empty() || !post.is_empty() {
                pattern = format!("{pre}{pattern}{post}");
                wild = true;
            }
            let (subject, pattern) = if cased {
                (field.clone(), pattern)
            } else {
                (format!("lower({field})"), pattern.to_lowercase())
            };
            if wild {
                Pred::Atom(format!("{subject} LIKE {} ESCAPE '\\'", literal(&pattern)))
            } else {
                // No wildcard: the pattern is the value with its escapes undone.
                Pred::Eq(subject, unescape_like(&pattern))
            }
        };
        preds.push(pred);
    }
    Ok(if has("all") {
        Pred::And(preds)
    } else if preds.len() == 1 {
        preds.remove(0)
    } else {
        // Plain equalities of one column: one IN, which the decoder's pushdown reads.
        in_list(preds)
    })
}

/// `x = 'a' OR x = 'b'` as `x IN ('a', 'b')` when every item is an equality on one subject
/// (judged on the structure, never on the SQL text a value could imitate).
fn in_list(preds: Vec<Pred>) -> Pred {
    let subject = match preds.first() {
        Some(Pred::Eq(subject, _)) => subject.clone(),
        _ => return Pred::Or(preds),
    };
    let mut values = Vec::with_capacity(preds.len());
    for p in &preds {
        match p {
            Pred::Eq(s, v) if *s == subject => values.push(v.clone()),
            _ => return Pred::Or(preds),
        }
    }
    Pred::In(subject, values)
}

fn unescape_like(p: &str) -> String {
    let mut out = String::new();
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn search(source: LogSource, s: &Search) -> Result<Pred, String> {
    let groups = s
        .groups
        .iter()
        .map(|g| {
            let tests = g
                .iter()
                .map(|t| test(source, t))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if tests.len() == 1 {
                tests.into_iter().next().expect("one")
            } else {
                Pred::And(tests)
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(if groups.len() == 1 {
        groups.into_iter().next().expect("one")
    } else {
        Pred::Or(groups)
    })
}

fn condition(rule: &DetectionRule, c: &Condition) -> Result<Pred, String> {
    Ok(match c {
        Condition::Search(name) => search(
            rule.source,
            rule.searches
                .get(name)
                .ok_or_else(|| format!("no search {name}"))?,
        )?,
        Condition::Not(inner) => Pred::Not(Box::new(condition(rule, inner)?)),
        Condition::And(items) => Pred::And(
            items
                .iter()
                .map(|i| condition(rule, i))
                .collect::<Result<_, _>>()?,
        ),
        Condition::Or(items) => Pred::Or(
            items
                .iter()
                .map(|i| condition(rule, i))
                .collect::<Result<_, _>>()?,
        ),
        Condition::Of { all, pattern } => {
            let parts = rule
                .searches
                .iter()
                .filter(|(name, _)| condition::matches(pattern, name))
                .map(|(_, s)| search(rule.source, s))
                .collect::<Result<Vec<_>, _>>()?;
            if *all {
                Pred::And(parts)
            } else {
                Pred::Or(parts)
            }
        }
    })
}

/// The rule's condition as a SQL predicate over its table's columns.
pub fn predicate(rule: &DetectionRule) -> Result<String, String> {
    Ok(condition(rule, &rule.condition)?.write(false))
}

/// The table's time column, and how an entity, a principal and an address are read.
struct Shape {
    time: &'static str,
    entity: &'static str,
    principal: &'static str,
    ip: &'static str,
    evidence: &'static str,
}

fn shape(source: LogSource) -> Shape {
    match source {
        LogSource::CloudTrail => Shape {
            time: "eventtime",
            entity: "coalesce(\"useridentity\"['arn'], sourceipaddress, 'unknown')",
            principal: "\"useridentity\"['arn']",
            ip: "sourceipaddress",
            evidence: "'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname",
        },
        LogSource::S3Access => Shape {
            time: "requestdatetime",
            entity: "coalesce(requester, remoteip, 'unknown')",
            principal: "requester",
            ip: "remoteip",
            evidence: "'requestid', requestid, 'requestdatetime', requestdatetime, 'operation', operation",
        },
    }
}

/// The query that makes findings of a rule's matches in `table` (`window_cloudtrail` for a
/// detection run, `cloudtrail` for `sigma convert`): one row per entity, with the count of
/// matching events, the first and last, and up to ten of them as evidence.
pub fn findings_sql(rule: &DetectionRule, table: &str) -> Result<String, String> {
    let s = shape(rule.source);
    let predicate = predicate(rule)?;
    Ok(format!(
        "SELECT {entity} AS entity, max({principal}) AS principal, min({ip}) AS ip, \
         count(*) AS count, min({time}) AS first_seen, max({time}) AS last_seen, \
         first_n(named_struct('log_object', log_object, 'log_line', log_line, {evidence}), {time}, 10) AS evidence\n\
         FROM {table}\n\
         WHERE {predicate}\n\
         GROUP BY 1",
        entity = s.entity,
        principal = s.principal,
        ip = s.ip,
        time = s.time,
        evidence = s.evidence,
    ))
}

/// The query of a correlation over the detection rules it names (`rules`: each with its
/// predicate), in `table_of(source)`.
pub fn correlation_sql(
    c: &CorrelationRule,
    rules: &[&DetectionRule],
    table_of: impl Fn(LogSource) -> String,
) -> Result<String, String> {
    let source = rules.first().map(|r| r.source).ok_or("no rules")?;
    if rules.iter().any(|r| r.source != source) {
        return Err("the correlated rules read different log sources".into());
    }
    let s = shape(source);
    let groups: Vec<String> = c
        .group_by
        .iter()
        .map(|g| field_sql(source, g)?.ok_or_else(|| format!("group-by {g}: no such field")))
        .collect::<Result<_, _>>()?;
    let value = match &c.kind {
        CorrelationKind::ValueCount { field } => {
            field_sql(source, field)?.ok_or_else(|| format!("field {field}: no such field"))?
        }
        _ => "CAST(NULL AS VARCHAR)".into(),
    };
    let mut events = Vec::new();
    for r in rules {
        let mut select: Vec<String> = groups
            .iter()
            .enumerate()
            .map(|(i, g)| format!("CAST({g} AS VARCHAR) AS g{i}"))
            .collect();
        select.push(format!("{} AS time", s.time));
        select.push(format!("{value} AS value"));
        select.push(format!("{} AS rule", literal(&r.meta.id)));
        select.push(format!("{} AS principal", s.principal));
        select.push(format!("{} AS ip", s.ip));
        select.push(format!(
            "named_struct('log_object', log_object, 'log_line', log_line, 'rule', {}, {}) AS item",
            literal(&r.meta.id),
            s.evidence
        ));
        events.push(format!(
            "SELECT {} FROM {} WHERE {}",
            select.join(", "),
            table_of(source),
            predicate(r)?
        ));
    }
    let keys: Vec<String> = (0..groups.len()).map(|i| format!("g{i}")).collect();
    let key_list = if keys.is_empty() {
        String::new()
    } else {
        format!("{}, ", keys.join(", "))
    };
    let measure = match c.kind {
        CorrelationKind::EventCount => "count(*)",
        CorrelationKind::ValueCount { .. } => "count(DISTINCT value)",
        CorrelationKind::Temporal => "count(DISTINCT rule)",
    };
    let mut having: Vec<String> = c
        .thresholds
        .iter()
        .map(|Threshold { op, value }| format!("measure {op} {value}"))
        .collect();
    if c.kind == CorrelationKind::Temporal {
        having.push(format!("measure = {}", rules.len()));
    }
    let entity = if keys.is_empty() {
        literal(&c.meta.title)
    } else {
        format!(
            "concat_ws(' ', {})",
            keys.iter()
                .map(|k| format!("coalesce({k}, '-')"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let span = c.timespan_seconds;
    Ok(format!(
        "WITH events AS (\n  {events}\n),\n\
         windows AS (\n  SELECT {key_list}date_bin(INTERVAL '{span} seconds', time) AS w, {measure} AS measure, \
         count(*) AS n, min(time) AS first_seen, max(time) AS last_seen, max(principal) AS principal, \
         min(ip) AS ip, first_n(item, time, 10) AS evidence\n  FROM events GROUP BY {key_list}w\n)\n\
         SELECT {entity} AS entity, max(principal) AS principal, min(ip) AS ip, sum(n) AS count, \
         min(first_seen) AS first_seen, max(last_seen) AS last_seen, \
         concat(max(measure), ' ({kind}) at most in {span} s') AS details, \
         first_value(evidence ORDER BY measure DESC, w) AS evidence\n\
         FROM windows WHERE {having}\nGROUP BY {group}",
        events = events.join("\n  UNION ALL\n  "),
        having = having.join(" AND "),
        kind = match c.kind {
            CorrelationKind::EventCount => "events",
            CorrelationKind::ValueCount { .. } => "distinct values",
            CorrelationKind::Temporal => "rules matched",
        },
        group = if keys.is_empty() {
            "1".to_string()
        } else {
            keys.join(", ")
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character class a rule could put in a value or a name comes back from SQL as
    /// itself: one statement, one literal, one identifier, nothing run.
    #[tokio::test]
    async fn literals_and_identifiers_hold_every_character_class() {
        let ctx = datafusion::prelude::SessionContext::new();
        let classes = [
            "plain",
            "it's",
            "''",
            "a\"b",
            "back\\slash",
            "semi;colon",
            "-- comment",
            "/* c */",
            "new\nline",
            "tab\t",
            "unicode é 漢字 🦀",
            "\u{202e}rtl",
            "x' OR '1'='1",
            "y') OR true OR ('",
            "$1",
            "${since}",
            "%_",
            "`tick`",
            "[b]",
            "a = 'b'",
        ];
        for s in classes {
            let sql = format!("SELECT {} AS {}", literal(s), ident(s));
            let statements = datafusion::sql::parser::DFParser::parse_sql(&sql).unwrap();
            assert_eq!(statements.len(), 1, "{sql}");
            let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
            let schema = batches[0].schema();
            assert_eq!(schema.field(0).name(), s, "{sql}");
            let value =
                arrow::util::display::array_value_to_string(batches[0].column(0), 0).unwrap();
            assert_eq!(value, s, "{sql}");
        }
    }

    #[test]
    fn fields_map_to_columns_struct_fields_and_json() {
        let f = |name: &str| cloudtrail_field(name).unwrap();
        assert_eq!(f("eventName").as_deref(), Some("\"eventname\""));
        assert_eq!(f("EVENTSOURCE").as_deref(), Some("\"eventsource\""));
        assert_eq!(
            f("userIdentity.arn").as_deref(),
            Some("\"useridentity\"['arn']")
        );
        assert_eq!(
            f("userIdentity.sessionContext.sessionIssuer.type").as_deref(),
            Some("\"useridentity\"['sessioncontext']['sessionissuer']['type']")
        );
        assert_eq!(
            f("requestParameters.bucketName").as_deref(),
            Some("json_extract_scalar(\"requestparameters\", '$[\"bucketName\"]')")
        );
        assert_eq!(
            f("additionalEventData.MFAUsed").as_deref(),
            Some("json_extract_scalar(\"additionaleventdata\", '$[\"MFAUsed\"]')")
        );
        assert_eq!(
            f("requestParameters").as_deref(),
            Some("\"requestparameters\"")
        );
        assert_eq!(f("status"), None);
    }

    #[test]
    fn wildcards_and_escapes() {
        assert_eq!(like_pattern("a*b?c"), ("a%b_c".into(), true));
        assert_eq!(like_pattern("100%_x"), ("100\\%\\_x".into(), false));
        assert_eq!(like_pattern("a\\*b"), ("a\\*b".into(), false));
        assert_eq!(unescape_like("a\\*b\\%"), "a*b%");
        assert_eq!(like_pattern("c:\\windows"), ("c:\\\\windows".into(), false));
    }

    #[test]
    fn negation_is_two_valued() {
        let p = Pred::And(vec![
            Pred::Atom("a = 1".into()),
            Pred::Not(Box::new(Pred::Atom("b = 2".into()))),
        ]);
        assert_eq!(p.write(false), "(a = 1 AND NOT (coalesce(b = 2, false)))");
    }
}
