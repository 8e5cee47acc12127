//! Sigma rules run unchanged: every SigmaHQ CloudTrail rule of the shared corpus loads (or is
//! skipped for a stated reason) and its SQL plans and runs; for each rule the records our SQL
//! matches are exactly those an independent evaluator (the `sigma-rust` crate) matches, over the
//! CloudTrail records of the shared corpora, Panther's rule tests, and records built from each
//! rule's own values (as they are, in other letter case, and with each value changed); a firing
//! and a quiet case per modifier, condition form and correlation type; `sigma convert` against a
//! golden file.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{corpora, ok, project, s3trawl, stderr};
use s3trawl::format::cloudtrail::schema::RECORD;
use s3trawl::sigma::condition::Condition;
use s3trawl::sigma::rule::{self, DetectionRule, FieldTest, SigmaRule};
use s3trawl::sigma::translate;
use serde_json::{Map, Value, json};

fn sigma_corpus() -> PathBuf {
    corpora().join("sigma/sigmahq-aws-cloudtrail")
}

/// The detection rules of `paths`, and those skipped.
fn rules(paths: &[PathBuf]) -> (Vec<DetectionRule>, Vec<rule::Skipped>) {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for file in rule::files(paths).unwrap() {
        let (found, s) = rule::read(&file);
        skipped.extend(s);
        for r in found {
            if let SigmaRule::Detection(d) = r {
                out.push(d);
            }
        }
    }
    (out, skipped)
}

/// Every CloudTrail record of the shared corpora and of Panther's rule tests.
fn corpus_events() -> Vec<Value> {
    let mut out = Vec::new();
    let mut files = Vec::new();
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    walk(&corpora().join("cloudtrail"), &mut files);
    files.sort();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        if let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(&text) {
            if let Some(Value::Array(records)) = doc.get("Records") {
                out.extend(records.iter().cloned());
            }
            continue;
        }
        for line in text.lines() {
            if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(line)
                && v.get("eventVersion").is_some()
            {
                out.push(v);
            }
        }
    }
    let panther =
        std::fs::read_to_string(corpora().join("detections/panther/cloudtrail_rule_tests.jsonl"))
            .unwrap();
    for line in panther.lines() {
        let test: Value = serde_json::from_str(line).unwrap();
        if let Some(Value::Object(log)) = test.get("log") {
            let log: Map<String, Value> = log
                .iter()
                .filter(|(k, _)| !k.starts_with("p_"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            out.push(Value::Object(log));
        }
    }
    out
}

/// Sets `path` (dotted) in `event` to `value`, making the objects on the way.
fn set(event: &mut Value, path: &str, value: Value) {
    let mut cur = event;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = json!({});
        }
        let map = cur.as_object_mut().unwrap();
        if i + 1 == parts.len() {
            map.insert(part.to_string(), value);
            return;
        }
        cur = map.entry(part.to_string()).or_insert_with(|| json!({}));
    }
}

/// A Sigma value (wildcards, escapes) as a concrete text that it matches.
fn instance(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push_str("xyz"),
            '?' => out.push('q'),
            '\\' if matches!(chars.peek(), Some('*' | '?' | '\\')) => {
                out.push(chars.next().unwrap());
            }
            c => out.push(c),
        }
    }
    out
}

/// Whether `field` is a column that keeps a JSON object as its text (`requestParameters`).
fn whole_json(field: &str) -> bool {
    !field.contains('.')
        && RECORD.iter().any(|n| {
            n.key.eq_ignore_ascii_case(field)
                && matches!(n.kind, s3trawl::format::cloudtrail::schema::Kind::Json)
        })
}

/// Records built from a rule's own values: for each group of each search, one record that has
/// every tested field set to a value the test accepts; the same in upper case; and one record
/// per test with that field changed.
fn rule_events(rule: &DetectionRule) -> Vec<Value> {
    let base = json!({"eventVersion": "1.08", "eventTime": "2026-11-07T10:00:00Z",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/sigma"},
        "sourceIPAddress": "198.51.100.7", "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject"});
    let mut out = Vec::new();
    let variants = |event: Value, tests: Vec<&FieldTest>, out: &mut Vec<Value>| {
        out.push(event.clone());
        // Letter case does not matter (unless |cased).
        out.push(upper_strings(&event));
        // Each tested field changed: the test fails.
        for t in tests {
            let mut changed = event.clone();
            set(&mut changed, &t.field, json!("something-else-entirely"));
            out.push(changed);
        }
    };
    // One record that satisfies the whole condition (the first way of each `or`).
    let mut event = base.clone();
    let mut tests = Vec::new();
    satisfy(rule, &rule.condition, &mut event, &mut tests);
    variants(event, tests, &mut out);
    // And one per group of each search on its own.
    for search in rule.searches.values() {
        for group in &search.groups {
            let mut event = base.clone();
            apply(group, &mut event);
            variants(event, group.iter().collect(), &mut out);
        }
    }
    out
}

/// Sets the fields of `event` so that `condition` holds (not what `not` wraps).
fn satisfy<'a>(
    rule: &'a DetectionRule,
    condition: &Condition,
    event: &mut Value,
    tests: &mut Vec<&'a FieldTest>,
) {
    let search = |name: &str, event: &mut Value, tests: &mut Vec<&'a FieldTest>| {
        if let Some(group) = rule.searches.get(name).and_then(|s| s.groups.first()) {
            apply(group, event);
            tests.extend(group.iter());
        }
    };
    match condition {
        Condition::Search(name) => search(name, event, tests),
        Condition::Not(_) => {}
        Condition::And(items) => items.iter().for_each(|c| satisfy(rule, c, event, tests)),
        Condition::Or(items) => {
            if let Some(first) = items.first() {
                satisfy(rule, first, event, tests);
            }
        }
        Condition::Of { all, pattern } => {
            let names: Vec<&String> = rule
                .searches
                .keys()
                .filter(|n| s3trawl::sigma::condition::matches(pattern, n))
                .collect();
            let chosen = if *all {
                &names[..]
            } else {
                &names[..names.len().min(1)]
            };
            for name in chosen {
                search(name, event, tests);
            }
        }
    }
}

/// A text that the regular expression `re` matches, for the simple ones rules use (`.+`, `.*`,
/// escaped dots), checked.
fn regex_instance(re: &str) -> Option<String> {
    let text = re
        .trim_start_matches('^')
        .trim_end_matches('$')
        .replace(".+", "x")
        .replace(".*", "")
        .replace("\\.", ".");
    regex::Regex::new(re).ok()?.is_match(&text).then_some(text)
}

/// Sets the fields of `event` so that every test of `group` holds.
fn apply(group: &[FieldTest], event: &mut Value) {
    let mut refs: Vec<(String, String)> = Vec::new();
    for t in group {
        let has = |m: &str| t.modifiers.iter().any(|x| x == m);
        let first = match t.values.first().cloned() {
            Some(serde_norway::Value::String(s)) => s,
            Some(serde_norway::Value::Number(n)) => n.to_string(),
            Some(serde_norway::Value::Bool(b)) => {
                if !has("exists") {
                    set(event, &t.field, Value::Bool(b));
                }
                continue;
            }
            _ => continue,
        };
        if has("re") {
            if let Some(text) = regex_instance(&first) {
                set(event, &t.field, Value::String(text));
            }
            continue;
        }
        if has("cidr") {
            let network = first.split('/').next().unwrap_or_default().to_string();
            set(event, &t.field, Value::String(network));
            continue;
        }
        if has("fieldref") {
            refs.push((t.field.clone(), first));
            continue;
        }
        if whole_json(&t.field) {
            // A JSON object tested as text: an object whose text holds every value (a quoted
            // value as a key, quotes and all).
            let keys: Map<String, Value> = t
                .values
                .iter()
                .filter_map(|v| v.as_str())
                .map(|v| (instance(v.trim_matches('"')), Value::Bool(true)))
                .collect();
            set(event, &t.field, Value::Object(keys));
            continue;
        }
        let value = if has("all") {
            t.values
                .iter()
                .filter_map(|v| v.as_str().map(instance))
                .collect::<Vec<_>>()
                .join(" ")
        } else if has("contains") {
            format!("pre-{}-post", instance(&first))
        } else if has("startswith") {
            format!("{}-post", instance(&first))
        } else if has("endswith") {
            format!("pre-{}", instance(&first))
        } else {
            instance(&first)
        };
        set(event, &t.field, Value::String(value));
    }
    for (field, other) in refs {
        set(event, &field, json!("same-value"));
        set(event, &other, json!("same-value"));
    }
}

fn upper_strings(v: &Value) -> Value {
    match v {
        Value::String(s) if s.starts_with("arn:") || s.contains("amazonaws") => {
            Value::String(s.to_uppercase())
        }
        Value::String(s) => Value::String(s.to_uppercase()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let keep = matches!(k.as_str(), "eventTime" | "eventVersion");
                    (k.clone(), if keep { v.clone() } else { upper_strings(v) })
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(upper_strings).collect()),
        other => other.clone(),
    }
}

/// The events numbered (`eventID` `ev-N`, an `eventTime` where missing), written as one
/// CloudTrail file in `dir`.
fn write_events(dir: &Path, events: &mut [Value]) {
    for (i, e) in events.iter_mut().enumerate() {
        let map = e.as_object_mut().unwrap();
        map.insert("eventID".into(), json!(format!("ev-{i}")));
        map.entry("eventTime")
            .or_insert_with(|| json!("2026-11-07T10:00:00Z"));
        map.entry("eventVersion").or_insert_with(|| json!("1.08"));
    }
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("events.json"),
        serde_json::to_string(&json!({"Records": events})).unwrap(),
    )
    .unwrap();
}

/// The event as sigma-rust should see it for `rule`: fields the rule tests for `null` present
/// (CloudTrail leaves out what is null: the specification's null is absent or null), and an
/// object tested as a whole given as the JSON text our columns hold.
fn for_evaluator(rule: &DetectionRule, event: &Value) -> Value {
    let mut e = event.clone();
    // What the table holds of a record: CloudTrail's fields (a key it does not define, such
    // as the `status` one SigmaHQ rule tests, is not kept).
    e.as_object_mut()
        .unwrap()
        .retain(|k, _| k == "eventTime" || RECORD.iter().any(|n| n.key.eq_ignore_ascii_case(k)));
    // Keys as CloudTrail spells them: our decoder reads `sessioncontext` as `sessionContext`
    // (field names match without regard to case), sigma-rust only the spelling the rule has.
    canonical_keys(&mut e, RECORD);
    for search in rule.searches.values() {
        for t in search.groups.iter().flatten() {
            let tests_null = t
                .values
                .iter()
                .any(|v| matches!(v, serde_norway::Value::Null));
            let map = e.as_object_mut().unwrap();
            if tests_null && !t.field.contains('.') && !map.contains_key(&t.field) {
                map.insert(t.field.clone(), Value::Null);
            }
            if !t.field.contains('.')
                && let Some(v) = map.get(&t.field).filter(|v| {
                    matches!(v, Value::Object(_) | Value::Array(_))
                        || (whole_json(&t.field) && !v.is_null())
                })
            {
                let text = serde_json::to_string(v).unwrap();
                map.insert(t.field.clone(), Value::String(text));
            }
        }
    }
    e
}

/// Renames the keys of `value` that match a schema node without regard to case to the node's
/// key, down through nested objects.
fn canonical_keys(value: &mut Value, nodes: &[s3trawl::format::cloudtrail::schema::Node]) {
    use s3trawl::format::cloudtrail::schema::Kind;
    let Value::Object(map) = value else { return };
    let old = std::mem::take(map);
    for (k, mut v) in old {
        match nodes.iter().find(|n| n.key.eq_ignore_ascii_case(&k)) {
            Some(node) => {
                if let Kind::Struct(children) = node.kind {
                    canonical_keys(&mut v, children);
                }
                map.insert(node.key.to_string(), v);
            }
            None => {
                map.insert(k, v);
            }
        }
    }
}

/// For each rule: the event IDs our SQL matches and those sigma-rust matches.
async fn both(
    rules: &[DetectionRule],
    texts: &BTreeMap<String, String>,
    events: &[Value],
    dir: &Path,
) -> Vec<(String, BTreeSet<String>, BTreeSet<String>)> {
    let location = s3trawl::source::LogLocation::parse(dir.to_str().unwrap()).unwrap();
    let ctx = s3trawl::engine::open(
        &s3trawl::engine::EngineOptions::default(),
        &s3trawl::engine::Sources {
            logs: std::slice::from_ref(&location),
            lake: None,
            fetching: Default::default(),
        },
        &s3trawl::scan::ScanLog::new(),
    )
    .await
    .unwrap();
    s3trawl::detect::udf::register(&ctx, &Arc::new(Default::default()));
    let mut out = Vec::new();
    for r in rules {
        let predicate = translate::predicate(r).unwrap();
        let sql = format!("SELECT eventid FROM cloudtrail WHERE {predicate}");
        let batches = ctx
            .sql(&sql)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}\n{sql}", r.meta.file))
            .collect()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}\n{sql}", r.meta.file));
        let mut ours = BTreeSet::new();
        for b in &batches {
            let c = s3trawl::engine::cells::Columns::new(b);
            for row in 0..c.rows() {
                ours.insert(c.text("eventid", row).unwrap().unwrap());
            }
        }
        let sigma = sigma_rust::rule_from_yaml(&texts[&r.meta.file]).unwrap();
        let mut theirs = BTreeSet::new();
        for e in events {
            let event = sigma_rust::event_from_json(&for_evaluator(r, e).to_string()).unwrap();
            if sigma.is_match(&event) {
                theirs.insert(e["eventID"].as_str().unwrap().to_string());
            }
        }
        out.push((r.meta.file.clone(), ours, theirs));
    }
    out
}

fn texts(rules: &[DetectionRule]) -> BTreeMap<String, String> {
    rules
        .iter()
        .map(|r| {
            (
                r.meta.file.clone(),
                std::fs::read_to_string(&r.meta.file).unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_sigmahq_rule_matches_what_an_independent_evaluator_matches() {
    need_corpora!();
    let (rules, skipped) = rules(&[sigma_corpus()]);
    assert_eq!(rules.len() + skipped.len(), 57);
    assert!(skipped.is_empty(), "every SigmaHQ rule runs: {skipped:#?}");
    let mut events = corpus_events();
    assert!(events.len() > 400, "{} corpus events", events.len());
    for r in &rules {
        events.extend(rule_events(r));
    }
    let d = tempfile::tempdir().unwrap();
    write_events(d.path(), &mut events);
    let texts = texts(&rules);
    let compared = both(&rules, &texts, &events, d.path()).await;
    let mut quiet = Vec::new();
    for (file, ours, theirs) in &compared {
        assert_eq!(
            ours, theirs,
            "{file}: ours (left) and sigma-rust's (right) differ"
        );
        if ours.is_empty() {
            quiet.push(file.rsplit('/').next().unwrap());
        }
    }
    // Every rule fires on the records built from its values, but the one that requires a
    // field CloudTrail does not have (`status: success`): it can never match a CloudTrail
    // record, for us or for sigma-rust given what the record holds.
    assert_eq!(
        quiet,
        ["aws_delete_saml_provider.yml"],
        "rules that matched nothing"
    );
    let total: usize = compared.iter().map(|(_, o, _)| o.len()).sum();
    eprintln!(
        "{} rules, {} events, {} matches, each equal to sigma-rust's",
        rules.len(),
        events.len(),
        total
    );
}

/// Small rules, each a modifier or condition form, with the records that must and must not
/// match them; sigma-rust agrees on every one.
#[tokio::test(flavor = "multi_thread")]
async fn each_modifier_and_condition_form_fires_and_stays_quiet() {
    let cases: &[(&str, &str, Value, Value)] = &[
        (
            "plain, any case",
            "eventName: DeleteBucket",
            json!({"eventName": "deletebucket"}),
            json!({"eventName": "DeleteBuckets"}),
        ),
        (
            "list",
            "eventName: [StopLogging, DeleteTrail]",
            json!({"eventName": "DeleteTrail"}),
            json!({"eventName": "UpdateTrail"}),
        ),
        (
            "wildcards",
            "eventName: 'Put*Policy?'",
            json!({"eventName": "PutBucketPolicyX"}),
            json!({"eventName": "PutBucketPolicy"}),
        ),
        (
            "escaped wildcard",
            "userAgent: 'a\\*b'",
            json!({"userAgent": "a*b"}),
            json!({"userAgent": "aXb"}),
        ),
        (
            "contains",
            "userAgent|contains: TruffleHog",
            json!({"userAgent": "x trufflehog y"}),
            json!({"userAgent": "aws-cli"}),
        ),
        (
            "startswith",
            "eventName|startswith: Delete",
            json!({"eventName": "DeleteObject"}),
            json!({"eventName": "PutObjectDelete"}),
        ),
        (
            "endswith",
            "eventName|endswith: Object",
            json!({"eventName": "PutObject"}),
            json!({"eventName": "PutObjects"}),
        ),
        (
            "contains|all",
            "userAgent|contains|all: [aws, cli]",
            json!({"userAgent": "aws-cli/2"}),
            json!({"userAgent": "aws-sdk"}),
        ),
        (
            "cased",
            "eventName|cased: DeleteBucket",
            json!({"eventName": "DeleteBucket"}),
            json!({"eventName": "deletebucket"}),
        ),
        (
            "re",
            "userIdentity.arn|re: '.+:assumed-role/aws:.+'",
            json!({"userIdentity": {"arn": "arn:aws:sts::1:assumed-role/aws:ec2/i"}}),
            json!({"userIdentity": {"arn": "arn:aws:iam::1:user/x"}}),
        ),
        (
            "cidr",
            "sourceIPAddress|cidr: 10.0.0.0/8",
            json!({"sourceIPAddress": "10.1.2.3"}),
            json!({"sourceIPAddress": "11.1.2.3"}),
        ),
        (
            "fieldref",
            "userIdentity.userName|fieldref: requestParameters.userName",
            json!({"userIdentity": {"userName": "bob"}, "requestParameters": {"userName": "bob"}}),
            json!({"userIdentity": {"userName": "bob"}, "requestParameters": {"userName": "eve"}}),
        ),
        (
            "exists",
            "errorCode|exists: true",
            json!({"errorCode": "AccessDenied"}),
            json!({"eventName": "x"}),
        ),
        (
            "not exists",
            "errorCode|exists: false",
            json!({"eventName": "x"}),
            json!({"errorCode": "AccessDenied"}),
        ),
        (
            "null",
            "errorCode: null",
            json!({"eventName": "x"}),
            json!({"errorCode": "AccessDenied"}),
        ),
        (
            "JSON path",
            "requestParameters.bucketName: secret-bucket",
            json!({"requestParameters": {"bucketName": "Secret-Bucket"}}),
            json!({"requestParameters": {"bucketName": "other"}}),
        ),
        (
            "struct path",
            "userIdentity.sessionContext.sessionIssuer.type: Role",
            json!({"userIdentity": {"sessionContext": {"sessionIssuer": {"type": "Role"}}}}),
            json!({"userIdentity": {"type": "Role"}}),
        ),
        (
            "whole JSON object",
            "requestParameters|contains: 'Principal'",
            json!({"requestParameters": {"policy": "Principal"}}),
            json!({"requestParameters": {"policy": "none"}}),
        ),
        (
            "gt",
            "additionalEventData.bytesTransferredOut|gt: 1000",
            json!({"additionalEventData": {"bytesTransferredOut": 5000}}),
            json!({"additionalEventData": {"bytesTransferredOut": 10}}),
        ),
    ];
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("rules");
    std::fs::create_dir_all(&dir).unwrap();
    let mut events = Vec::new();
    let mut expected = Vec::new();
    for (i, (name, test, fire, quiet)) in cases.iter().enumerate() {
        let yaml = format!(
            "title: 'case {name}'\nid: case-{i}\nlogsource:\n  product: aws\n  service: cloudtrail\n\
             detection:\n  selection:\n    {test}\n  condition: selection\nlevel: low\n"
        );
        std::fs::write(dir.join(format!("case-{i:02}.yml")), yaml).unwrap();
        expected.push((events.len(), events.len() + 1));
        events.push(fire.clone());
        events.push(quiet.clone());
    }
    // Condition forms: and, or, not (a missing field under not), 1 of, all of, them, parentheses.
    let forms = [
        ("sel_a and not filter", true, false),
        ("sel_a or sel_b", true, true),
        ("1 of sel_*", true, true),
        ("all of sel_*", false, false),
        ("all of them", false, false),
        ("not 1 of filter*", true, false),
        ("(sel_a or sel_b) and not filter", true, false),
    ];
    let base = events.len();
    // Event A: eventName A, no errorCode; event B: eventName B, errorCode set.
    events.push(json!({"eventName": "A"}));
    events.push(json!({"eventName": "B", "errorCode": "Denied"}));
    for (i, (condition, a, b)) in forms.iter().enumerate() {
        let yaml = format!(
            "title: form {i}\nid: form-{i}\nlogsource:\n  product: aws\n  service: cloudtrail\n\
             detection:\n  sel_a:\n    eventName: A\n  sel_b:\n    eventName: B\n  filter:\n    errorCode: Denied\n\
             \x20 condition: {condition}\nlevel: low\n"
        );
        std::fs::write(dir.join(format!("form-{i}.yml")), yaml).unwrap();
        let _ = (a, b);
    }
    let (rules, skipped) = rules(std::slice::from_ref(&dir));
    assert!(skipped.is_empty(), "{skipped:#?}");
    let logs = d.path().join("logs");
    write_events(&logs, &mut events);
    let texts = texts(&rules);
    let compared = both(&rules, &texts, &events, &logs).await;
    let by_id: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = compared
        .into_iter()
        .zip(&rules)
        .map(|((_, o, t), r)| (r.meta.id.clone(), (o, t)))
        .collect();
    let ev = |n: usize| format!("ev-{n}");
    for (i, (name, ..)) in cases.iter().enumerate() {
        let (ours, theirs) = &by_id[&format!("case-{i}")];
        assert_eq!(ours, theirs, "{name}: sigma-rust disagrees");
        let (fire, quiet) = expected[i];
        assert!(ours.contains(&ev(fire)), "{name}: did not fire: {ours:?}");
        assert!(
            !ours.contains(&ev(quiet)),
            "{name}: fired on the quiet record"
        );
    }
    for (i, (condition, a, b)) in forms.iter().enumerate() {
        let (ours, theirs) = &by_id[&format!("form-{i}")];
        assert_eq!(ours, theirs, "{condition}: sigma-rust disagrees");
        assert_eq!(ours.contains(&ev(base)), *a, "{condition} on A: {ours:?}");
        assert_eq!(
            ours.contains(&ev(base + 1)),
            *b,
            "{condition} on B: {ours:?}"
        );
    }
}

/// Correlations: a burst of failed logins (event_count), one user from several addresses
/// (value_count), and a trail stopped after a policy change (temporal), each beside a quiet
/// group that does not reach the threshold.
#[test]
fn correlations_count_per_group_and_window() {
    let d = tempfile::tempdir().unwrap();
    let rules = d.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("correlations.yml"),
        "title: Failed console login\nid: failed-login\nname: failed_login\n\
         logsource: {product: aws, service: cloudtrail}\n\
         detection:\n  selection:\n    eventName: ConsoleLogin\n    errorMessage: Failed authentication\n  condition: selection\nlevel: low\n\
         ---\n\
         title: Console login\nid: any-login\nname: any_login\n\
         logsource: {product: aws, service: cloudtrail}\n\
         detection:\n  selection:\n    eventName: ConsoleLogin\n  condition: selection\nlevel: low\n\
         ---\n\
         title: Policy changed\nid: policy-change\nname: policy_change\n\
         logsource: {product: aws, service: cloudtrail}\n\
         detection:\n  selection:\n    eventName: PutBucketPolicy\n  condition: selection\nlevel: low\n\
         ---\n\
         title: Trail stopped\nid: trail-stop\nname: trail_stop\n\
         logsource: {product: aws, service: cloudtrail}\n\
         detection:\n  selection:\n    eventName: StopLogging\n  condition: selection\nlevel: low\n\
         ---\n\
         title: Many failed logins\nid: login-burst\n\
         correlation:\n  type: event_count\n  rules: [failed_login]\n  group-by: [userIdentity.arn]\n  timespan: 10m\n  condition: {gte: 3}\nlevel: high\n\
         ---\n\
         title: Logins from many addresses\nid: login-spread\n\
         correlation:\n  type: value_count\n  rules: [any_login]\n  group-by: [userIdentity.arn]\n  timespan: 1h\n  condition: {field: sourceIPAddress, gte: 3}\nlevel: medium\n\
         ---\n\
         title: Policy change then trail stopped\nid: change-then-stop\n\
         correlation:\n  type: temporal\n  rules: [policy_change, trail_stop]\n  group-by: [userIdentity.arn]\n  timespan: 30m\nlevel: critical\n",
    )
    .unwrap();
    let user = |n: &str| format!("arn:aws:iam::111122223333:user/{n}");
    let at = |m: u32| format!("2026-11-07T10:{m:02}:00Z");
    let mut events = Vec::new();
    let mut event = |name: &str, who: &str, minute: u32, ip: &str, error: Option<&str>| {
        let mut e = json!({"eventName": name, "eventTime": at(minute), "sourceIPAddress": ip,
            "eventSource": "signin.amazonaws.com", "userIdentity": {"type": "IAMUser", "arn": user(who)}});
        if let Some(m) = error {
            e["errorMessage"] = json!(m);
        }
        events.push(e);
    };
    for m in [1, 2, 3, 4] {
        event(
            "ConsoleLogin",
            "mallory",
            m,
            "203.0.113.9",
            Some("Failed authentication"),
        );
    }
    event(
        "ConsoleLogin",
        "alice",
        1,
        "198.51.100.1",
        Some("Failed authentication"),
    );
    event(
        "ConsoleLogin",
        "alice",
        2,
        "198.51.100.1",
        Some("Failed authentication"),
    );
    for (m, ip) in [(5, "192.0.2.1"), (6, "192.0.2.2"), (7, "192.0.2.3")] {
        event("ConsoleLogin", "eve", m, ip, None);
    }
    event("PutBucketPolicy", "trudy", 10, "192.0.2.9", None);
    event("StopLogging", "trudy", 20, "192.0.2.9", None);
    event("PutBucketPolicy", "bob", 10, "192.0.2.8", None);
    let logs = d.path().join("logs");
    write_events(&logs, &mut events);
    let o = s3trawl(&[
        "detect",
        "--quiet",
        "--logs",
        logs.to_str().unwrap(),
        "--sigma",
        rules.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let findings: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    let of = |id: &str| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f["detection"] == format!("sigma:{id}"))
            .map(|f| f["entity"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(of("login-burst"), [user("mallory")], "{findings:#?}");
    assert_eq!(of("login-spread"), [user("eve")]);
    assert_eq!(of("change-then-stop"), [user("trudy")]);
    // The rules a correlation names do not run on their own.
    assert!(of("failed-login").is_empty() && of("policy-change").is_empty());
    let burst = findings
        .iter()
        .find(|f| f["detection"] == "sigma:login-burst")
        .unwrap();
    assert_eq!(burst["count"], 4);
    assert_eq!(burst["severity"], "high");
}

#[test]
fn sigma_convert_prints_the_golden_sql_and_datafusion_plans_it() {
    need_corpora!();
    let out = ok(s3trawl(&[
        "sigma",
        "convert",
        "../shared/corpora/sigma/sigmahq-aws-cloudtrail",
    ]));
    let golden = std::fs::read_to_string(project().join("tests/golden/sigma-convert.sql")).unwrap();
    assert_eq!(
        out, golden,
        "sigma convert differs from tests/golden/sigma-convert.sql"
    );
    // Every statement plans and runs over the corpora's CloudTrail.
    let statements: Vec<&str> = out.split(";\n").filter(|s| s.contains("SELECT")).collect();
    assert_eq!(statements.len(), 57);
    let mut shell = std::process::Command::new(env!("CARGO_BIN_EXE_s3trawl"))
        .args([
            "shell",
            "--logs",
            "../shared/corpora/cloudtrail",
            "--format",
            "csv",
        ])
        .current_dir(project())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        shell
            .stdin
            .take()
            .unwrap()
            .write_all(out.as_bytes())
            .unwrap();
    }
    let o = shell.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // And the decoder's pushdown receives the rules' event names.
    let plan = ok(s3trawl(&[
        "sql",
        "--logs",
        "../shared/corpora/cloudtrail",
        "-e",
        &format!(
            "EXPLAIN {}",
            statements[0]
                .lines()
                .filter(|l| !l.starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    ]));
    assert!(
        plan.contains("prefilter=lower(eventname) IN (deleteguardrail)"),
        "{plan}"
    );
}

#[test]
fn unsupported_rules_are_skipped_with_their_file_and_reason_and_the_others_run() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::write(
        dir.join("keywords.yml"),
        "title: Keywords\nid: kw\nlogsource: {product: aws, service: cloudtrail}\n\
         detection:\n  keywords:\n    - evil\n  condition: keywords\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("windows.yml"),
        "title: Windows\nid: win\nlogsource: {product: windows, service: security}\n\
         detection:\n  selection:\n    EventID: 4625\n  condition: selection\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("count.yml"),
        "title: Old count\nid: old\nlogsource: {product: aws, service: cloudtrail}\n\
         detection:\n  selection:\n    eventName: ConsoleLogin\n  condition: selection | count() by sourceIPAddress > 5\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("good.yml"),
        "title: Good\nid: good\nlogsource: {product: aws, service: cloudtrail}\n\
         detection:\n  selection:\n    eventName: ConsoleLogin\n  condition: selection\nlevel: high\n",
    )
    .unwrap();
    let list = ok(s3trawl(&[
        "detect",
        "--list",
        "--sigma",
        dir.to_str().unwrap(),
    ]));
    assert!(list.contains("sigma:good"), "{list}");
    for (file, why) in [
        ("keywords.yml", "keyword"),
        ("windows.yml", "log source"),
        ("count.yml", "deprecated"),
    ] {
        assert!(
            list.lines()
                .any(|l| l.contains(file) && l.contains("skipped") && l.contains(why)),
            "{file}: {list}"
        );
    }
    let out = dir.join("report");
    let o = s3trawl(&[
        "report",
        "--quiet",
        "--logs",
        corpora().join("cloudtrail").to_str().unwrap(),
        "--sigma",
        dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    if !corpora().is_dir() {
        return;
    }
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    assert_eq!(
        stderr(&o).matches("Sigma rule").count(),
        3,
        "{}",
        stderr(&o)
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["skipped_rules"].as_array().unwrap().len(), 3);
    assert!(
        report["ran"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "sigma:good")
    );
}

/// Our log source for server access logs: the example rules of `queries/sigma/` load, read
/// `access_logs` by its column names, fire on the records they describe and stay quiet on the
/// others.
#[test]
fn the_s3_access_log_source_and_its_example_rules() {
    let d = tempfile::tempdir().unwrap();
    let t = chrono::DateTime::parse_from_rfc3339("2026-11-07T10:00:00Z")
        .unwrap()
        .to_utc();
    let line = |n: usize, op: &str, status: &str, requester: &str, ip: &str, agent: &str| {
        common::access_record(
            t + chrono::Duration::seconds(n as i64),
            &format!("REQ{n:06}"),
            op,
            &format!("k{n}"),
        )
        .replace(" 200 - 113 ", &format!(" {status} - 113 "))
        .replace(
            "192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be REQ",
            &format!("{ip} {requester} REQ"),
        )
        .replace("\"S3Console/0.4\"", &format!("\"{agent}\""))
    };
    let owner = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
    let mut lines = String::new();
    let mut n = 0;
    let mut push = |op: &str, status: &str, requester: &str, ip: &str, agent: &str| {
        n += 1;
        lines.push_str(&line(n, op, status, requester, ip, agent));
    };
    push("REST.PUT.OBJECT", "200", "-", "203.0.113.66", "curl/8");
    push("REST.PUT.OBJECT", "200", owner, "192.0.2.10", "aws-cli/2");
    push("REST.DELETE.OBJECT", "403", "-", "203.0.113.67", "curl/8");
    push(
        "REST.GET.OBJECT",
        "200",
        owner,
        "192.0.2.11",
        "Boto3/1.34 Kali/2024.1",
    );
    for _ in 0..25 {
        push(
            "REST.GET.OBJECT",
            "403",
            "-",
            "198.51.100.99",
            "python-requests/2.31",
        );
    }
    for _ in 0..5 {
        push(
            "REST.GET.OBJECT",
            "403",
            "-",
            "198.51.100.5",
            "python-requests/2.31",
        );
    }
    std::fs::write(d.path().join("2026-11-07-10-05-00-ABCDEF0123456789"), lines).unwrap();
    let o = s3trawl(&[
        "detect",
        "--quiet",
        "--logs",
        d.path().to_str().unwrap(),
        "--sigma",
        "queries/sigma",
        "--only",
        "sigma:3f1c2a10-7b64-4d35-9a0e-5c8e1f2b7a01,sigma:8b0d4e62-31a9-4f7c-b6d2-0e4a9c3f5d12,sigma:5e2a8c17-9f04-4b63-a1d8-3c6e0b7f4a34",
        "--format",
        "json",
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    assert!(!stderr(&o).contains("skipped"), "{}", stderr(&o));
    let findings: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    let of = |id: &str| -> Vec<(String, u64)> {
        findings
            .iter()
            .filter(|f| f["detection"] == format!("sigma:{id}"))
            .map(|f| {
                (
                    f["entity"].as_str().unwrap().to_string(),
                    f["count"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    // Only the anonymous write S3 accepted; not the owner's, not the refused delete.
    assert_eq!(
        of("3f1c2a10-7b64-4d35-9a0e-5c8e1f2b7a01"),
        [("203.0.113.66".to_string(), 1)]
    );
    assert_eq!(
        of("8b0d4e62-31a9-4f7c-b6d2-0e4a9c3f5d12"),
        [(owner.to_string(), 1)]
    );
    // 25 refusals from one address in ten minutes, not the 5 from another.
    assert_eq!(
        of("5e2a8c17-9f04-4b63-a1d8-3c6e0b7f4a34"),
        [("198.51.100.99".to_string(), 25)]
    );
}

/// The config's `sigma = [...]` (relative to the config) adds rules as `--sigma` does.
#[test]
fn the_config_names_sigma_rules_too() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("rules")).unwrap();
    std::fs::write(
        d.path().join("rules/any.yml"),
        "title: Any access\nid: any-access\nlogsource: {product: aws, service: s3_access}\n\
         detection:\n  selection:\n    operation|startswith: REST.\n  condition: selection\nlevel: low\n",
    )
    .unwrap();
    let config = d.path().join("s3trawl.toml");
    std::fs::write(&config, "sigma = [\"rules\"]\n").unwrap();
    let list = ok(s3trawl(&[
        "detect",
        "--list",
        "--config",
        config.to_str().unwrap(),
    ]));
    assert!(list.contains("sigma:any-access"), "{list}");
    let o = s3trawl(&[
        "detect",
        "--quiet",
        "--logs",
        "sample-logs",
        "--config",
        config.to_str().unwrap(),
        "--only",
        "sigma:any-access",
        "--format",
        "json",
    ]);
    let findings: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert!(!findings.is_empty(), "{}", stderr(&o));
}
