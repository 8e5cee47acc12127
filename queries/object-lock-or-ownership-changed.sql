-- id: object-lock-or-ownership-changed
-- title: Object Lock or object ownership settings changed
-- severity: medium
-- family: exposure
-- sources: cloudtrail
-- mitre: T1490 Inhibit System Recovery, T1222 File and Directory Permissions Modification
-- description: Changes to a bucket's Object Lock configuration (retention that protects
--   against deletion) or to its Object Ownership controls (moving away from
--   BucketOwnerEnforced turns ACLs back on).
-- action: Check the change with its author and restore the previous settings if unintended.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
SELECT s3_bucket AS entity, s3_bucket AS bucket, coalesce(useridentity.arn, useridentity.principalid) AS principal,
       min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen,
       concat(array_to_string(array_distinct(array_agg(eventname)), ', '),
              coalesce(concat('; ownership: ', max(json_extract_scalar(requestparameters, '$.OwnershipControls.Rule.ObjectOwnership'))), '')) AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', eventtime,
           'eventname', eventname), eventtime, 5) AS evidence
FROM window_cloudtrail
WHERE eventsource = 's3.amazonaws.com' AND coalesce(errorcode, '') = ''
  AND (eventname IN ('PutObjectLockConfiguration', 'DeleteBucketOwnershipControls')
       OR (eventname = 'PutBucketOwnershipControls'
           AND coalesce(json_extract_scalar(requestparameters, '$.OwnershipControls.Rule.ObjectOwnership'), '') <> 'BucketOwnerEnforced'))
GROUP BY s3_bucket, coalesce(useridentity.arn, useridentity.principalid)
