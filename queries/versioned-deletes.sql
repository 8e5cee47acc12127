-- id: versioned-deletes
-- title: Permanent deletion of object versions
-- severity: high
-- family: deletes
-- sources: access_logs, cloudtrail
-- mitre: T1485 Data Destruction, T1490 Inhibit System Recovery
-- description: Deletes that name a version ID remove that version for good: unlike a plain
--   delete on a versioned bucket, which only adds a delete marker, they destroy what
--   versioning would have let you restore. Attackers delete versions after (or instead of)
--   objects to prevent recovery.
-- action: Confirm with the principal's owner; if unexpected, revoke its credentials. Protect
--   versions with MFA delete or Object Lock.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiFactorAuthenticationDelete.html
-- param threshold = 10: version deletions by one principal on one bucket in the window before it fires
WITH deletes AS (
    SELECT requester AS principal, remoteip AS ip, bucket_name AS bucket, requestdatetime AS time,
           log_object, log_line, key, versionid, operation AS action, 'access_logs' AS source
    FROM window_access_logs
    WHERE operation IN ('REST.DELETE.OBJECT', 'BATCH.DELETE.OBJECT') AND versionid IS NOT NULL
      AND coalesce(httpstatus, 204) < 300 AND requester IS NOT NULL
    UNION ALL
    SELECT coalesce(useridentity.arn, useridentity.principalid), sourceipaddress, s3_bucket, eventtime,
           log_object, log_line, s3_key, json_extract_scalar(requestparameters, '$.versionId'), eventname, 'cloudtrail'
    FROM window_cloudtrail
    WHERE eventsource = 's3.amazonaws.com' AND eventname = 'DeleteObject'
      AND json_extract_scalar(requestparameters, '$.versionId') IS NOT NULL
      AND coalesce(errorcode, '') = ''
),
per_source AS (
    SELECT principal, bucket, source, count(*) AS n, min(time) AS first_seen, max(time) AS last_seen,
           min(ip) AS ip,
           first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
               'action', action, 'key', key, 'versionid', versionid), time, 5) AS evidence
    FROM deletes
    GROUP BY principal, bucket, source
)
SELECT principal AS entity, principal, min(ip) AS ip, bucket, max(n) AS count, min(first_seen) AS first_seen,
       max(last_seen) AS last_seen, max(n) || ' object versions permanently deleted' AS details,
       first_value(evidence ORDER BY n DESC, source) AS evidence
FROM per_source
GROUP BY principal, bucket
HAVING max(n) >= ${threshold}
