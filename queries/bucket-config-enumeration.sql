-- id: bucket-config-enumeration
-- title: Enumeration of bucket configurations
-- severity: medium
-- family: exfiltration
-- sources: access_logs, cloudtrail
-- mitre: T1580 Cloud Infrastructure Discovery, T1619 Cloud Storage Object Discovery
-- description: One principal read many different bucket settings (policy, ACL, logging,
--   versioning, encryption, replication, public access block, lifecycle …) across buckets
--   within a short window: what reconnaissance tools and attackers with fresh credentials
--   do to learn what they can reach and what is watched. AWS services reading settings on
--   your behalf (AWS Config, Security Hub, Trusted Advisor: service-linked roles, or calls
--   CloudTrail shows as coming from *.amazonaws.com) are not counted.
-- action: Confirm the principal runs an auditing tool (allow-list it); otherwise treat its
--   credentials as compromised.
-- references: https://attack.mitre.org/techniques/T1580/
-- param threshold = 15: distinct (bucket, setting) reads in one window before it fires
-- param window_minutes = 60: length of the window
WITH reads AS (
    SELECT coalesce(requester, remoteip, 'anonymous') AS principal, remoteip AS ip, bucket_name AS bucket,
           operation AS setting, requestdatetime AS time, log_object, log_line, 'access_logs' AS source
    FROM window_access_logs
    WHERE operation IN ('REST.GET.BUCKETPOLICY', 'REST.GET.ACL', 'REST.GET.LOGGING_STATUS', 'REST.GET.VERSIONING',
                        'REST.GET.ENCRYPTION', 'REST.GET.REPLICATION', 'REST.GET.PUBLIC_ACCESS_BLOCK', 'REST.GET.LIFECYCLE',
                        'REST.GET.CORS', 'REST.GET.WEBSITE', 'REST.GET.BUCKETPOLICYSTATUS', 'REST.GET.OWNERSHIP_CONTROLS',
                        'REST.GET.OBJECT_LOCK_CONFIGURATION', 'REST.GET.NOTIFICATION', 'REST.GET.ANALYTICS',
                        'REST.GET.INVENTORY', 'REST.GET.ACCELERATE', 'REST.GET.INTELLIGENT_TIERING')
      AND key IS NULL
      AND coalesce(requester, '') NOT LIKE 'arn:aws:sts::%:assumed-role/AWSServiceRoleFor%'
    UNION ALL
    SELECT coalesce(useridentity.arn, useridentity.principalid, sourceipaddress), sourceipaddress, s3_bucket, eventname,
           eventtime, log_object, log_line, 'cloudtrail'
    FROM window_cloudtrail
    WHERE eventsource = 's3.amazonaws.com'
      AND coalesce(sourceipaddress, '') NOT LIKE '%.amazonaws.com'
      AND coalesce(useridentity.invokedby, '') NOT LIKE '%.amazonaws.com'
      AND coalesce(useridentity.arn, '') NOT LIKE 'arn:aws:sts::%:assumed-role/AWSServiceRoleFor%'
      AND eventname IN ('GetBucketPolicy', 'GetBucketAcl', 'GetBucketLogging', 'GetBucketVersioning', 'GetBucketEncryption',
                        'GetBucketReplication', 'GetBucketPublicAccessBlock', 'GetPublicAccessBlock', 'GetBucketLifecycle',
                        'GetBucketLifecycleConfiguration', 'GetBucketCors', 'GetBucketWebsite', 'GetBucketPolicyStatus',
                        'GetBucketOwnershipControls', 'GetObjectLockConfiguration', 'GetBucketNotification',
                        'GetBucketNotificationConfiguration', 'GetBucketTagging', 'GetBucketAnalyticsConfiguration',
                        'GetBucketInventoryConfiguration', 'GetAccelerateConfiguration')
),
windows AS (
    SELECT principal, date_bin(INTERVAL '${window_minutes} minutes', time) AS slot,
           count(DISTINCT concat(bucket, ' ', setting)) AS pairs, count(DISTINCT bucket) AS buckets,
           count(DISTINCT setting) AS settings, count(*) AS n, min(time) AS first_seen, max(time) AS last_seen,
           min(ip) AS ip,
           first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
               'bucket', bucket, 'setting', setting, 'source', source), time, 5) AS evidence
    FROM reads
    GROUP BY principal, date_bin(INTERVAL '${window_minutes} minutes', time)
)
SELECT principal AS entity, principal, ip, sum(n) AS count, min(first_seen) AS first_seen, max(last_seen) AS last_seen,
       concat(max(pairs), ' distinct settings read in one window, over ', max(buckets), ' buckets') AS details,
       first_value(evidence ORDER BY pairs DESC, slot) AS evidence
FROM windows
WHERE pairs >= ${threshold}
GROUP BY principal, ip
