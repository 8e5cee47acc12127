-- id: sigv2-requests
-- title: Requests signed with Signature Version 2
-- severity: low
-- family: transport
-- sources: access_logs, cloudtrail
-- description: Signature Version 2 is deprecated and weaker than SigV4 (no region or date
--   scoping of the signing key). S3 is turning it off; these clients will fail.
-- action: Upgrade the SDK or tool the user agent names, or configure it for SigV4.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingAWSSDK.html#UsingAWSSDK-sig2-deprecation, https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-request-identification.html
WITH v2 AS (
    SELECT coalesce(requester, remoteip, 'anonymous') AS entity, requester AS principal, remoteip AS ip,
           bucket_name AS bucket, useragent, requestdatetime AS time, log_object, log_line,
           operation AS action, 'access_logs' AS source
    FROM window_access_logs WHERE sigv = 'SigV2'
    UNION ALL
    SELECT coalesce(useridentity.arn, sourceipaddress, 'anonymous'), useridentity.arn, sourceipaddress,
           s3_bucket, useragent, eventtime, log_object, log_line, eventname, 'cloudtrail'
    FROM window_cloudtrail WHERE sigv = 'SigV2'
)
SELECT entity, principal, ip, min(bucket) AS bucket, min(useragent) AS useragent, count(*) AS count,
       min(time) AS first_seen, max(time) AS last_seen,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
           'action', action, 'source', source), time, 5) AS evidence
FROM v2
GROUP BY entity, principal, ip
