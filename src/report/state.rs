//! What earlier reports said, so that a nightly report can tell what is new.
//!
//! The state is one small JSON file in the report's output folder. A finding is identified by
//! its fingerprint (detection and entity, [`Finding::fingerprint`]); it is *new* when no
//! earlier report had it, or when its severity is now higher than ever reported.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::detect::{Finding, Severity};
use crate::error::{Error, Result};

/// The state file's name in the output folder.
pub const STATE_FILE: &str = "s3trawl-state.json";
const VERSION: u32 = 1;
/// Earlier runs kept in the state's history.
const HISTORY: usize = 100;

/// A finding as earlier reports saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seen {
    pub detection: String,
    pub entity: String,
    /// The highest severity reported.
    pub severity: Severity,
    pub first_reported: String,
    pub last_reported: String,
    pub reports: u64,
}

/// One earlier run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub generated_at: String,
    pub since: Option<String>,
    pub until: Option<String>,
    pub findings: usize,
    pub new: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub runs: Vec<Run>,
    pub seen: BTreeMap<String, Seen>,
    /// Fingerprints of the previous report's findings.
    pub previous: Vec<String>,
}

impl Default for State {
    fn default() -> Self {
        State {
            version: VERSION,
            runs: Vec::new(),
            seen: BTreeMap::new(),
            previous: Vec::new(),
        }
    }
}

/// How a finding relates to earlier reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Novelty {
    /// No earlier report had it.
    New,
    /// Reported before, at a lower severity.
    Escalated { previous_severity: Severity },
    /// Reported before.
    Known { first_reported: String },
}

impl Novelty {
    /// Whether an alert is due: new or escalated.
    pub fn is_new(&self) -> bool {
        !matches!(self, Novelty::Known { .. })
    }
}

pub fn path_in(dir: &Path) -> PathBuf {
    dir.join(STATE_FILE)
}

impl State {
    /// The state in `dir`, or a fresh one when there is none yet.
    pub fn load(dir: &Path) -> Result<State> {
        let path = path_in(dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::default()),
            Err(e) => return Err(Error::io(path, e)),
        };
        let state: State = serde_json::from_str(&text).map_err(|e| Error::ReportState {
            path: path.clone(),
            message: format!("not a state file written by s3trawl report: {e}"),
        })?;
        if state.version != VERSION {
            return Err(Error::ReportState {
                path,
                message: format!("version {} is not the supported {VERSION}", state.version),
            });
        }
        Ok(state)
    }

    /// Whether a report has been written before.
    pub fn has_history(&self) -> bool {
        !self.runs.is_empty()
    }

    pub fn novelty(&self, f: &Finding) -> Novelty {
        match self.seen.get(&f.fingerprint()) {
            None => Novelty::New,
            Some(s) if f.severity > s.severity => Novelty::Escalated {
                previous_severity: s.severity,
            },
            Some(s) => Novelty::Known {
                first_reported: s.first_reported.clone(),
            },
        }
    }

    /// Fingerprints the previous report had that this one does not.
    pub fn gone(&self, findings: &[Finding]) -> Vec<String> {
        let now: std::collections::BTreeSet<String> =
            findings.iter().map(Finding::fingerprint).collect();
        self.previous
            .iter()
            .filter(|p| !now.contains(*p))
            .cloned()
            .collect()
    }

    /// Records this run's findings.
    pub fn record(&mut self, findings: &[Finding], run: Run) {
        for f in findings {
            let at = run.generated_at.clone();
            self.seen
                .entry(f.fingerprint())
                .and_modify(|s| {
                    s.severity = s.severity.max(f.severity);
                    s.last_reported = at.clone();
                    s.reports += 1;
                })
                .or_insert_with(|| Seen {
                    detection: f.detection.clone(),
                    entity: f.entity.clone(),
                    severity: f.severity,
                    first_reported: at.clone(),
                    last_reported: at,
                    reports: 1,
                });
        }
        self.previous = findings.iter().map(Finding::fingerprint).collect();
        self.runs.push(run);
        if self.runs.len() > HISTORY {
            let excess = self.runs.len() - HISTORY;
            self.runs.drain(..excess);
        }
    }

    /// Writes the state to `dir`, atomically (a partly written state would lose history).
    pub fn save(&self, dir: &Path) -> Result<()> {
        let path = path_in(dir);
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::ReportState {
            path: path.clone(),
            message: e.to_string(),
        })?;
        // The user's alone: it decides what the next report calls new.
        super::files::write_atomic(&path, text.as_bytes(), super::files::Access::Private)
            .map_err(|e| Error::io(&path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(entity: &str, severity: Severity) -> Finding {
        Finding {
            detection: "mass-delete".into(),
            severity,
            title: "t".into(),
            family: "f".into(),
            entity: entity.into(),
            principal: None,
            ip: None,
            bucket: None,
            account: None,
            useragent: None,
            first_seen: None,
            last_seen: None,
            count: 1,
            details: None,
            evidence: Vec::new(),
            extra: BTreeMap::new(),
            mitre: Vec::new(),
        }
    }

    fn run(at: &str) -> Run {
        Run {
            generated_at: at.into(),
            since: None,
            until: None,
            findings: 0,
            new: 0,
        }
    }

    #[test]
    fn new_known_escalated_and_gone() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = State::load(dir.path()).unwrap();
        assert!(!state.has_history());
        let a = finding("alice", Severity::Medium);
        assert_eq!(state.novelty(&a), Novelty::New);
        state.record(std::slice::from_ref(&a), run("day1"));
        state.save(dir.path()).unwrap();

        let state = State::load(dir.path()).unwrap();
        assert!(state.has_history());
        assert_eq!(
            state.novelty(&a),
            Novelty::Known {
                first_reported: "day1".into()
            }
        );
        assert!(!state.novelty(&a).is_new());
        let worse = finding("alice", Severity::High);
        assert_eq!(
            state.novelty(&worse),
            Novelty::Escalated {
                previous_severity: Severity::Medium
            }
        );
        assert!(state.novelty(&finding("bob", Severity::Low)).is_new());
        assert_eq!(state.gone(&[]), vec!["mass-delete|alice".to_string()]);
        assert!(state.gone(&[a]).is_empty());
    }

    #[test]
    fn a_damaged_state_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(path_in(dir.path()), "{not json").unwrap();
        let e = State::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains(STATE_FILE), "{e}");
    }
}
