-- id: short-lifecycle-expiration
-- title: Lifecycle rule expiring objects within days
-- severity: medium
-- family: exposure
-- sources: cloudtrail
-- mitre: T1485 Data Destruction, T1070 Indicator Removal
-- description: A lifecycle configuration with an enabled rule that expires objects (or
--   noncurrent versions) after max_days days or fewer: S3 itself then deletes the data, which
--   does not look like anyone's delete. High severity when the bucket's name marks it as a
--   log or trail bucket, where it erases the evidence.
-- action: Check the rule against the bucket's retention requirements; restore the previous
--   configuration if unintended.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-expire-general-considerations.html
-- param max_days = 7: expirations this short or shorter are reported
SELECT s3_bucket AS entity, s3_bucket AS bucket, coalesce(useridentity.arn, useridentity.principalid) AS principal,
       min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen,
       CASE WHEN lower(s3_bucket) LIKE '%log%' OR lower(s3_bucket) LIKE '%trail%' OR lower(s3_bucket) LIKE '%audit%'
            THEN 'high' ELSE 'medium' END AS severity,
       concat('objects expire after ', min(CAST(min_expiration_days(requestparameters) AS BIGINT)), ' days') AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', eventtime,
           'eventname', eventname), eventtime, 5) AS evidence
FROM window_cloudtrail
WHERE eventsource = 's3.amazonaws.com' AND eventname IN ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration')
  AND coalesce(errorcode, '') = ''
  AND CAST(min_expiration_days(requestparameters) AS BIGINT) <= ${max_days}
GROUP BY s3_bucket, coalesce(useridentity.arn, useridentity.principalid)
