//! The activity summary of a report: totals, top talkers, the requests-over-time series and
//! the ACL-migration table, computed with SQL over the window views that
//! [`crate::detect::history::prepare`] registers.

use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::detect::Window;
use crate::engine::cells::{CellError, Columns};

/// How many entries each top list keeps.
pub const TOP: usize = 10;
/// At most this many points in the requests-over-time series.
pub const MAX_POINTS: i64 = 200;

/// One entry of a top list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Top {
    pub name: String,
    pub requests: i64,
    #[serde(default)]
    pub bytes: i64,
    #[serde(default)]
    pub errors: i64,
}

/// What the access logs saw in the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccessActivity {
    pub requests: i64,
    pub bytes_sent: i64,
    /// HTTP status 400 or more.
    pub errors: i64,
    /// HTTP status 403.
    pub denied: i64,
    /// Requests without a requester (S3's own lifecycle and delivery operations excluded).
    pub anonymous: i64,
    pub ips: i64,
    pub principals: i64,
    pub buckets: i64,
    pub first: Option<String>,
    pub last: Option<String>,
    pub top_principals: Vec<Top>,
    pub top_ips: Vec<Top>,
    pub top_ips_by_bytes: Vec<Top>,
    pub top_buckets: Vec<Top>,
    pub top_operations: Vec<Top>,
}

/// What CloudTrail saw in the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrailActivity {
    pub events: i64,
    /// Events with an error code.
    pub errors: i64,
    pub principals: i64,
    pub ips: i64,
    pub buckets: i64,
    pub first: Option<String>,
    pub last: Option<String>,
    pub top_principals: Vec<Top>,
    pub top_ips: Vec<Top>,
    pub top_buckets: Vec<Top>,
    pub top_events: Vec<Top>,
}

/// One point of the requests-over-time series: the start of its bin (ms since the epoch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub start_ms: i64,
    pub access_requests: i64,
    pub access_errors: i64,
    pub cloudtrail_events: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    pub bin_seconds: i64,
    pub points: Vec<Point>,
}

/// A bucket's standing for the switch to Object Ownership "bucket owner enforced" (ACLs
/// disabled): it can switch when no request in the window depended on an ACL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AclBucket {
    pub bucket: String,
    pub requests: i64,
    pub acl_requests: i64,
    pub can_enforce_owner: bool,
    pub requesters: Vec<String>,
    pub operations: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub access_logs: AccessActivity,
    pub cloudtrail: TrailActivity,
    pub timeline: Timeline,
    pub acl_migration: Vec<AclBucket>,
}

/// Runs `sql` and reads each row of its result with `read`, from the Arrow arrays.
async fn rows<T>(
    ctx: &SessionContext,
    sql: &str,
    read: impl Fn(&Row) -> Result<T, CellError>,
) -> datafusion::error::Result<Vec<T>> {
    let batches = ctx.sql(sql).await?.collect().await?;
    let mut out = Vec::new();
    for batch in &batches {
        let columns = Columns::new(batch);
        for row in 0..columns.rows() {
            let row = Row {
                columns: &columns,
                row,
            };
            out.push(read(&row).map_err(|e| DataFusionError::External(Box::new(e)))?);
        }
    }
    Ok(out)
}

/// The one row of an aggregate's result.
async fn one<T: Default>(
    ctx: &SessionContext,
    sql: &str,
    read: impl Fn(&Row) -> Result<T, CellError>,
) -> datafusion::error::Result<T> {
    Ok(rows(ctx, sql, read)
        .await?
        .into_iter()
        .next()
        .unwrap_or_default())
}

/// One row of a result, its cells by column name.
struct Row<'a> {
    columns: &'a Columns<'a>,
    row: usize,
}

impl Row<'_> {
    /// An integer cell (NULL: 0, as SQL's sum over no rows means here).
    fn int(&self, name: &str) -> Result<i64, CellError> {
        Ok(self.columns.integer(name, self.row)?.unwrap_or(0))
    }

    fn text(&self, name: &str) -> Result<Option<String>, CellError> {
        self.columns.text(name, self.row)
    }

    /// A list of strings (NULL: empty).
    fn strings(&self, name: &str) -> Result<Vec<String>, CellError> {
        Ok(match self.columns.json(name, self.row)? {
            Value::Array(items) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        })
    }
}

/// A top list: `name_sql` names the entity, `order` is `requests` or `bytes`.
async fn top(
    ctx: &SessionContext,
    table: &str,
    name_sql: &str,
    bytes_sql: &str,
    error_sql: &str,
    filter: &str,
    order: &str,
) -> datafusion::error::Result<Vec<Top>> {
    let sql = format!(
        "SELECT {name_sql} AS name, count(*) AS requests, coalesce(sum({bytes_sql}), 0) AS bytes, \
         sum(CASE WHEN {error_sql} THEN 1 ELSE 0 END) AS errors \
         FROM {table} WHERE {filter} GROUP BY 1 ORDER BY {order} DESC, name LIMIT {TOP}"
    );
    rows(ctx, &sql, |r| {
        Ok(Top {
            name: r.text("name")?.unwrap_or_default(),
            requests: r.int("requests")?,
            bytes: r.int("bytes")?,
            errors: r.int("errors")?,
        })
    })
    .await
}

const ACCESS: &str = "window_access_logs";
const TRAIL: &str = "window_cloudtrail";
const ACCESS_ERROR: &str = "httpstatus >= 400";
const TRAIL_ERROR: &str = "errorcode IS NOT NULL";
const TRAIL_PRINCIPAL: &str = "coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby, useridentity.type, 'unknown')";

async fn access(ctx: &SessionContext) -> datafusion::error::Result<AccessActivity> {
    let totals = one(
        ctx,
        "SELECT count(*) AS requests, coalesce(sum(bytessent), 0) AS bytes_sent, \
         sum(CASE WHEN httpstatus >= 400 THEN 1 ELSE 0 END) AS errors, \
         sum(CASE WHEN httpstatus = 403 THEN 1 ELSE 0 END) AS denied, \
         sum(CASE WHEN requester IS NULL AND coalesce(operation, '') NOT LIKE 'S3.%' THEN 1 ELSE 0 END) AS anonymous, \
         count(DISTINCT remoteip) AS ips, count(DISTINCT requester) AS principals, \
         count(DISTINCT bucket_name) AS buckets, \
         min(requestdatetime) AS first, max(requestdatetime) AS last FROM window_access_logs",
        |r| {
            Ok(AccessActivity {
                requests: r.int("requests")?,
                bytes_sent: r.int("bytes_sent")?,
                errors: r.int("errors")?,
                denied: r.int("denied")?,
                anonymous: r.int("anonymous")?,
                ips: r.int("ips")?,
                principals: r.int("principals")?,
                buckets: r.int("buckets")?,
                first: r.text("first")?,
                last: r.text("last")?,
                ..AccessActivity::default()
            })
        },
    )
    .await?;
    let t = |name: &'static str, order: &'static str| {
        top(ctx, ACCESS, name, "bytessent", ACCESS_ERROR, "TRUE", order)
    };
    Ok(AccessActivity {
        top_principals: t("coalesce(requester, 'anonymous')", "requests").await?,
        top_ips: t("coalesce(remoteip, 'unknown')", "requests").await?,
        top_ips_by_bytes: t("coalesce(remoteip, 'unknown')", "bytes").await?,
        top_buckets: t("coalesce(bucket_name, 'unknown')", "requests").await?,
        top_operations: t("coalesce(operation, 'unknown')", "requests").await?,
        ..totals
    })
}

async fn trail(ctx: &SessionContext) -> datafusion::error::Result<TrailActivity> {
    let totals = one(
        ctx,
        &format!(
            "SELECT count(*) AS events, sum(CASE WHEN {TRAIL_ERROR} THEN 1 ELSE 0 END) AS errors, \
             count(DISTINCT {TRAIL_PRINCIPAL}) AS principals, count(DISTINCT sourceipaddress) AS ips, \
             count(DISTINCT s3_bucket) AS buckets, min(eventtime) AS first, max(eventtime) AS last \
             FROM {TRAIL}"
        ),
        |r| {
            Ok(TrailActivity {
                events: r.int("events")?,
                errors: r.int("errors")?,
                principals: r.int("principals")?,
                ips: r.int("ips")?,
                buckets: r.int("buckets")?,
                first: r.text("first")?,
                last: r.text("last")?,
                ..TrailActivity::default()
            })
        },
    )
    .await?;
    let t = |name: &'static str, filter: &'static str| {
        top(
            ctx,
            TRAIL,
            name,
            "bytes_out",
            TRAIL_ERROR,
            filter,
            "requests",
        )
    };
    Ok(TrailActivity {
        top_principals: t(TRAIL_PRINCIPAL, "TRUE").await?,
        top_ips: t("coalesce(sourceipaddress, 'unknown')", "TRUE").await?,
        top_buckets: t("s3_bucket", "s3_bucket IS NOT NULL").await?,
        top_events: t("concat(eventsource, ' ', eventname)", "TRUE").await?,
        ..totals
    })
}

/// The bin width (seconds) that keeps `span_ms` within [`MAX_POINTS`] points.
pub fn bin_seconds(span_ms: i64) -> i64 {
    const STEPS: [i64; 11] = [
        60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
    ];
    for s in STEPS {
        if span_ms / (s * 1000) < MAX_POINTS {
            return s;
        }
    }
    // Whole days beyond that.
    let days = span_ms / (86_400_000 * MAX_POINTS) + 1;
    days * 86400
}

async fn timeline(ctx: &SessionContext, window: &Window) -> datafusion::error::Result<Timeline> {
    let (data_lo, data_hi) = one(
        ctx,
        &format!(
            "SELECT min(t) AS lo, max(t) AS hi FROM ( \
             SELECT arrow_cast(requestdatetime, 'Int64') AS t FROM {ACCESS} \
             UNION ALL SELECT arrow_cast(eventtime, 'Int64') FROM {TRAIL})"
        ),
        |r| {
            Ok((
                r.columns.integer("lo", r.row)?,
                r.columns.integer("hi", r.row)?,
            ))
        },
    )
    .await?;
    let (Some(lo), Some(hi)) = (
        window.since.or(data_lo),
        window.until.map(|u| u - 1).or(data_hi),
    ) else {
        return Ok(Timeline::default());
    };
    let hi = hi.max(lo);
    let bin = bin_seconds(hi - lo);
    let bin_ms = bin * 1000;
    let first = lo.div_euclid(bin_ms) * bin_ms;
    let n = ((hi - first) / bin_ms + 1) as usize;
    let mut points: Vec<Point> = (0..n)
        .map(|i| Point {
            start_ms: first + i as i64 * bin_ms,
            access_requests: 0,
            access_errors: 0,
            cloudtrail_events: 0,
        })
        .collect();
    let counts = rows(
        ctx,
        &format!(
            "SELECT b, sum(a) AS a, sum(e) AS e, sum(c) AS c FROM ( \
             SELECT arrow_cast(requestdatetime, 'Int64') / {bin_ms} AS b, 1 AS a, \
                    CASE WHEN {ACCESS_ERROR} THEN 1 ELSE 0 END AS e, 0 AS c FROM {ACCESS} \
             UNION ALL SELECT arrow_cast(eventtime, 'Int64') / {bin_ms}, 0, 0, 1 FROM {TRAIL}) \
             GROUP BY b"
        ),
        |r| Ok((r.int("b")?, r.int("a")?, r.int("e")?, r.int("c")?)),
    )
    .await?;
    for (b, a, e, c) in counts {
        let index = b * bin_ms - first;
        if index < 0 {
            continue;
        }
        if let Some(p) = points.get_mut((index / bin_ms) as usize) {
            p.access_requests += a;
            p.access_errors += e;
            p.cloudtrail_events += c;
        }
    }
    Ok(Timeline {
        bin_seconds: bin,
        points,
    })
}

/// At most this many buckets in the ACL-migration table (those still depending on ACLs first).
pub const ACL_BUCKETS: usize = 200;

async fn acl_migration(ctx: &SessionContext) -> datafusion::error::Result<Vec<AclBucket>> {
    rows(
        ctx,
        &format!(
            "WITH r AS ( \
               SELECT bucket_name AS bucket, coalesce(requester, 'anonymous') AS principal, \
                      operation AS action, aclrequired FROM {ACCESS} WHERE bucket_name IS NOT NULL \
               UNION ALL \
               SELECT s3_bucket, {TRAIL_PRINCIPAL}, eventname, aclrequired FROM {TRAIL} \
               WHERE s3_bucket IS NOT NULL AND eventsource = 's3.amazonaws.com') \
             SELECT bucket, count(*) AS requests, \
                    sum(CASE WHEN aclrequired = 'Yes' THEN 1 ELSE 0 END) AS acl_requests, \
                    array_sort(array_distinct(array_agg(principal) FILTER (WHERE aclrequired = 'Yes'))) AS requesters, \
                    array_sort(array_distinct(array_agg(action) FILTER (WHERE aclrequired = 'Yes'))) AS operations \
             FROM r GROUP BY bucket ORDER BY acl_requests DESC, bucket LIMIT {ACL_BUCKETS}"
        ),
        |r| {
            let acl_requests = r.int("acl_requests")?;
            Ok(AclBucket {
                bucket: r.text("bucket")?.unwrap_or_default(),
                requests: r.int("requests")?,
                acl_requests,
                can_enforce_owner: acl_requests == 0,
                requesters: r.strings("requesters")?,
                operations: r.strings("operations")?,
            })
        },
    )
    .await
}

/// The activity summary of the window.
pub async fn activity(
    ctx: &SessionContext,
    window: &Window,
) -> datafusion::error::Result<Activity> {
    Ok(Activity {
        access_logs: access(ctx).await?,
        cloudtrail: trail(ctx).await?,
        timeline: timeline(ctx, window).await?,
        acl_migration: acl_migration(ctx).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_keep_the_series_short() {
        assert_eq!(bin_seconds(0), 60);
        assert_eq!(bin_seconds(3_600_000), 60);
        assert_eq!(bin_seconds(86_400_000), 600);
        assert_eq!(bin_seconds(7 * 86_400_000), 3600);
        assert_eq!(bin_seconds(30 * 86_400_000), 21600);
        let year = 365 * 86_400_000;
        assert!(year / (bin_seconds(year) * 1000) < MAX_POINTS);
    }
}
