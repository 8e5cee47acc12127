//! Sigma rules as detections: files in, detections of the pack out.
//!
//! In: Sigma rule files or folders (`detect --sigma`, the config's `sigma = [...]`). Out: one
//! [`Detection`] per rule that runs — its SQL translated here ([`translate`]), its id
//! `sigma:<rule id>`, its severity from `level`, its MITRE techniques from `tags` — and, for the
//! others, the file and why ([`Skipped`]). Rules of `logsource: {product: aws, service:
//! cloudtrail}` read `cloudtrail`; our own log source `{product: aws, service: s3_access}` reads
//! `access_logs` with its column names. Correlation rules (`event_count`, `value_count`,
//! `temporal`) count the matches of the rules they name per `group-by` and `timespan` window;
//! a rule a correlation names does not also run on its own unless the correlation says
//! `generate: true`.

pub mod condition;
pub mod limits;
pub mod rule;
pub mod translate;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::detect::{Detection, Severity};
pub use rule::{LogSource, SigmaRule, Skipped};

/// The family of every Sigma detection.
pub const FAMILY: &str = "sigma";

/// What loading Sigma rules gave.
#[derive(Debug, Default)]
pub struct Loaded {
    pub detections: Vec<Detection>,
    pub skipped: Vec<Skipped>,
    /// Rules whose id another rule has: (id, its file, the other's file). An error for the
    /// run: which of the two was meant cannot be told.
    pub duplicates: Vec<(String, String, String)>,
}

/// A detection's severity from a rule's `level`.
fn severity(level: Option<&str>) -> Severity {
    match level.map(str::to_ascii_lowercase).as_deref() {
        Some("informational") => Severity::Info,
        Some("low") => Severity::Low,
        Some("high") => Severity::High,
        Some("critical") => Severity::Critical,
        _ => Severity::Medium,
    }
}

/// MITRE ATT&CK techniques from tags (`attack.t1098.001` is `T1098.001`).
fn mitre(tags: &[String]) -> Vec<String> {
    tags.iter()
        .filter_map(|t| {
            t.to_ascii_lowercase()
                .strip_prefix("attack.t")
                .map(str::to_string)
        })
        .filter(|t| t.starts_with(|c: char| c.is_ascii_digit()))
        .map(|t| format!("T{}", t.to_ascii_uppercase()))
        .collect()
}

fn detection(meta: &rule::Meta, sources: Vec<String>, sql: String) -> Detection {
    Detection {
        id: format!("sigma:{}", meta.id),
        title: meta.title.clone(),
        severity: severity(meta.level.as_deref()),
        family: FAMILY.into(),
        sources,
        mitre: mitre(&meta.tags),
        description: meta.description.trim().to_string(),
        action: String::new(),
        references: meta.references.clone(),
        params: Vec::new(),
        sql,
        origin: meta.file.clone(),
        templated: false,
    }
}

/// The table a rule reads in a detection run: the window's view of its log source.
fn window_table(source: LogSource) -> String {
    format!("window_{}", source.table())
}

/// Loads the rules under `paths`: those that run as detections over the window's views, and
/// those skipped with why.
pub fn load(paths: &[PathBuf]) -> std::io::Result<Loaded> {
    let mut loaded = Loaded::default();
    let mut rules = Vec::new();
    for file in rule::files(paths)? {
        let (found, skipped) = rule::read(&file);
        rules.extend(found);
        loaded.skipped.extend(skipped);
    }
    // The rules correlations name, and whether those run alone too.
    let mut correlated = BTreeSet::new();
    for r in &rules {
        if let SigmaRule::Correlation(c) = r
            && !c.generate
        {
            correlated.extend(c.rules.iter().cloned());
        }
    }
    let named =
        |r: &SigmaRule, key: &str| r.meta().id == key || r.meta().name.as_deref() == Some(key);
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for r in &rules {
        let meta = r.meta();
        if let Some(other) = seen.get(&meta.id) {
            loaded
                .duplicates
                .push((meta.id.clone(), meta.file.clone(), other.clone()));
            continue;
        }
        seen.insert(meta.id.clone(), meta.file.clone());
        let made = match r {
            SigmaRule::Detection(d) => {
                if correlated.contains(&d.meta.id)
                    || d.meta.name.as_ref().is_some_and(|n| correlated.contains(n))
                {
                    continue;
                }
                translate::findings_sql(d, &window_table(d.source))
                    .map(|sql| detection(meta, vec![d.source.table().into()], sql))
            }
            SigmaRule::Correlation(c) => {
                let mut base = Vec::new();
                let mut missing = None;
                for key in &c.rules {
                    match rules.iter().find(|r| named(r, key)) {
                        Some(SigmaRule::Detection(d)) => base.push(d),
                        Some(SigmaRule::Correlation(_)) => {
                            missing = Some(format!("{key} is a correlation (not supported)"));
                        }
                        None => missing = Some(format!("no loaded rule has the id or name {key}")),
                    }
                }
                match missing {
                    Some(why) => Err(why),
                    None => translate::correlation_sql(c, &base, window_table).map(|sql| {
                        let tables: BTreeSet<String> =
                            base.iter().map(|d| d.source.table().to_string()).collect();
                        detection(meta, tables.into_iter().collect(), sql)
                    }),
                }
            }
        };
        match made.and_then(|d| limits::sql(&d.sql).map(|()| d)) {
            Ok(d) => loaded.detections.push(d),
            Err(reason) => loaded.skipped.push(Skipped {
                file: meta.file.clone(),
                title: Some(meta.title.clone()),
                reason,
            }),
        }
    }
    Ok(loaded)
}

/// One rule as `sigma convert` gives it.
#[derive(Debug, Clone)]
pub struct Converted {
    pub file: String,
    pub title: String,
    /// The SQL, or why the rule cannot be translated.
    pub sql: Result<String, String>,
}

/// Each rule of `paths` as SQL over the tables themselves (`cloudtrail`, `access_logs`), for
/// review and for Athena.
pub fn convert(paths: &[PathBuf]) -> std::io::Result<Vec<Converted>> {
    let mut out = Vec::new();
    let mut rules = Vec::new();
    for file in rule::files(paths)? {
        let (found, skipped) = rule::read(&file);
        for s in skipped {
            out.push(Converted {
                file: s.file,
                title: s.title.unwrap_or_default(),
                sql: Err(s.reason),
            });
        }
        rules.extend(found);
    }
    let named =
        |r: &SigmaRule, key: &str| r.meta().id == key || r.meta().name.as_deref() == Some(key);
    for r in &rules {
        let meta = r.meta();
        let sql = match r {
            SigmaRule::Detection(d) => translate::findings_sql(d, d.source.table()),
            SigmaRule::Correlation(c) => {
                let base: Option<Vec<&rule::DetectionRule>> = c
                    .rules
                    .iter()
                    .map(|key| match rules.iter().find(|r| named(r, key)) {
                        Some(SigmaRule::Detection(d)) => Some(d),
                        _ => None,
                    })
                    .collect();
                match base {
                    Some(base) => translate::correlation_sql(c, &base, |s| s.table().to_string()),
                    None => Err("a rule it names is not among the files given".into()),
                }
            }
        };
        out.push(Converted {
            file: meta.file.clone(),
            title: meta.title.clone(),
            sql,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_tags() {
        assert_eq!(severity(Some("informational")), Severity::Info);
        assert_eq!(severity(Some("high")), Severity::High);
        assert_eq!(severity(None), Severity::Medium);
        assert_eq!(
            mitre(&[
                "attack.defense-impairment".into(),
                "attack.t1685.002".into(),
                "attack.T1098".into(),
                "cve.2021-44228".into(),
            ]),
            ["T1685.002", "T1098"]
        );
    }
}
