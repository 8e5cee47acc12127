-- id: logging-tampering-attempt
-- title: Refused attempt to turn off logging or a bucket's safeguards
-- severity: medium
-- family: exposure
-- sources: cloudtrail, access_logs
-- mitre: T1562.008 Impair Defenses: Disable or Modify Cloud Logs, T1490 Inhibit System Recovery
-- description: Calls that would blind CloudTrail (StopLogging, DeleteTrail, UpdateTrail,
--   PutEventSelectors, PutAdvancedEventSelectors, deleting or stopping an event data store) or
--   strip a bucket's safeguards (PutBucketLogging turning server access logging off,
--   DeleteBucketPolicy, PutBucketVersioning suspending versioning or disabling MFA delete) that
--   were refused (AccessDenied, TrailNotFoundException, …). The successful calls are their
--   own detections (cloudtrail-tampering, server-access-logging-disabled,
--   versioning-suspended-or-mfa-delete-disabled). Severity medium: nothing was lost and the
--   logs still flow, but administrators seldom fail at these calls while an intruder with a
--   foothold probes exactly them, often before trying other credentials; it is raised to high
--   when one principal fails three times or more, or at several of these actions, which is
--   probing rather than a typo.
-- action: Find out who holds the principal's credentials and why it tried; check whether the
--   same change later succeeded from another principal (cloudtrail-tampering) and what else
--   the principal did in the window.
-- references: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/best-practices-security.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html
-- param escalate_at = 3: failed attempts by one principal that make the finding high
WITH attempts AS (
    SELECT coalesce(useridentity.arn, useridentity.principalid) AS principal, sourceipaddress AS ip,
           eventtime AS time, eventname AS action, errorcode, log_object, log_line,
           coalesce(s3_bucket, json_extract_scalar(requestparameters, '$.name'),
                    json_extract_scalar(requestparameters, '$.trailName'),
                    json_extract_scalar(requestparameters, '$.eventDataStore')) AS target,
           s3_bucket AS bucket
    FROM window_cloudtrail
    WHERE coalesce(errorcode, '') <> ''
      AND ((eventsource = 'cloudtrail.amazonaws.com'
            AND eventname IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors',
                              'PutAdvancedEventSelectors', 'DeleteEventDataStore',
                              'StopEventDataStoreIngestion'))
           OR (eventsource = 's3.amazonaws.com'
               AND (eventname = 'DeleteBucketPolicy'
                    OR (eventname = 'PutBucketLogging'
                        AND json_extract(requestparameters, '$.BucketLoggingStatus.LoggingEnabled') IS NULL)
                    OR (eventname = 'PutBucketVersioning'
                        AND (json_extract_scalar(requestparameters, '$.VersioningConfiguration.Status') IN ('Suspended', 'Disabled')
                             OR json_extract_scalar(requestparameters, '$.VersioningConfiguration.MfaDelete') = 'Disabled')))))
    UNION ALL
    -- Server access logs do not show a request's body, so only the refused policy deletion is
    -- unambiguous there.
    SELECT requester, remoteip, requestdatetime, operation, coalesce(errorcode, CAST(httpstatus AS VARCHAR)),
           log_object, log_line, bucket_name AS target, bucket_name AS bucket
    FROM window_access_logs
    WHERE operation = 'REST.DELETE.BUCKETPOLICY' AND httpstatus >= 400
)
SELECT coalesce(principal, ip) AS entity, principal, min(ip) AS ip, min(bucket) AS bucket, count(*) AS count,
       min(time) AS first_seen, max(time) AS last_seen,
       CASE WHEN count(*) >= ${escalate_at} OR count(DISTINCT action) >= 2 THEN 'high' ELSE 'medium' END AS severity,
       concat(count(*), ' refused: ', array_to_string(array_distinct(array_agg(concat(action, ' (', errorcode, ')'))), ', '),
              ' on ', array_to_string(array_distinct(array_agg(coalesce(target, '?'))), ', ')) AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
           'action', action, 'errorcode', errorcode), time, 5) AS evidence
FROM attempts
GROUP BY coalesce(principal, ip), principal
