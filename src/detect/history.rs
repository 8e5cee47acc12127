//! The views a detection run queries: the window, its baseline and both together.
//!
//! In: a session with `access_logs` and `cloudtrail` (raw logs or a lake) and a [`Window`].
//! Out: `window_<table>`, `baseline_<table>` and `history_<table>` views, and
//! `window_rejects` (see [`super::rejects`]). Over raw logs, the history is decoded once (only
//! the columns detections use) into Parquet files in a temporary [`Spill`] folder, so a pack of
//! thirty-odd queries costs one decode and memory stays bounded whatever the span; over a lake
//! the views read the lake's Parquet files directly.

use std::path::{Path, PathBuf};

use datafusion::config::TableParquetOptions;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::prelude::{ParquetReadOptions, SessionContext};

use super::window::{EARLIEST, LATEST, Window, timestamp_literal};

/// Columns of each table the detections may use (the history held in memory).
const ACCESS_COLUMNS: &str = "bucketowner, bucket_name, requestdatetime, remoteip, requester, requestid, operation, key, httpstatus, errorcode, bytessent, objectsize, totaltime, useragent, versionid, sigv, ciphersuite, authtype, endpoint, tlsversion, accesspointarn, aclrequired, source_region, log_object, log_line";
const TRAIL_COLUMNS: &str = "useridentity, eventtime, eventsource, eventname, awsregion, sourceipaddress, useragent, errorcode, errormessage, requestparameters, responseelements, additionaleventdata, requestid, eventid, resources, eventtype, readonly, recipientaccountid, vpcendpointid, eventcategory, managementevent, tlsdetails, s3_bucket, s3_key, bytes_in, bytes_out, sigv, ciphersuite, authtype, aclrequired, tlsversion, log_object, log_line";

/// A temporary folder for the decoded history, removed when dropped.
#[derive(Debug)]
pub struct Spill(PathBuf);

impl Spill {
    pub fn new() -> std::io::Result<Self> {
        let dir = std::env::temp_dir().join(format!("s3trawl-history-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir)?;
        Ok(Spill(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Registers the window views. With `spill`, the history is decoded into Parquet files there
/// first (raw logs); without, the views read the tables as they are (a lake).
pub async fn prepare(
    ctx: &SessionContext,
    window: &Window,
    spill: Option<&Spill>,
    rejects: super::rejects::Sources<'_>,
) -> datafusion::error::Result<()> {
    let start = timestamp_literal(window.baseline_start());
    let until = timestamp_literal(window.until.unwrap_or(LATEST));
    let since = timestamp_literal(window.since.unwrap_or(EARLIEST));
    for (table, time, columns) in [
        ("access_logs", "requestdatetime", ACCESS_COLUMNS),
        ("cloudtrail", "eventtime", TRAIL_COLUMNS),
    ] {
        let history =
            format!("SELECT {columns} FROM {table} WHERE {time} >= {start} AND {time} < {until}");
        if let Some(spill) = spill {
            spill_history(ctx, spill, table, &history).await?;
        } else {
            ctx.sql(&format!("CREATE VIEW history_{table} AS {history}"))
                .await?;
        }
        ctx.sql(&format!(
            "CREATE VIEW window_{table} AS SELECT * FROM history_{table} WHERE {time} >= {since}"
        ))
        .await?;
        ctx.sql(&format!(
            "CREATE VIEW baseline_{table} AS SELECT * FROM history_{table} WHERE {time} < {since}"
        ))
        .await?;
    }
    // After the history: its scans are what saw the raw logs' rejects.
    super::rejects::register(ctx, window, rejects).await
}

/// Decodes `history` into Parquet under `spill` and registers it as `history_<table>`.
async fn spill_history(
    ctx: &SessionContext,
    spill: &Spill,
    table: &str,
    history: &str,
) -> datafusion::error::Result<()> {
    let dir = spill.path().join(table);
    let mut options = TableParquetOptions::default();
    // Written once, read by every detection: fast compression, statistics for time pruning.
    options.global.compression = Some("zstd(1)".into());
    ctx.sql(history)
        .await?
        .write_parquet(
            &format!("{}/", dir.display()),
            DataFrameWriteOptions::new(),
            Some(options),
        )
        .await?;
    let written = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "parquet"))
        })
        .unwrap_or(false);
    if written {
        ctx.register_parquet(
            format!("history_{table}"),
            format!("{}/", dir.display()),
            ParquetReadOptions::default(),
        )
        .await
    } else {
        // Nothing in the span: an empty table of the right shape.
        ctx.sql(&format!("CREATE TABLE history_{table} AS {history}"))
            .await?
            .collect()
            .await
            .map(drop)
    }
}
