-- id: mass-delete-by-ip
-- title: Mass deletion of objects from one source address
-- severity: high
-- family: deletes
-- sources: access_logs, cloudtrail
-- mitre: T1485 Data Destruction
-- description: Many objects deleted from one bucket, from one IP address, within a short
--   window: catches a destructive client even when it rotates credentials or deletes
--   anonymously through a permissive policy. Counting is as in mass-delete.
-- action: Identify the address (owner, VPC endpoint, NAT); block it if unknown, and
--   restore the objects from versions or backups.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjects.html
-- param threshold = 50: deletes in one window before it fires
-- param window_minutes = 60: length of the window
-- param batch_weight = 50: deletes one CloudTrail DeleteObjects request counts as when it lists no keys
-- param history_factor = 3: the count must also exceed this many times the address's largest earlier window on the bucket
WITH deletes AS (
    SELECT remoteip AS ip, coalesce(requester, 'anonymous') AS principal, bucket_name AS bucket,
           requestdatetime AS time, 1 AS n, log_object, log_line, key, operation AS action, 'access_logs' AS source
    FROM history_access_logs
    WHERE operation IN ('REST.DELETE.OBJECT', 'BATCH.DELETE.OBJECT')
      AND coalesce(httpstatus, 204) < 300 AND remoteip IS NOT NULL
    UNION ALL
    SELECT sourceipaddress, coalesce(useridentity.arn, useridentity.principalid, 'anonymous'), s3_bucket, eventtime,
           CASE WHEN eventname = 'DeleteObjects' THEN coalesce(json_length(requestparameters, 'Delete', 'Object'), ${batch_weight}) ELSE 1 END,
           log_object, log_line, s3_key, eventname, 'cloudtrail'
    FROM history_cloudtrail
    WHERE eventsource = 's3.amazonaws.com' AND eventname IN ('DeleteObject', 'DeleteObjects')
      AND coalesce(errorcode, '') = '' AND sourceipaddress IS NOT NULL
      AND sourceipaddress NOT LIKE '%.amazonaws.com' AND sourceipaddress <> 'AWS Internal'
),
windows AS (
    SELECT ip, bucket, date_bin(INTERVAL '${window_minutes} minutes', time) AS slot,
           sum(CASE WHEN source = 'access_logs' THEN n ELSE 0 END) AS from_access,
           sum(CASE WHEN source = 'cloudtrail' THEN n ELSE 0 END) AS from_trail,
           min(time) AS first_seen, max(time) AS last_seen,
           array_sort(array_distinct(array_agg(principal))) AS principals,
           first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
               'action', action, 'key', key, 'principal', principal, 'source', source), time, 5) AS evidence
    FROM deletes
    GROUP BY ip, bucket, date_bin(INTERVAL '${window_minutes} minutes', time)
),
scored AS (
    SELECT *, greatest(from_access, from_trail) AS deleted,
           max(greatest(from_access, from_trail)) OVER (PARTITION BY ip, bucket ORDER BY slot
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_max
    FROM windows
)
SELECT ip AS entity, ip, principals[1] AS principal, bucket, deleted AS count, first_seen, last_seen,
       deleted || ' objects deleted in ' || ${window_minutes} || ' minutes by ' || array_to_string(principals, ', ') AS details,
       evidence
FROM scored
WHERE slot >= date_bin(INTERVAL '${window_minutes} minutes', ${since}) AND last_seen >= ${since}
  AND deleted >= ${threshold}
  AND deleted > ${history_factor} * coalesce(previous_max, 0)
