-- id: bucket-policy-changed
-- title: Bucket policy, ACL, CORS, lifecycle or replication changed
-- severity: info
-- family: exposure
-- sources: cloudtrail
-- mitre: T1098 Account Manipulation
-- description: Every successful change of a bucket's policy, ACL, CORS, lifecycle or
--   replication configuration, for the audit trail of who changed access to which bucket.
--   Dangerous changes are raised separately (bucket-policy-public-or-external, acl-grant-public,
--   short-lifecycle-expiration, replication-or-encryption-removed).
-- action: Review against change records.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html
SELECT s3_bucket AS entity, s3_bucket AS bucket, coalesce(useridentity.arn, useridentity.principalid) AS principal,
       min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen,
       array_to_string(array_distinct(array_agg(eventname)), ', ') AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', eventtime,
           'eventname', eventname), eventtime, 5) AS evidence
FROM window_cloudtrail
WHERE eventsource = 's3.amazonaws.com' AND eventname IN ('PutBucketPolicy', 'DeleteBucketPolicy', 'PutBucketAcl',
      'PutBucketCors', 'DeleteBucketCors', 'PutBucketLifecycle', 'DeleteBucketLifecycle',
      'PutBucketReplication', 'DeleteBucketReplication')
  AND coalesce(errorcode, '') = ''
GROUP BY s3_bucket, coalesce(useridentity.arn, useridentity.principalid)
