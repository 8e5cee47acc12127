-- id: plain-http-requests
-- title: Requests over plain HTTP (no TLS)
-- severity: medium
-- family: transport
-- sources: access_logs
-- mitre: T1040 Network Sniffing
-- description: Client requests that reached S3 without TLS: the access log records no cipher
--   suite or no TLS version. Their content, and for signed requests the signature, crossed
--   the network in the clear. S3's own lifecycle and delivery operations (S3.*) and the key
--   entries of multi-object deletes (BATCH.*) are not client requests and are left out.
-- action: Find the client by user agent and address and make it use HTTPS; enforce it with
--   a bucket policy denying aws:SecureTransport = false.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html, https://repost.aws/knowledge-center/s3-bucket-policy-for-config-rule
-- param min_requests = 1: requests from one client to one bucket before it is reported
SELECT
    coalesce(requester, remoteip, 'anonymous') AS entity,
    requester AS principal,
    remoteip AS ip,
    bucket_name AS bucket,
    min(useragent) AS useragent,
    count(*) AS count,
    min(requestdatetime) AS first_seen,
    max(requestdatetime) AS last_seen,
    'operations: ' || array_to_string(array_sort(array_distinct(array_agg(operation))), ', ') AS details,
    first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', requestdatetime,
        'operation', operation, 'key', key, 'useragent', useragent), requestdatetime, 5) AS evidence
FROM window_access_logs
WHERE (ciphersuite IS NULL OR tlsversion IS NULL)
  AND (operation LIKE 'REST.%' OR operation LIKE 'WEBSITE.%' OR operation LIKE 'SOAP.%')
GROUP BY requester, remoteip, bucket_name
HAVING count(*) >= ${min_requests}
