//! The planted-attack scenario (issue #4): over a generated benign week with one attack per
//! detection family on the last day, `detect` finds every attack with the right detection and
//! evidence on the planted lines, and no high or critical finding points anywhere else.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;
use serde_json::Value;

fn generate(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["generate", "scenario", "--out", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    ok(s3trawl(&args));
    serde_json::from_str(&std::fs::read_to_string(dir.join("scenario.json")).unwrap()).unwrap()
}

/// Runs the manifest's own command from the scenario folder.
fn detect(dir: &Path, manifest: &Value) -> (Option<i32>, Vec<Value>) {
    let command = manifest["command"].as_str().unwrap();
    let mut args: Vec<&str> = command.split_whitespace().skip(1).collect();
    args.extend(["--format", "json"]);
    let o = s3trawl_in(dir, &args);
    assert!(!stderr(&o).contains("failed"), "{}", stderr(&o));
    let findings =
        serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&o)));
    (o.status.code(), findings)
}

/// (object suffix, line) of every planted record.
fn planted(attack: &Value) -> BTreeSet<(String, i64)> {
    attack["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["object"].as_str().unwrap().to_string(),
                r["line"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn evidence(finding: &Value) -> Vec<(String, i64)> {
    finding["evidence"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|e| {
                    (
                        e["log_object"].as_str().unwrap().to_string(),
                        e["log_line"].as_i64().unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn is_planted(set: &BTreeSet<(String, i64)>, (object, line): &(String, i64)) -> bool {
    set.iter()
        .any(|(o, l)| l == line && object.ends_with(&format!("/{o}")))
}

fn check(dir: &Path, manifest: &Value) {
    let (code, findings) = detect(dir, manifest);
    assert_eq!(code, Some(1), "high findings make detect exit 1");
    let attacks = manifest["attacks"].as_array().unwrap();
    assert_eq!(attacks.len(), 6);
    let families: BTreeSet<&str> = attacks
        .iter()
        .map(|a| a["family"].as_str().unwrap())
        .collect();
    assert_eq!(
        families,
        BTreeSet::from([
            "acl",
            "anomalous-ip",
            "deletes",
            "exfiltration",
            "exposure",
            "transport"
        ]),
        "one attack per detection family"
    );
    let mut all_planted = BTreeSet::new();
    for attack in attacks {
        let records = planted(attack);
        assert!(!records.is_empty(), "{attack}");
        all_planted.extend(records.iter().cloned());
        let mut expected = vec![attack["detection"].as_str().unwrap()];
        expected.extend(
            attack["also"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_str().unwrap()),
        );
        for id in expected {
            let hit = findings.iter().find(|f| {
                f["detection"] == id && evidence(f).iter().any(|e| is_planted(&records, e))
            });
            assert!(
                hit.is_some(),
                "{} ({}) is not found by {id} with evidence on its lines",
                attack["name"],
                attack["family"]
            );
        }
    }
    // No high or critical finding on benign traffic: all its evidence is planted.
    for f in &findings {
        if matches!(f["severity"].as_str(), Some("high" | "critical")) {
            let ev = evidence(f);
            assert!(!ev.is_empty(), "{f}");
            for e in &ev {
                assert!(
                    is_planted(&all_planted, e),
                    "{} ({}) has benign evidence {e:?}",
                    f["detection"],
                    f["entity"]
                );
            }
        }
    }
}

#[test]
fn detect_finds_every_planted_attack_and_nothing_else_at_high() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = generate(dir.path(), &[]);
    assert_eq!(manifest["days"], 7);
    assert!(manifest["access_log_lines"].as_u64().unwrap() > 40_000);
    assert!(manifest["cloudtrail_records"].as_u64().unwrap() > 5_000);
    check(dir.path(), &manifest);
}

#[test]
fn another_seed_a_shorter_and_quieter_week() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = generate(
        dir.path(),
        &[
            "--seed",
            "2",
            "--scale",
            "0.5",
            "--days",
            "5",
            "--start",
            "2026-10-10",
        ],
    );
    assert_eq!(manifest["since"], "2026-10-14");
    check(dir.path(), &manifest);
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let args = ["--seed", "9", "--scale", "0.1", "--days", "3"];
    let ma = generate(a.path(), &args);
    let mb = generate(b.path(), &args);
    assert_eq!(ma, mb);
    let object = ma["attacks"][0]["records"][0]["object"].as_str().unwrap();
    assert_eq!(
        std::fs::read(a.path().join(object)).unwrap(),
        std::fs::read(b.path().join(object)).unwrap()
    );
}
