-- id: deprecated-tls
-- title: Requests over deprecated TLS (1.0 or 1.1)
-- severity: low
-- family: transport
-- sources: access_logs, cloudtrail
-- description: Clients negotiating TLS 1.0 or 1.1, which AWS endpoints are retiring and which
--   lack modern protections. Seen in the access logs' TLS version and in CloudTrail's
--   tlsDetails.
-- action: Upgrade the client's TLS library or SDK; enforce a minimum with the
--   s3:TlsVersion condition key in the bucket policy.
-- references: https://aws.amazon.com/blogs/security/tls-1-2-required-for-aws-endpoints/, https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html
WITH old AS (
    SELECT coalesce(requester, remoteip, 'anonymous') AS entity, requester AS principal, remoteip AS ip,
           bucket_name AS bucket, useragent, upper(tlsversion) AS tls, requestdatetime AS time,
           log_object, log_line, operation AS action, 'access_logs' AS source
    FROM window_access_logs
    WHERE upper(tlsversion) IN ('TLSV1', 'TLSV1.0', 'TLSV1.1')
    UNION ALL
    SELECT coalesce(useridentity.arn, sourceipaddress, 'anonymous'), useridentity.arn, sourceipaddress,
           s3_bucket, useragent, upper(tlsversion), eventtime, log_object, log_line, eventname, 'cloudtrail'
    FROM window_cloudtrail
    WHERE upper(tlsversion) IN ('TLSV1', 'TLSV1.0', 'TLSV1.1')
)
SELECT entity, principal, ip, min(bucket) AS bucket, min(useragent) AS useragent, count(*) AS count,
       min(time) AS first_seen, max(time) AS last_seen,
       'TLS versions: ' || array_to_string(array_sort(array_distinct(array_agg(tls))), ', ') AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
           'action', action, 'tls', tls, 'source', source), time, 5) AS evidence
FROM old
GROUP BY entity, principal, ip
