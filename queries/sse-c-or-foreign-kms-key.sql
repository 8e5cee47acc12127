-- id: sse-c-or-foreign-kms-key
-- title: Objects written with a customer-provided key or another account's KMS key
-- severity: high
-- family: transport
-- sources: cloudtrail
-- mitre: T1486 Data Encrypted for Impact
-- description: Writes (PutObject, CopyObject, multipart uploads) that encrypt objects with a
--   key the bucket owner does not hold: a customer-provided key (SSE-C) or a KMS key of
--   another account. Ransomware against S3 re-encrypts objects this way, so that only the
--   attacker can read them.
-- action: Check whether the principal is expected to use SSE-C or this KMS key; if not,
--   revoke its credentials, and restore previous versions. Block SSE-C with a bucket policy
--   denying s3:x-amz-server-side-encryption-customer-algorithm where it is not needed.
-- references: https://www.halcyon.ai/blog/abusing-aws-native-services-ransomware-encrypting-s3-buckets-with-sse-c, https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html
-- param min_events = 1: writes by one principal before it is reported
WITH writes AS (
    SELECT coalesce(useridentity.arn, useridentity.principalid, sourceipaddress) AS principal,
           sourceipaddress AS ip, s3_bucket AS bucket, s3_key, eventname, eventtime, log_object, log_line,
           recipientaccountid,
           json_extract_scalar(requestparameters, '$["x-amz-server-side-encryption-customer-algorithm"]') AS sse_c,
           json_extract_scalar(requestparameters, '$["x-amz-server-side-encryption-aws-kms-key-id"]') AS kms_key
    FROM window_cloudtrail
    WHERE eventsource = 's3.amazonaws.com' AND errorcode IS NULL
      AND eventname IN ('PutObject', 'CopyObject', 'CreateMultipartUpload', 'UploadPart', 'UploadPartCopy')
)
SELECT principal AS entity, principal, min(ip) AS ip, bucket,
       count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen,
       CASE WHEN count(sse_c) > 0 THEN 'customer-provided keys (SSE-C): ' || count(sse_c) ELSE '' END
       || CASE WHEN count(sse_c) > 0 AND count(*) > count(sse_c) THEN '; ' ELSE '' END
       || CASE WHEN count(*) > count(sse_c) THEN 'KMS keys of other accounts: ' || array_to_string(array_distinct(array_agg(kms_key) FILTER (WHERE sse_c IS NULL)), ', ') ELSE '' END AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', eventtime,
           'eventname', eventname, 'key', s3_key, 'sse_c', sse_c, 'kms_key', kms_key), eventtime, 5) AS evidence
FROM writes
WHERE sse_c IS NOT NULL
   OR (kms_key LIKE 'arn:%' AND arn_account(kms_key) <> recipientaccountid)
GROUP BY principal, bucket
HAVING count(*) >= ${min_events}
