-- id: access-key-created
-- title: An IAM access key was created
-- severity: medium
-- family: identity
-- sources: cloudtrail
-- mitre: T1098.001 Account Manipulation: Additional Cloud Credentials
-- description: CreateAccessKey succeeded: long-lived credentials now exist that work from
--   anywhere until deleted. An intruder with a foothold creates one to keep access after the
--   first credentials are revoked; creating one for another user is how a principal with IAM
--   rights takes over that user (high). The finding names who created it, for whom, and the
--   creator's S3 activity in the window, if any.
-- action: Confirm the key was expected; if not, deactivate and delete it, and review what both
--   the creator and the key's user did.
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html
WITH created AS (
    SELECT coalesce(useridentity.arn, useridentity.principalid) AS principal, sourceipaddress AS ip, eventtime AS time,
           coalesce(json_extract_scalar(requestparameters, '$.userName'), useridentity.username) AS for_user,
           json_extract_scalar(requestparameters, '$.userName') IS NOT NULL
               AND json_extract_scalar(requestparameters, '$.userName') <> coalesce(useridentity.username, '') AS for_other,
           json_extract_scalar(responseelements, '$.accessKey.accessKeyId') AS key_id,
           log_object, log_line
    FROM window_cloudtrail
    WHERE eventsource = 'iam.amazonaws.com' AND eventname = 'CreateAccessKey' AND coalesce(errorcode, '') = ''
),
grouped AS (
    SELECT principal, for_user, min(ip) AS ip, count(*) AS count, min(time) AS first_seen, max(time) AS last_seen,
           bool_or(for_other) AS for_other,
           array_to_string(array_sort(array_distinct(array_agg(coalesce(key_id, '?')))), ', ') AS keys,
           first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
               'for_user', for_user, 'key_id', key_id), time, 5) AS evidence
    FROM created
    GROUP BY principal, for_user
)
SELECT coalesce(g.for_user, g.principal) AS entity, g.principal, g.ip, g.count, g.first_seen, g.last_seen,
       CASE WHEN g.for_other THEN 'high' ELSE 'medium' END AS severity,
       concat(g.count, ' access key(s) created ', CASE WHEN g.for_other THEN concat('for another user, ', g.for_user) ELSE 'for itself' END,
              ' (', g.keys, ')',
              CASE WHEN s.requests IS NULL THEN '' ELSE concat('; S3 in the window by the creator: ', s.requests, ' requests to ', s.buckets) END) AS details,
       g.evidence
FROM grouped g
LEFT JOIN window_s3_activity s ON s.principal = g.principal
