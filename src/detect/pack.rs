//! The detection pack: the built-in `queries/*.sql` (embedded at build time) and the user's
//! own rules from `--rules DIR`.

use std::path::Path;

use super::{Detection, RuleError};

include!(concat!(env!("OUT_DIR"), "/builtin_queries.rs"));

/// The built-in detections, in file order.
pub fn builtin() -> Result<Vec<Detection>, RuleError> {
    BUILTIN
        .iter()
        .map(|(name, text)| Detection::parse(text, &format!("builtin:queries/{name}")))
        .collect()
}

/// Every `*.sql` file of `dir` (not recursive), in name order.
pub fn load_dir(dir: &Path) -> Result<Vec<Detection>, RuleError> {
    let err = |message: String| RuleError {
        origin: dir.display().to_string(),
        message,
    };
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| err(e.to_string()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).map_err(|e| RuleError {
                origin: path.display().to_string(),
                message: e.to_string(),
            })?;
            Detection::parse(&text, &path.display().to_string())
        })
        .collect()
}

/// The built-in pack plus the rules in `rules`. A rule with a built-in's id is an error, not a
/// replacement: a rule file someone sends must not silently take a built-in detection's place
/// (disable the built-in in the config, and give the rule its own id).
pub fn load(rules: Option<&Path>) -> Result<Vec<Detection>, RuleError> {
    let mut pack = builtin()?;
    if let Some(dir) = rules {
        for rule in load_dir(dir)? {
            if pack.iter().any(|d| d.id == rule.id) {
                return Err(RuleError {
                    origin: rule.origin.clone(),
                    message: format!(
                        "the id '{}' is a built-in detection's: give the rule its own id (and disable the built-in in the config's [detections.{}] if it replaces it)",
                        rule.id, rule.id
                    ),
                });
            }
            pack.push(rule);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for d in &pack {
        if !seen.insert(d.id.clone()) {
            return Err(RuleError {
                origin: d.origin.clone(),
                message: format!("two detections have the id '{}'", d.id),
            });
        }
    }
    Ok(pack)
}
