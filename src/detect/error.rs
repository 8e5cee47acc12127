//! What goes wrong in the detect stage, typed and placed: which detection, which file, which
//! result row and column.
//!
//! [`Error`] stops a run before any detection runs (the pack, the config, the window, the
//! tables); [`DetectionError`] stops one detection, and the run goes on with the others (its
//! exit code then says 2).

use datafusion::error::DataFusionError;
use serde_json::Value;

use super::RuleError;
use super::config::ConfigError;
use crate::engine::cells::CellError;

/// Why a detection run could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A detection file or a rule could not be read, or the config gives a detection a value
    /// it cannot take.
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("--only names an unknown detection: {0} (see `s3trawl detect --list`)")]
    UnknownOnly(String),
    #[error("the config has settings for an unknown detection: {0}")]
    UnknownInConfig(String),
    #[error("--explain names an unknown detection: {0}")]
    UnknownExplained(String),
    #[error("say where the logs are: --logs PATH… or --lake DIR")]
    NoSources,
    #[error("--since must be before --until")]
    EmptyWindow,
    #[error("the config's s3_concurrency must be at least 1")]
    NoConcurrency,
    #[error("reading the Sigma rules")]
    Sigma(#[source] std::io::Error),
    #[error("{file}: the id {id} is also {other}'s: every detection needs its own id")]
    DuplicateId {
        id: String,
        file: String,
        other: String,
    },
    #[error("{origin}: detection {detection} is refused: {message}")]
    NotAQuery {
        detection: String,
        origin: String,
        message: String,
    },
    #[error("creating a temporary folder for the decoded history")]
    Spill(#[source] std::io::Error),
    #[error("preparing the window")]
    Prepare(#[source] DataFusionError),
    /// Opening the tables: a location, a lake, a store.
    #[error(transparent)]
    Tables(#[from] crate::error::Error),
    #[error(transparent)]
    Query(#[from] DataFusionError),
    #[error(transparent)]
    Cell(#[from] CellError),
}

impl Error {
    /// Whether a query of the run ran out of its memory pool.
    pub fn out_of_memory(&self) -> bool {
        match self {
            Error::Prepare(e) | Error::Query(e) => crate::engine::memory::exhausted(e),
            Error::Tables(crate::error::Error::DataFusion(e)) => {
                crate::engine::memory::exhausted(e)
            }
            _ => false,
        }
    }
}

impl DetectionError {
    /// Whether the detection's query ran out of its memory pool.
    pub fn out_of_memory(&self) -> bool {
        matches!(self, DetectionError::Query { source, .. } if crate::engine::memory::exhausted(source))
    }
}

/// Why one detection gave no findings.
#[derive(Debug, thiserror::Error)]
pub enum DetectionError {
    /// Its SQL could not be written out (a parameter's value, a placeholder).
    #[error(transparent)]
    Render(#[from] RuleError),
    /// The query failed.
    #[error("{source}")]
    Query {
        detection: String,
        source: DataFusionError,
    },
    /// A row of its result cannot be a finding.
    #[error("detection {detection}, result row {row}: {problem}")]
    Row {
        detection: String,
        /// 1-based, across the result's batches.
        row: usize,
        problem: RowProblem,
    },
}

/// Why a result row cannot be a finding.
#[derive(Debug, thiserror::Error)]
pub enum RowProblem {
    #[error("no `entity` column, or a NULL one (every finding needs its entity)")]
    NoEntity,
    #[error("column `severity`: {0}")]
    Severity(String),
    #[error("column `count` is NULL")]
    NullCount,
    #[error("column `evidence` is not a list: {0}")]
    EvidenceNotAList(Value),
    #[error("an evidence item is not a record: {0}")]
    EvidenceNotARecord(Value),
    #[error("an evidence record has no `log_object`")]
    EvidenceWithoutObject,
    #[error("an evidence record's `log_line` is {0}")]
    EvidenceLine(Value),
    #[error(transparent)]
    Cell(#[from] CellError),
}
