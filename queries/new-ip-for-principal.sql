-- id: new-ip-for-principal
-- title: Principal used from an address it never used before
-- severity: medium
-- family: anomalous-ip
-- sources: access_logs, cloudtrail
-- mitre: T1078.004 Valid Accounts: Cloud Accounts
-- description: A principal with an established history (active for at least
--   min_history_hours before) made requests from a public IP address that it had not used
--   in the history analysed (the baseline before the window and the window up to then).
--   Stolen access keys are used from the attacker's addresses, not the owner's. Private and
--   AWS-internal addresses are left out, as they move with the owner's own infrastructure.
-- action: Ask the principal's owner whether the address is theirs (a new office, VPN,
--   CI runner); if not, rotate the credentials.
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html#securing_access-keys
-- param min_history_hours = 24: how long the principal must have been active before
-- param min_requests = 1: requests from the new address before it is reported
WITH seen AS (
    SELECT requester AS principal, remoteip AS ip, requestdatetime AS time, log_object, log_line,
           operation AS action, bucket_name AS bucket, useragent
    FROM history_access_logs
    WHERE requester IS NOT NULL AND requester NOT LIKE 'svc:%' AND requester <> 'AmazonS3' AND remoteip IS NOT NULL
    UNION ALL
    SELECT useridentity.arn, sourceipaddress, eventtime, log_object, log_line, eventname, s3_bucket, useragent
    FROM history_cloudtrail
    WHERE useridentity.arn IS NOT NULL AND sourceipaddress IS NOT NULL
      AND sourceipaddress NOT LIKE '%.amazonaws.com' AND sourceipaddress <> 'AWS Internal'
      AND coalesce(useridentity.type, '') NOT IN ('AWSService', 'AWSAccount')
),
principals AS (
    SELECT principal, min(time) AS active_since FROM seen GROUP BY principal
),
pairs AS (
    SELECT principal, ip, min(time) AS first_seen, max(time) AS last_seen, count(*) AS n,
           min(bucket) AS bucket, min(useragent) AS useragent,
           first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
               'action', action, 'bucket', bucket), time, 5) AS evidence
    FROM seen GROUP BY principal, ip
)
SELECT p.principal AS entity, p.principal, p.ip, p.bucket, p.useragent, p.n AS count, p.first_seen, p.last_seen,
       concat('first request from ', p.ip, ' after ', round(date_part('epoch', p.first_seen - a.active_since) / 3600),
              ' hours of history from other addresses') AS details,
       p.evidence
FROM pairs p JOIN principals a ON a.principal = p.principal
WHERE p.first_seen >= ${since}
  AND p.first_seen >= a.active_since + INTERVAL '${min_history_hours} hours'
  AND NOT is_private_ip(p.ip)
  AND p.n >= ${min_requests}
