-- id: mass-delete
-- title: Mass deletion of objects by one principal
-- severity: high
-- family: deletes
-- sources: access_logs, cloudtrail
-- mitre: T1485 Data Destruction
-- description: One principal deleted many objects from one bucket within a short window,
--   far more than it ever did before. Access logs record every key of a multi-object
--   delete (BATCH.DELETE.OBJECT) as well as single deletes; CloudTrail records single
--   deletes and DeleteObjects requests, which do not say how many objects they removed (up
--   to 1,000 each): one counts as the keys it lists if any, else as batch_weight. Where
--   both logs see the same deletes the larger count is used, not the sum. Lifecycle
--   expirations are S3's own and are reported by lifecycle-expirations instead.
-- action: Confirm with the principal's owner; if unexpected, revoke its credentials, then
--   restore from versions or backups (delete markers can be removed; permanently deleted
--   versions cannot).
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjects.html, https://attack.mitre.org/techniques/T1485/
-- param threshold = 50: deletes in one window before it fires
-- param window_minutes = 60: length of the window
-- param batch_weight = 50: deletes one CloudTrail DeleteObjects request counts as when it lists no keys
-- param history_factor = 3: the count must also exceed this many times the principal's largest earlier window on the bucket
WITH deletes AS (
    SELECT requester AS principal, remoteip AS ip, bucket_name AS bucket, requestdatetime AS time,
           1 AS n, log_object, log_line, key, operation AS action, 'access_logs' AS source
    FROM history_access_logs
    WHERE operation IN ('REST.DELETE.OBJECT', 'BATCH.DELETE.OBJECT')
      AND coalesce(httpstatus, 204) < 300 AND requester IS NOT NULL
    UNION ALL
    SELECT coalesce(useridentity.arn, useridentity.principalid), sourceipaddress, s3_bucket, eventtime,
           CASE WHEN eventname = 'DeleteObjects' THEN coalesce(json_length(requestparameters, 'Delete', 'Object'), ${batch_weight}) ELSE 1 END,
           log_object, log_line, s3_key, eventname, 'cloudtrail'
    FROM history_cloudtrail
    WHERE eventsource = 's3.amazonaws.com' AND eventname IN ('DeleteObject', 'DeleteObjects')
      AND coalesce(errorcode, '') = ''
),
windows AS (
    SELECT principal, bucket, date_bin(INTERVAL '${window_minutes} minutes', time) AS slot,
           sum(CASE WHEN source = 'access_logs' THEN n ELSE 0 END) AS from_access,
           sum(CASE WHEN source = 'cloudtrail' THEN n ELSE 0 END) AS from_trail,
           min(time) AS first_seen, max(time) AS last_seen,
           array_sort(array_distinct(array_agg(ip))) AS ips,
           first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
               'action', action, 'key', key, 'ip', ip, 'source', source), time, 5) AS evidence
    FROM deletes
    WHERE principal IS NOT NULL
    GROUP BY principal, bucket, date_bin(INTERVAL '${window_minutes} minutes', time)
),
scored AS (
    SELECT *, greatest(from_access, from_trail) AS deleted,
           max(greatest(from_access, from_trail)) OVER (PARTITION BY principal, bucket ORDER BY slot
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_max
    FROM windows
)
SELECT principal AS entity, principal, ips[1] AS ip, bucket, deleted AS count, first_seen, last_seen,
       deleted || ' objects deleted in ' || ${window_minutes} || ' minutes (largest earlier window: '
           || coalesce(previous_max, 0) || '); from ' || array_to_string(ips, ', ') AS details,
       evidence
FROM scored
WHERE slot >= date_bin(INTERVAL '${window_minutes} minutes', ${since}) AND last_seen >= ${since}
  AND deleted >= ${threshold}
  AND deleted > ${history_factor} * coalesce(previous_max, 0)
