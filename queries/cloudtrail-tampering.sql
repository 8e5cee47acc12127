-- id: cloudtrail-tampering
-- title: CloudTrail stopped, deleted or its event selection narrowed
-- severity: high
-- family: exposure
-- sources: cloudtrail
-- mitre: T1562.008 Impair Defenses: Disable or Modify Cloud Logs
-- description: A call that reduces or redirects what CloudTrail logs, and succeeded: a trail
--   stopped or deleted, an event data store deleted or its ingestion stopped, a trail's
--   delivery moved (another bucket, prefix or KMS key), multi-region, global service events,
--   organization-wide logging or log file validation turned off, CloudWatch Logs delivery
--   removed, event selectors narrowed (management events dropped, only reads or only writes),
--   advanced selectors that no longer select S3 object data events, an event data store made
--   single-region or unprotected. The request decides (logging_reduction, in
--   src/detect/logging_change.rs): an UpdateTrail that adds CloudWatch Logs delivery or an SNS
--   topic is not tampering. Attackers do this before acting.
-- action: Restart or restore the trail, its delivery and its selectors; find out who did it and
--   what happened while logging was reduced.
-- references: https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_UpdateTrail.html, https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html
WITH reduced AS (
    SELECT *, logging_reduction(eventsource, eventname, coalesce(requestparameters, '{}')) AS how
    FROM window_cloudtrail
    WHERE eventsource = 'cloudtrail.amazonaws.com' AND coalesce(errorcode, '') = ''
)
SELECT coalesce(json_extract_scalar(requestparameters, '$.name'), json_extract_scalar(requestparameters, '$.trailName'),
                json_extract_scalar(requestparameters, '$.eventDataStore'), 'trail') AS entity,
       coalesce(useridentity.arn, useridentity.principalid) AS principal, min(sourceipaddress) AS ip, count(*) AS count,
       min(eventtime) AS first_seen, max(eventtime) AS last_seen,
       array_to_string(array_distinct(array_agg(concat(eventname, ': ', how))), ', ') AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', eventtime,
           'eventname', eventname, 'change', how), eventtime, 5) AS evidence
FROM reduced
WHERE how IS NOT NULL
GROUP BY 1, coalesce(useridentity.arn, useridentity.principalid)
