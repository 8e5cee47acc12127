-- id: acl-grant-public
-- title: ACL grant to AllUsers or AuthenticatedUsers
-- severity: high
-- family: exposure
-- sources: cloudtrail
-- mitre: T1098 Account Manipulation
-- description: A bucket or object ACL was set (PutBucketAcl, PutObjectAcl, or a canned ACL
--   on PutObject, CopyObject or CreateBucket) that grants access to everyone (AllUsers) or to
--   any AWS account holder (AuthenticatedUsers): public-read, public-read-write,
--   authenticated-read, or explicit grants to those groups.
-- action: Remove the grant; set Object Ownership to BucketOwnerEnforced so ACLs no longer
--   apply, and keep Block Public Access on.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#specifying-grantee-predefined-groups
SELECT coalesce(concat(s3_bucket, CASE WHEN s3_key IS NOT NULL THEN '/' ELSE '' END, s3_key), 'unknown bucket') AS entity,
       s3_bucket AS bucket, coalesce(useridentity.arn, useridentity.principalid) AS principal, min(sourceipaddress) AS ip,
       count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen,
       array_to_string(array_distinct(array_agg(eventname)), ', ') AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', eventtime,
           'eventname', eventname, 'key', s3_key), eventtime, 5) AS evidence
FROM window_cloudtrail
WHERE eventsource = 's3.amazonaws.com' AND coalesce(errorcode, '') = ''
  AND eventname IN ('PutBucketAcl', 'PutObjectAcl', 'PutObject', 'CopyObject', 'CreateBucket', 'CreateMultipartUpload')
  AND (requestparameters LIKE '%acs.amazonaws.com/groups/global/AllUsers%'
       OR requestparameters LIKE '%acs.amazonaws.com/groups/global/AuthenticatedUsers%'
       OR json_extract(requestparameters, '$["x-amz-acl"]') LIKE '%public-read%'
       OR json_extract(requestparameters, '$["x-amz-acl"]') LIKE '%authenticated-read%')
GROUP BY s3_bucket, s3_key, coalesce(useridentity.arn, useridentity.principalid)
