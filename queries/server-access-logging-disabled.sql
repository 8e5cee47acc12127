-- id: server-access-logging-disabled
-- title: Server access logging turned off
-- severity: high
-- family: exposure
-- sources: cloudtrail
-- mitre: T1562.008 Impair Defenses: Disable or Modify Cloud Logs
-- description: PutBucketLogging with a logging status that has no LoggingEnabled element:
--   the bucket stops writing server access logs, the only record of unauthenticated
--   requests and failed authentications.
-- action: Re-enable logging; find out who and why; review the bucket's activity since.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html
SELECT s3_bucket AS entity, s3_bucket AS bucket, coalesce(useridentity.arn, useridentity.principalid) AS principal,
       min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', eventtime,
           'eventname', eventname), eventtime, 5) AS evidence
FROM window_cloudtrail
WHERE eventsource = 's3.amazonaws.com' AND eventname = 'PutBucketLogging' AND coalesce(errorcode, '') = ''
  AND json_extract(requestparameters, '$.BucketLoggingStatus') IS NOT NULL
  AND json_extract(requestparameters, '$.BucketLoggingStatus.LoggingEnabled') IS NULL
GROUP BY s3_bucket, coalesce(useridentity.arn, useridentity.principalid)
