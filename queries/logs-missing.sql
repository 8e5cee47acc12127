-- id: logs-missing
-- title: A log source that delivered in the baseline went silent in the window
-- severity: high
-- family: exposure
-- sources: access_logs, cloudtrail
-- mitre: T1562.008 Impair Defenses: Disable or Modify Cloud Logs
-- description: Silence is news: a log source with records in the baseline and none at all in
--   the window. A source is a bucket's server access logs (the bucket the requests went to),
--   a trail's delivery for one account and region (from the key: <prefix>/AWSLogs/[<org>/]
--   <account>/CloudTrail/<region>/…, so each account of an organisation trail is its own
--   source), or, for CloudTrail read from objects not named that way, an account and region.
--   Every record counts, allow-listed ones too: an allow-list says a request is harmless, not
--   that its source stopped. Logging turned off, a delivery refused by a changed bucket policy,
--   a trail stopped, or logs deleted before they were read all look like this; so does a
--   bucket nobody used in the window (raise min_baseline_records for quiet buckets).
-- action: Check that the source still logs (the bucket's logging configuration, the trail's
--   status and delivery errors, the log bucket's policy), find out when and why it stopped,
--   and treat the span since the last record as unmonitored.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html, https://docs.aws.amazon.com/awscloudtrail/latest/userguide/how-cloudtrail-works.html
-- param min_baseline_records = 1: records the source holds in the baseline, at least
WITH records AS (
    SELECT 'access logs of bucket ' || bucket_name AS source, bucket_name AS bucket,
           requestdatetime AS time, log_object, log_line, requestdatetime >= ${since} AS in_window
    FROM __history_access_logs
    WHERE bucket_name IS NOT NULL
    UNION ALL
    SELECT CASE WHEN regexp_like(log_object, '/AWSLogs/(o-[a-z0-9]+/)?[0-9]{12}/CloudTrail/[a-z0-9-]+/[0-9]{4}/[0-9]{2}/[0-9]{2}/[^/]*$')
                THEN 'CloudTrail delivered to ' || regexp_replace(log_object, '/[0-9]{4}/[0-9]{2}/[0-9]{2}/[^/]*$', '')
                ELSE 'CloudTrail of account ' || recipientaccountid || ' in ' || awsregion END,
           s3_bucket, eventtime, log_object, log_line, eventtime >= ${since}
    FROM __history_cloudtrail
    WHERE recipientaccountid IS NOT NULL AND awsregion IS NOT NULL
),
sources AS (
    SELECT source, min(bucket) AS bucket, count(*) AS n, min(time) AS first_seen, max(time) AS last_seen,
           sum(CASE WHEN in_window THEN 1 ELSE 0 END) AS in_window,
           last_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time), time, 3) AS evidence
    FROM records
    GROUP BY source
)
SELECT source AS entity, CASE WHEN source LIKE 'access logs of bucket %' THEN bucket END AS bucket,
       n AS count, first_seen, last_seen,
       concat(n, ' records in the baseline, the last at ', last_seen, '; none from ', ${since},
              ' to the end of the window') AS details,
       evidence
FROM sources
WHERE in_window = 0 AND n >= ${min_baseline_records}
