-- id: log-delivery-failing
-- title: AWS cannot deliver logs into a bucket: monitoring is silently failing
-- severity: high
-- family: exposure
-- sources: cloudtrail, access_logs
-- mitre: T1562.008 Impair Defenses: Disable or Modify Cloud Logs
-- description: An AWS log-delivery service was refused writing into a bucket: vended logs
--   (delivery.logs.amazonaws.com: VPC flow logs, Route 53 Resolver, Network Firewall, WAF and
--   CloudWatch vended logs), CloudTrail (cloudtrail.amazonaws.com), S3 server access logs
--   (logging.s3.amazonaws.com), AWS Config (config.amazonaws.com), load balancer access logs
--   (logdelivery.elasticloadbalancing.amazonaws.com) and GuardDuty exports
--   (guardduty.amazonaws.com). Every refused delivery is a log that does not exist: a bucket
--   policy, Object Ownership, Block Public Access or KMS change (an attacker's or a mistake)
--   has made monitoring fail without an error anywhere else. Seen in CloudTrail (a data event
--   refused to the service) and in the log bucket's own access logs (a 403 to the service's
--   requester). One finding per bucket and log type (from the key: AWSLogs/<account>/
--   CloudTrail/, vpcflowlogs/, elasticloadbalancing/, Config/ …), naming the account and the
--   span.
-- action: Restore the bucket policy statement that grants the service s3:PutObject (and, for
--   SSE-KMS, the key policy); check who changed the bucket's policy, ownership or encryption
--   just before the first refusal, and treat the span as unmonitored.
-- references: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-and-resource-policy.html, https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html
WITH services AS (
    SELECT column1 AS service, column2 AS kind FROM (VALUES
        ('delivery.logs.amazonaws.com', 'vended logs'),
        ('cloudtrail.amazonaws.com', 'CloudTrail'),
        ('logging.s3.amazonaws.com', 'S3 server access logs'),
        ('config.amazonaws.com', 'AWS Config'),
        ('logdelivery.elasticloadbalancing.amazonaws.com', 'load balancer access logs'),
        ('guardduty.amazonaws.com', 'GuardDuty exports'))
),
refused AS (
    SELECT s.service, s.kind, c.s3_bucket AS bucket, c.s3_key AS key, c.eventtime AS time,
           c.errorcode, c.eventname AS action, c.recipientaccountid AS account,
           c.log_object, c.log_line, 'cloudtrail' AS source
    FROM window_cloudtrail c
    JOIN services s
      ON s.service = coalesce(c.useridentity.invokedby, c.sourceipaddress)
      OR c.useridentity.principalid = s.service
    WHERE c.eventsource = 's3.amazonaws.com' AND coalesce(c.errorcode, '') <> ''
      AND c.eventname IN ('PutObject', 'CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload',
                          'GetBucketAcl', 'GetBucketPolicy', 'ListBucket', 'HeadBucket')
    UNION ALL
    SELECT s.service, s.kind, a.bucket_name, a.key, a.requestdatetime, coalesce(a.errorcode, CAST(a.httpstatus AS VARCHAR)),
           a.operation, CAST(NULL AS VARCHAR), a.log_object, a.log_line, 'access_logs'
    FROM window_access_logs a
    JOIN services s
      ON a.requester = s.service OR a.requester = concat('svc:', s.service)
      OR (a.requester IS NULL AND a.useragent = s.service)
    WHERE a.httpstatus IN (400, 401, 403)
),
typed AS (
    SELECT *,
           CASE
               WHEN key LIKE 'AWSLogs/%/CloudTrail-Digest/%' THEN 'CloudTrail digests'
               WHEN key LIKE 'AWSLogs/%/CloudTrail/%' THEN 'CloudTrail'
               WHEN key LIKE 'AWSLogs/%/CloudTrail-Insight/%' THEN 'CloudTrail Insights'
               WHEN key LIKE 'AWSLogs/%/vpcflowlogs/%' THEN 'VPC flow logs'
               WHEN key LIKE 'AWSLogs/%/elasticloadbalancing/%' THEN 'load balancer access logs'
               WHEN key LIKE 'AWSLogs/%/Config/%' THEN 'AWS Config'
               WHEN key LIKE 'AWSLogs/%/route53resolver%' THEN 'Route 53 Resolver query logs'
               WHEN key LIKE 'AWSLogs/%/network-firewall/%' THEN 'Network Firewall logs'
               WHEN key LIKE 'AWSLogs/%/WAFLogs/%' THEN 'WAF logs'
               ELSE kind
           END AS log_type,
           coalesce(regexp_match(key, '^(.*?AWSLogs/[0-9]{12}/[^/]+/)')[1],
                    regexp_match(key, '^(.*/)')[1], '') AS prefix,
           coalesce(regexp_match(key, 'AWSLogs/([0-9]{12})/')[1], account) AS log_account
    FROM refused
)
SELECT concat(coalesce(bucket, '?'), ' (', log_type, ')') AS entity, min(service) AS principal,
       min(bucket) AS bucket, count(*) AS count, min(time) AS first_seen, max(time) AS last_seen,
       concat(count(*), ' ', log_type, ' deliveries by ', array_to_string(array_distinct(array_agg(service)), ', '),
              ' refused into ', coalesce(min(bucket), '?'),
              ' (prefix ', array_to_string(array_slice(array_sort(array_distinct(array_agg(prefix))), 1, 3), ', '),
              '; account ', coalesce(array_to_string(array_distinct(array_agg(log_account)), ', '), '?'),
              '; ', array_to_string(array_distinct(array_agg(errorcode)), ', '),
              '), from ', CAST(min(time) AS VARCHAR), ' to ', CAST(max(time) AS VARCHAR),
              ': these logs were not written') AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
           'action', action, 'key', key, 'errorcode', errorcode, 'source', source), time, 5) AS evidence
FROM typed
GROUP BY bucket, log_type
