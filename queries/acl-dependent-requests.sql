-- id: acl-dependent-requests
-- title: Requests still depend on ACLs: the bucket cannot disable ACLs yet
-- severity: low
-- family: acl
-- sources: access_logs, cloudtrail
-- description: An ACL-migration report. A bucket can set Object Ownership to "bucket owner
--   enforced" (which disables ACLs) only when no request depends on an ACL; S3 marks such
--   requests aclRequired = Yes in both logs. One finding per bucket seen in the window: at
--   low severity when requests depended on ACLs (naming the requesters and operations that
--   still do), at info severity when none did and the bucket is ready to switch.
-- action: Give the listed requesters the access through the bucket policy or IAM instead
--   of ACL grants, confirm no ACL-dependent request remains, then set Object Ownership to
--   BucketOwnerEnforced.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-migrating-acls-prerequisites.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
WITH acl AS (
    SELECT bucket_name AS bucket, coalesce(requester, 'anonymous') AS principal, operation AS action,
           requestdatetime AS time, log_object, log_line, key, 'access_logs' AS source
    FROM window_access_logs
    WHERE aclrequired = 'Yes'
    UNION ALL
    SELECT s3_bucket, coalesce(useridentity.arn, useridentity.principalid, 'anonymous'), eventname,
           eventtime, log_object, log_line, s3_key, 'cloudtrail'
    FROM window_cloudtrail
    WHERE aclrequired = 'Yes' AND s3_bucket IS NOT NULL
),
buckets AS (
    SELECT DISTINCT bucket_name AS bucket FROM window_access_logs WHERE bucket_name IS NOT NULL
    UNION
    SELECT DISTINCT s3_bucket FROM window_cloudtrail WHERE s3_bucket IS NOT NULL AND eventsource = 's3.amazonaws.com'
)
SELECT
    b.bucket AS entity,
    b.bucket AS bucket,
    CASE WHEN count(a.bucket) > 0 THEN 'low' ELSE 'info' END AS severity,
    CASE WHEN count(a.bucket) > 0
        THEN 'Requests still depend on ACLs: the bucket cannot disable ACLs yet'
        ELSE 'No request depended on ACLs: the bucket can enforce bucket-owner object ownership'
    END AS title,
    count(a.bucket) AS count,
    min(a.time) AS first_seen,
    max(a.time) AS last_seen,
    CASE WHEN count(a.bucket) > 0 THEN
        'requesters: ' || array_to_string(array_sort(array_distinct(array_agg(a.principal) FILTER (WHERE a.bucket IS NOT NULL))), ', ')
        || '; operations: ' || array_to_string(array_sort(array_distinct(array_agg(a.action) FILTER (WHERE a.bucket IS NOT NULL))), ', ')
    END AS details,
    CASE WHEN count(a.bucket) > 0 THEN 'no' ELSE 'yes' END AS can_enforce_owner,
    first_n(CASE WHEN a.bucket IS NOT NULL THEN named_struct('log_object', a.log_object, 'log_line', a.log_line, 'time', a.time,
        'principal', a.principal, 'action', a.action, 'key', a.key, 'source', a.source) END, a.time, 5) AS evidence
FROM buckets b
LEFT JOIN acl a ON a.bucket = b.bucket
GROUP BY b.bucket
