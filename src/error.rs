//! The library's errors. Each says which object, path or statement it concerns.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no such file or folder: {0}")]
    NotFound(String),
    #[error("cannot use location {0}: {1}")]
    Location(String, String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("lake {path}: {message}")]
    Lake { path: PathBuf, message: String },
    #[error("report state {path}: {message} (move the file away to start afresh)")]
    ReportState { path: PathBuf, message: String },
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
    #[error(transparent)]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error(transparent)]
    ObjectStore(#[from] object_store::Error),
    #[error("cluster {address}: {message}")]
    Cluster { address: String, message: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Whether the error comes from writing to a closed pipe (`s3trawl … | head`), which is
    /// not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(e) = source {
            if let Some(io) = e.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::BrokenPipe
            {
                return true;
            }
            if let Some(arrow::error::ArrowError::IoError(_, io)) =
                e.downcast_ref::<arrow::error::ArrowError>()
                && io.kind() == std::io::ErrorKind::BrokenPipe
            {
                return true;
            }
            source = e.source();
        }
        false
    }
}
