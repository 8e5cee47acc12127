-- id: access-denied-burst
-- title: Burst of denied requests (enumeration or brute force)
-- severity: medium
-- family: anomalous-ip
-- sources: access_logs, cloudtrail
-- mitre: T1619 Cloud Storage Object Discovery, T1110 Brute Force
-- description: Many requests refused by S3 for authorization (403: AccessDenied,
--   SignatureDoesNotMatch, InvalidAccessKeyId …) from one address or principal within a
--   short window: key guessing, bucket and object enumeration, or a stolen key probing its
--   permissions. The access logs see failed authentications that CloudTrail never logs.
--   AWS's internal callers and AWS services (a log delivery refused is log-delivery-failing)
--   are left out. High severity at five times the threshold.
-- action: Identify the source; block it if unknown. For a principal, check whether its
--   credentials leaked.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
-- param threshold = 20: denied requests in one window before it fires
-- param window_minutes = 10: length of the window
WITH denied AS (
    SELECT coalesce(remoteip, requester) AS source_key, remoteip AS ip, coalesce(requester, 'anonymous') AS principal,
           bucket_name AS bucket, requestdatetime AS time, errorcode, operation AS action, key, log_object, log_line,
           'access_logs' AS source
    FROM window_access_logs
    WHERE httpstatus = 403
      AND errorcode IN ('AccessDenied', 'SignatureDoesNotMatch', 'InvalidAccessKeyId', 'AllAccessDisabled',
                        'AccountProblem', 'InvalidToken', 'ExpiredToken', 'RequestTimeTooSkewed', 'AccessControlListNotSupported')
      AND coalesce(useragent, '') NOT LIKE 'aws-internal%'
      AND coalesce(requester, '') NOT LIKE '%.amazonaws.com'
    UNION ALL
    SELECT coalesce(sourceipaddress, useridentity.arn), sourceipaddress, coalesce(useridentity.arn, 'anonymous'),
           s3_bucket, eventtime, errorcode, eventname, s3_key, log_object, log_line, 'cloudtrail'
    FROM window_cloudtrail
    WHERE errorcode IN ('AccessDenied', 'Client.UnauthorizedOperation', 'UnauthorizedOperation', 'Forbidden')
      AND (eventsource = 's3.amazonaws.com' OR eventname LIKE 'Get%' OR eventname LIKE 'List%' OR eventname LIKE 'Describe%')
      AND coalesce(useridentity.invokedby, sourceipaddress, '') NOT LIKE '%.amazonaws.com'
),
windows AS (
    SELECT source_key, min(ip) AS ip, date_bin(INTERVAL '${window_minutes} minutes', time) AS slot,
           count(*) AS n, min(time) AS first_seen, max(time) AS last_seen,
           array_sort(array_distinct(array_agg(principal))) AS principals,
           count(DISTINCT bucket) AS buckets, count(DISTINCT key) AS keys,
           first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
               'action', action, 'key', key, 'errorcode', errorcode, 'source', source), time, 5) AS evidence
    FROM denied
    GROUP BY source_key, date_bin(INTERVAL '${window_minutes} minutes', time)
)
SELECT source_key AS entity, ip, array_element(first_value(principals ORDER BY n DESC, slot), 1) AS principal, sum(n) AS count, min(first_seen) AS first_seen,
       max(last_seen) AS last_seen,
       CASE WHEN max(n) >= 5 * ${threshold} THEN 'high' ELSE 'medium' END AS severity,
       concat(max(n), ' denied requests in ', ${window_minutes}, ' minutes at most, over ', max(buckets), ' buckets and ',
              max(keys), ' keys; principals: ', array_to_string(first_value(principals ORDER BY n DESC, slot), ', ')) AS details,
       first_value(evidence ORDER BY n DESC, slot) AS evidence
FROM windows
WHERE n >= ${threshold}
GROUP BY source_key, ip
