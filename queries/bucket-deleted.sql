-- id: bucket-deleted
-- title: Bucket deleted
-- severity: medium
-- family: exposure
-- sources: cloudtrail
-- mitre: T1485 Data Destruction
-- description: A bucket was deleted. Its name becomes available to anyone, including for
--   bucket squatting by an attacker whom your systems will then write to.
-- action: Confirm it was intended; check nothing still writes to the name.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-bucket.html
SELECT s3_bucket AS entity, s3_bucket AS bucket, coalesce(useridentity.arn, useridentity.principalid) AS principal,
       min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', eventtime,
           'eventname', eventname), eventtime, 5) AS evidence
FROM window_cloudtrail
WHERE eventsource = 's3.amazonaws.com' AND eventname = 'DeleteBucket' AND coalesce(errorcode, '') = ''
GROUP BY s3_bucket, coalesce(useridentity.arn, useridentity.principalid)
