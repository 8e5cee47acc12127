-- id: exfiltrate-then-delete
-- title: Large download followed by deletion from the same bucket
-- severity: critical
-- family: deletes
-- sources: access_logs, cloudtrail
-- mitre: T1537 Transfer Data to Cloud Account, T1485 Data Destruction
-- description: The extortion pattern: a principal reads a large volume from a bucket, then
--   deletes objects from it within hours. Either step alone has innocent explanations;
--   together they are how S3 data is taken and held to ransom. A principal that deletes from
--   the bucket every day (an application cleaning up after itself) is judged against its own
--   baseline: its deletes must exceed history_factor times its busiest baseline day.
-- action: Treat as an active incident: revoke the principal's credentials, preserve the
--   logs, restore the objects from versions or backups, and assess what was taken.
-- references: https://attack.mitre.org/techniques/T1537/, https://www.rapid7.com/blog/post/2022/08/23/ransomware-in-the-cloud-scenarios/
-- param min_bytes = 104857600: bytes read from the bucket by the principal in the window
-- param min_deletes = 20: deletes by the same principal on the same bucket afterwards
-- param within_hours = 24: how soon after the first large read the deletes come
-- param history_factor = 3: deletes must exceed this many times the principal's busiest baseline day on the bucket
WITH reads AS (
    SELECT requester AS principal, bucket_name AS bucket, requestdatetime AS time, coalesce(bytessent, 0) AS bytes,
           log_object, log_line, operation AS action, key
    FROM window_access_logs
    WHERE operation = 'REST.GET.OBJECT' AND coalesce(httpstatus, 200) < 300 AND requester IS NOT NULL
    UNION ALL
    SELECT coalesce(useridentity.arn, useridentity.principalid), s3_bucket, eventtime, coalesce(bytes_out, 0),
           log_object, log_line, eventname, s3_key
    FROM window_cloudtrail
    WHERE eventname = 'GetObject' AND coalesce(errorcode, '') = ''
),
read_totals AS (
    SELECT principal, bucket, sum(bytes) AS bytes, min(time) AS first_read, max(time) AS last_read,
           last_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
               'action', action, 'key', key), bytes, 3) AS read_evidence
    FROM reads GROUP BY principal, bucket
),
deletes AS (
    SELECT requester AS principal, bucket_name AS bucket, requestdatetime AS time, log_object, log_line,
           operation AS action, key, 'access_logs' AS source
    FROM window_access_logs
    WHERE operation IN ('REST.DELETE.OBJECT', 'BATCH.DELETE.OBJECT') AND coalesce(httpstatus, 204) < 300
    UNION ALL
    SELECT coalesce(useridentity.arn, useridentity.principalid), s3_bucket, eventtime, log_object, log_line,
           eventname, s3_key, 'cloudtrail'
    FROM window_cloudtrail
    WHERE eventname IN ('DeleteObject', 'DeleteObjects') AND coalesce(errorcode, '') = ''
),
joined AS (
    SELECT r.principal, r.bucket, r.bytes, r.first_read, d.source, d.time, d.log_object, d.log_line,
           d.action, d.key
    FROM read_totals r
    JOIN deletes d ON d.principal = r.principal AND d.bucket = r.bucket
    WHERE r.bytes >= ${min_bytes}
      AND d.time >= r.first_read
      AND d.time <= r.first_read + INTERVAL '${within_hours} hours'
),
baseline_deletes AS (
    SELECT principal, bucket, max(n) AS busiest_day FROM (
        SELECT requester AS principal, bucket_name AS bucket, date_bin(INTERVAL '1 day', requestdatetime) AS day, count(*) AS n
        FROM baseline_access_logs
        WHERE operation IN ('REST.DELETE.OBJECT', 'BATCH.DELETE.OBJECT') AND coalesce(httpstatus, 204) < 300
        GROUP BY 1, 2, 3
        UNION ALL
        SELECT coalesce(useridentity.arn, useridentity.principalid), s3_bucket, date_bin(INTERVAL '1 day', eventtime), count(*)
        FROM baseline_cloudtrail
        WHERE eventname IN ('DeleteObject', 'DeleteObjects') AND coalesce(errorcode, '') = ''
        GROUP BY 1, 2, 3
    ) daily GROUP BY principal, bucket
),
per_source AS (
    SELECT principal, bucket, source, count(*) AS deleted, max(bytes) AS bytes, min(first_read) AS first_read,
           max(time) AS last_delete,
           first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
               'action', action, 'key', key), time, 3) AS delete_evidence
    FROM joined GROUP BY principal, bucket, source
),
judged AS (
    SELECT p.*, row_number() OVER (PARTITION BY p.principal, p.bucket ORDER BY p.deleted DESC, p.source) AS rank
    FROM per_source p
    LEFT JOIN baseline_deletes b ON b.principal = p.principal AND b.bucket = p.bucket
    WHERE p.deleted > ${history_factor} * coalesce(b.busiest_day, 0)
),
-- Evidence lists are joined to the rows they belong to, never carried through an aggregate (an
-- aggregate keeping one list per group would hold, and count, the whole batch it came in).
summed AS (
    SELECT principal, bucket, max(deleted) AS deleted, max(bytes) AS bytes, min(first_read) AS first_read,
           max(last_delete) AS last_delete
    FROM judged
    GROUP BY principal, bucket
    HAVING max(deleted) >= ${min_deletes}
)
SELECT s.principal AS entity, s.principal, s.bucket, s.deleted AS count, s.first_read AS first_seen,
       s.last_delete AS last_seen,
       concat(s.bytes, ' bytes read, then ', s.deleted, ' objects deleted') AS details,
       array_concat(r.read_evidence, j.delete_evidence) AS evidence
FROM summed s
JOIN judged j ON j.principal = s.principal AND j.bucket = s.bucket AND j.rank = 1
JOIN read_totals r ON r.principal = s.principal AND r.bucket = s.bucket
