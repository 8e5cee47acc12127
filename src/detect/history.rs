//! The views a detection run queries: the window, its baseline and both together.
//!
//! In: a session with `access_logs` and `cloudtrail` (raw logs or a lake), a [`Window`] and
//! whether the config has allow-lists. Out: `window_<table>`, `baseline_<table>` and
//! `history_<table>` views of the requests no allow-list leaves out (judged one by one, in
//! this one place: see [`super::config::Config::request_allowed`]), and
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

/// A temporary folder for the decoded history, removed when dropped. It holds log contents:
/// the folder is the user's alone (0700, its files 0600), removed when the run ends or is
/// interrupted (Ctrl-C, SIGTERM: see `cli`), and a folder a killed run left behind is swept
/// by the next run.
#[derive(Debug)]
pub struct Spill(PathBuf);

/// The names of spill folders: `s3trawl-history-<pid>-<random>`.
const SPILL_PREFIX: &str = "s3trawl-history-";

impl Spill {
    pub fn new() -> std::io::Result<Self> {
        let base = std::env::temp_dir();
        sweep_stale(&base);
        let dir = base.join(format!(
            "{SPILL_PREFIX}{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(&dir)?;
        Ok(Spill(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Makes every file under the folder the owner's alone (DataFusion's writer creates them
    /// as the umask says; the folder's 0700 already keeps others out).
    fn restrict_files(&self) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mut todo = vec![self.0.clone()];
            while let Some(dir) = todo.pop() {
                for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                    let path = entry.path();
                    match entry.file_type() {
                        Ok(t) if t.is_dir() => {
                            let _ = std::fs::set_permissions(
                                &path,
                                std::fs::Permissions::from_mode(0o700),
                            );
                            todo.push(path);
                        }
                        Ok(t) if t.is_file() => {
                            let _ = std::fs::set_permissions(
                                &path,
                                std::fs::Permissions::from_mode(0o600),
                            );
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

/// Removes the spill folders of runs that are no longer running (killed before they could
/// clean up): those whose process id names no live process, and nameless old ones a day on.
fn sweep_stale(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(SPILL_PREFIX) else {
            continue;
        };
        let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
            continue;
        };
        if !meta.is_dir() || !owned_by_us(&meta) {
            continue;
        }
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let stale = match pid {
            Some(pid) if pid == std::process::id() => false,
            Some(pid) => !Path::new(&format!("/proc/{pid}")).exists(),
            None => meta
                .modified()
                .ok()
                .and_then(|m| m.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(86_400)),
        };
        if stale && Path::new("/proc/self").exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(unix)]
fn owned_by_us(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|me| me.uid() == meta.uid())
}

#[cfg(not(unix))]
fn owned_by_us(_: &std::fs::Metadata) -> bool {
    false
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether each request is on an allow-list ([`super::config::Config::request_allowed`]), as
/// SQL over each table's columns (`allowed_request` is bound to the run's config).
const ACCESS_ALLOWED: &str = "coalesce(allowed_request(coalesce(remoteip, ''), coalesce(requester, ''), coalesce(useragent, ''), ''), false)";
const TRAIL_ALLOWED: &str = "coalesce(allowed_request(coalesce(sourceipaddress, ''), coalesce(useridentity['arn'], ''), coalesce(useragent, ''), coalesce(useridentity['accountid'], '')), false)";

/// Registers the window views. With `spill`, the history is decoded into Parquet files there
/// first (raw logs); without, the views read the tables as they are (a lake). With
/// `allow_lists`, requests on the config's allow-lists are left out of every view, one by one,
/// before any detection counts or groups them; the number left out of the window is returned.
/// CloudTrail events delivered more than once (the same `eventID` in an account and region)
/// are one row in every view when the history is spilled (raw logs on one machine).
pub async fn prepare(
    ctx: &SessionContext,
    window: &Window,
    spill: Option<&Spill>,
    allow_lists: bool,
    rejects: super::rejects::Sources<'_>,
) -> datafusion::error::Result<u64> {
    let start = timestamp_literal(window.baseline_start());
    let until = timestamp_literal(window.until.unwrap_or(LATEST));
    let since = timestamp_literal(window.since.unwrap_or(EARLIEST));
    let mut left_out = 0;
    for (table, time, columns, allowed) in [
        (
            "access_logs",
            "requestdatetime",
            ACCESS_COLUMNS,
            ACCESS_ALLOWED,
        ),
        ("cloudtrail", "eventtime", TRAIL_COLUMNS, TRAIL_ALLOWED),
    ] {
        let allowed = if allow_lists { allowed } else { "false" };
        let source = if table == "cloudtrail" && spill.is_some() {
            // One event, one count: CloudTrail delivers an event once per trail that selects
            // it (a multi-region and a regional trail: two files, one eventID). The first copy
            // (by where it was read) stands for the event in every detection. Done where the
            // history is decoded once (raw logs, one machine); over a lake or a cluster every
            // detection would sort the history again (and Ballista loops on a window function
            // over nothing), so there it is not done yet.
            format!(
                "(SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY eventid, recipientaccountid, awsregion ORDER BY log_object, log_line) AS __copy FROM cloudtrail WHERE {time} >= {start} AND {time} < {until}) WHERE __copy = 1 OR eventid IS NULL)"
            )
        } else {
            table.to_string()
        };
        let history = format!(
            "SELECT {columns}, {allowed} AS __allowed FROM {source} WHERE {time} >= {start} AND {time} < {until}"
        );
        if let Some(spill) = spill {
            // Decoded once, into the window's files and the baseline's: most detections read
            // the window only, and then read only its files.
            let part = format!("CASE WHEN {time} >= {since} THEN 'window' ELSE 'baseline' END");
            spill_history(ctx, spill, table, &history, &part).await?;
        } else {
            ctx.sql(&format!("CREATE VIEW __history_{table} AS {history}"))
                .await?;
            ctx.sql(&format!(
                "CREATE VIEW __window_{table} AS SELECT * FROM __history_{table} WHERE {time} >= {since}"
            ))
            .await?;
            ctx.sql(&format!(
                "CREATE VIEW __baseline_{table} AS SELECT * FROM __history_{table} WHERE {time} < {since}"
            ))
            .await?;
        }
        // What every detection reads: the requests no allow-list leaves out.
        for view in ["history", "window", "baseline"] {
            ctx.sql(&format!(
                "CREATE VIEW {view}_{table} AS SELECT {columns} FROM __{view}_{table} WHERE NOT __allowed"
            ))
            .await?;
        }
        if allow_lists {
            left_out += count(
                ctx,
                &format!("SELECT count(*) AS n FROM __window_{table} WHERE __allowed"),
            )
            .await?;
        }
    }
    // Each principal's S3 activity in the window, from both logs (the identity detections
    // name it next to what the principal did in IAM).
    ctx.sql(
        "CREATE VIEW window_s3_activity AS \
         SELECT principal, count(*) AS requests, \
                array_to_string(array_slice(array_sort(array_distinct(array_agg(bucket))), 1, 5), ', ') AS buckets \
         FROM (SELECT requester AS principal, bucket_name AS bucket FROM window_access_logs WHERE requester IS NOT NULL \
               UNION ALL \
               SELECT coalesce(useridentity.arn, useridentity.principalid), s3_bucket FROM window_cloudtrail \
               WHERE eventsource = 's3.amazonaws.com' AND s3_bucket IS NOT NULL) r \
         GROUP BY principal",
    )
    .await?;
    crate::engine::memory::give_back_freed_memory();
    // After the history: its scans are what saw the raw logs' rejects.
    super::rejects::register(ctx, window, rejects).await?;
    Ok(left_out)
}

/// The single count a query returns.
async fn count(ctx: &SessionContext, sql: &str) -> datafusion::error::Result<u64> {
    let mut n = 0;
    for batch in ctx.sql(sql).await?.collect().await? {
        let columns = crate::engine::cells::Columns::new(&batch);
        for row in 0..columns.rows() {
            n += columns
                .integer("n", row)
                .map_err(|e| datafusion::error::DataFusionError::Execution(e.to_string()))?
                .unwrap_or(0);
        }
    }
    Ok(n.max(0) as u64)
}

/// Rows per row group of the decoded history: small enough that the writers' buffers stay
/// small (a row group is held until it is written), large enough to compress and to prune by.
const SPILL_ROW_GROUP: usize = 64 * 1024;

/// Decodes `history` into Parquet under `spill`, in the window's files and the baseline's
/// (`part` says which a row goes to), and registers `__window_<table>`, `__baseline_<table>`
/// and their union `__history_<table>`.
async fn spill_history(
    ctx: &SessionContext,
    spill: &Spill,
    table: &str,
    history: &str,
    part: &str,
) -> datafusion::error::Result<()> {
    let dir = spill.path().join(table);
    let mut options = TableParquetOptions::default();
    // Written once, read by every detection: the fastest compression to write and to read
    // (LZ4: a third of the CPU zstd(1) took over 3 GB of logs, for files 40% larger),
    // statistics for time pruning.
    options.global.compression = Some("lz4_raw".into());
    options.global.max_row_group_size = SPILL_ROW_GROUP;
    ctx.sql(&format!("SELECT *, {part} AS __part FROM ({history})"))
        .await?
        .write_parquet(
            &format!("{}/", dir.display()),
            DataFrameWriteOptions::new().with_partition_by(vec!["__part".to_string()]),
            Some(options),
        )
        .await?;
    spill.restrict_files();
    for part in ["window", "baseline"] {
        let folder = dir.join(format!("__part={part}"));
        let written = std::fs::read_dir(&folder)
            .map(|entries| {
                entries
                    .flatten()
                    .any(|e| e.path().extension().is_some_and(|x| x == "parquet"))
            })
            .unwrap_or(false);
        let name = format!("__{part}_{table}");
        if written {
            ctx.register_parquet(
                name,
                format!("{}/", folder.display()),
                ParquetReadOptions::default(),
            )
            .await?;
        } else {
            // Nothing in that span: an empty table of the right shape.
            ctx.sql(&format!(
                "CREATE TABLE {name} AS SELECT * FROM ({history}) WHERE false"
            ))
            .await?
            .collect()
            .await?;
        }
    }
    ctx.sql(&format!(
        "CREATE VIEW __history_{table} AS SELECT * FROM __window_{table} UNION ALL SELECT * FROM __baseline_{table}"
    ))
    .await?;
    Ok(())
}
