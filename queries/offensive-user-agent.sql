-- id: offensive-user-agent
-- title: Requests from an offensive tool or a penetration-testing distribution
-- severity: high
-- family: anomalous-ip
-- sources: access_logs, cloudtrail
-- mitre: T1595 Active Scanning, T1526 Cloud Service Discovery
-- description: User agents of attack and scanning tools (sqlmap, Nuclei, S3Scanner, Pacu,
--   Stratus Red Team …) or of AWS clients on Kali, Parrot or Pentoo. Ordinary SDKs and
--   browsers are not matched. The list can be extended in the config
--   (settings.offensive_user_agents); authorised testers can be allow-listed.
-- action: If no test was authorised, treat the address and any principal it used as
--   hostile: block and rotate.
-- references: https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-iam.html#pentest-iamuser-kalilinux
WITH hits AS (
    SELECT offensive_agent(useragent) AS tool, remoteip AS ip, coalesce(requester, 'anonymous') AS principal,
           bucket_name AS bucket, useragent, requestdatetime AS time, log_object, log_line, operation AS action,
           'access_logs' AS source
    FROM window_access_logs WHERE offensive_agent(useragent) IS NOT NULL
    UNION ALL
    SELECT offensive_agent(useragent), sourceipaddress, coalesce(useridentity.arn, 'anonymous'), s3_bucket, useragent,
           eventtime, log_object, log_line, eventname, 'cloudtrail'
    FROM window_cloudtrail WHERE offensive_agent(useragent) IS NOT NULL
)
SELECT concat(tool, ' from ', coalesce(ip, 'unknown address')) AS entity, ip, min(principal) AS principal,
       min(bucket) AS bucket, min(useragent) AS useragent, count(*) AS count, min(time) AS first_seen,
       max(time) AS last_seen,
       concat(tool, '; principals: ', array_to_string(array_sort(array_distinct(array_agg(principal))), ', ')) AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
           'action', action, 'principal', principal, 'source', source), time, 5) AS evidence
FROM hits
GROUP BY tool, ip
