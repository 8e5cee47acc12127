-- id: replication-or-encryption-removed
-- title: Replication or default encryption removed from a bucket
-- severity: medium
-- family: exposure
-- sources: cloudtrail
-- mitre: T1490 Inhibit System Recovery
-- description: DeleteBucketReplication removes the copy that survives a destructive attack;
--   DeleteBucketEncryption removes the bucket's default encryption settings.
-- action: Restore the configuration unless the change was planned.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html
SELECT s3_bucket AS entity, s3_bucket AS bucket, coalesce(useridentity.arn, useridentity.principalid) AS principal,
       min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen,
       array_to_string(array_distinct(array_agg(eventname)), ', ') AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', eventtime,
           'eventname', eventname), eventtime, 5) AS evidence
FROM window_cloudtrail
WHERE eventsource = 's3.amazonaws.com' AND eventname IN ('DeleteBucketReplication', 'DeleteBucketEncryption')
  AND coalesce(errorcode, '') = ''
GROUP BY s3_bucket, coalesce(useridentity.arn, useridentity.principalid)
