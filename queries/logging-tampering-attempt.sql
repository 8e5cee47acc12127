-- id: logging-tampering-attempt
-- title: Refused attempt to reduce logging or a bucket's safeguards
-- severity: high
-- family: exposure
-- sources: cloudtrail, access_logs
-- mitre: T1562.008 Impair Defenses: Disable or Modify Cloud Logs, T1490 Inhibit System Recovery
-- description: Refused calls (AccessDenied, TrailNotFoundException, …) whose request would have
--   reduced or redirected logging, judged from the request itself (logging_reduction, in
--   src/detect/logging_change.rs: stop or delete a trail or event data store, move a trail's
--   delivery, turn multi-region, global events or validation off, narrow event selectors, turn
--   server access logging off), and refused calls that would strip a bucket's safeguards
--   (DeleteBucketPolicy, PutBucketVersioning suspending versioning or disabling MFA delete).
--   A refused call that reduces logging is high, whatever the error: the intent is the finding.
--   A call that would add coverage (an UpdateTrail adding CloudWatch Logs delivery) and fails
--   on its own misconfiguration (InvalidCloudWatchLogsRoleArnException, …) is not a finding.
--   Safeguard attempts alone are medium, high when one principal fails three times or more, or
--   at several of these actions. The successful calls are their own detections
--   (cloudtrail-tampering, server-access-logging-disabled,
--   versioning-suspended-or-mfa-delete-disabled).
-- action: Find out who holds the principal's credentials and why it tried; check whether the
--   same change later succeeded from another principal (cloudtrail-tampering) and what else
--   the principal did in the window.
-- references: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/best-practices-security.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html
-- param escalate_at = 3: failed attempts by one principal that make a safeguard finding high
WITH judged AS (
    SELECT *, logging_reduction(eventsource, eventname, coalesce(requestparameters, '{}')) AS how
    FROM window_cloudtrail
    WHERE coalesce(errorcode, '') <> ''
      AND eventsource IN ('cloudtrail.amazonaws.com', 's3.amazonaws.com')
),
attempts AS (
    SELECT coalesce(useridentity.arn, useridentity.principalid) AS principal, sourceipaddress AS ip,
           eventtime AS time, eventname AS action, errorcode, log_object, log_line,
           coalesce(s3_bucket, json_extract_scalar(requestparameters, '$.name'),
                    json_extract_scalar(requestparameters, '$.trailName'),
                    json_extract_scalar(requestparameters, '$.eventDataStore')) AS target,
           s3_bucket AS bucket, how IS NOT NULL AS reduces, coalesce(how, eventname) AS change
    FROM judged
    WHERE how IS NOT NULL
       OR (eventsource = 's3.amazonaws.com'
           AND (eventname = 'DeleteBucketPolicy'
                OR (eventname = 'PutBucketVersioning'
                    AND (json_extract_scalar(requestparameters, '$.VersioningConfiguration.Status') IN ('Suspended', 'Disabled')
                         OR json_extract_scalar(requestparameters, '$.VersioningConfiguration.MfaDelete') = 'Disabled'))))
    UNION ALL
    -- Server access logs do not show a request's body, so only the refused policy deletion is
    -- unambiguous there.
    SELECT requester, remoteip, requestdatetime, operation, coalesce(errorcode, CAST(httpstatus AS VARCHAR)),
           log_object, log_line, bucket_name AS target, bucket_name AS bucket, false, 'bucket policy deletion'
    FROM window_access_logs
    WHERE operation = 'REST.DELETE.BUCKETPOLICY' AND httpstatus >= 400
)
SELECT coalesce(principal, ip) AS entity, principal, min(ip) AS ip, min(bucket) AS bucket, count(*) AS count,
       min(time) AS first_seen, max(time) AS last_seen,
       CASE WHEN bool_or(reduces) OR count(*) >= ${escalate_at} OR count(DISTINCT action) >= 2 THEN 'high' ELSE 'medium' END AS severity,
       concat(count(*), ' refused: ', array_to_string(array_distinct(array_agg(concat(action, ' (', errorcode, ')'))), ', '),
              ' on ', array_to_string(array_distinct(array_agg(coalesce(target, '?'))), ', '),
              '; would have: ', array_to_string(array_distinct(array_agg(change)), ', ')) AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
           'action', action, 'errorcode', errorcode), time, 5) AS evidence
FROM attempts
GROUP BY coalesce(principal, ip), principal
