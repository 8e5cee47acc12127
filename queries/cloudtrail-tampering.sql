-- id: cloudtrail-tampering
-- title: CloudTrail stopped, deleted or its event selection narrowed
-- severity: high
-- family: exposure
-- sources: cloudtrail
-- mitre: T1562.008 Impair Defenses: Disable or Modify Cloud Logs
-- description: A trail was stopped (StopLogging) or deleted (DeleteTrail), an event data
--   store deleted, or its event selectors changed to drop management events or to record
--   only reads or only writes, which can silence S3 data events. Attackers do this before
--   acting.
-- action: Restart or restore the trail and its selectors; find out who did it and what
--   happened while logging was reduced.
-- references: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html
SELECT coalesce(json_extract_scalar(requestparameters, '$.name'), json_extract_scalar(requestparameters, '$.trailName'),
                json_extract_scalar(requestparameters, '$.eventDataStore'), 'trail') AS entity,
       coalesce(useridentity.arn, useridentity.principalid) AS principal, min(sourceipaddress) AS ip, count(*) AS count,
       min(eventtime) AS first_seen, max(eventtime) AS last_seen,
       array_to_string(array_distinct(array_agg(eventname)), ', ') AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', eventtime,
           'eventname', eventname), eventtime, 5) AS evidence
FROM window_cloudtrail
WHERE eventsource = 'cloudtrail.amazonaws.com' AND coalesce(errorcode, '') = ''
  AND (eventname IN ('StopLogging', 'DeleteTrail', 'DeleteEventDataStore', 'StopEventDataStoreIngestion')
       OR (eventname = 'PutEventSelectors'
           AND regexp_like(requestparameters, '"(includeManagementEvents"\s*:\s*false|readWriteType"\s*:\s*"(ReadOnly|WriteOnly)")', 'i'))
       OR (eventname = 'PutAdvancedEventSelectors' AND requestparameters NOT LIKE '%AWS::S3::Object%'))
GROUP BY 1, coalesce(useridentity.arn, useridentity.principalid)
