-- id: threat-list-ip
-- title: Requests from an address on a threat list
-- severity: high
-- family: anomalous-ip
-- sources: access_logs, cloudtrail
-- mitre: T1090.003 Proxy: Multi-hop Proxy
-- description: Requests from addresses on the threat lists the config names (a Tor exit
--   list, a provider's feed, your own block list; addresses and CIDR ranges). Without
--   threat lists this detection finds nothing.
-- action: Check what the requests did (evidence); block the address in the bucket policy
--   (aws:SourceIp) and rotate credentials it used.
-- references: https://check.torproject.org/torbulkexitlist
WITH hits AS (
    SELECT remoteip AS ip, threat_list(remoteip) AS list, coalesce(requester, 'anonymous') AS principal,
           bucket_name AS bucket, requestdatetime AS time, log_object, log_line, operation AS action, httpstatus AS status,
           'access_logs' AS source
    FROM window_access_logs WHERE remoteip IS NOT NULL AND threat_list(remoteip) IS NOT NULL
    UNION ALL
    SELECT sourceipaddress, threat_list(sourceipaddress), coalesce(useridentity.arn, 'anonymous'), s3_bucket, eventtime,
           log_object, log_line, eventname, CASE WHEN errorcode IS NULL THEN 200 ELSE 403 END, 'cloudtrail'
    FROM window_cloudtrail WHERE threat_list(sourceipaddress) IS NOT NULL
)
SELECT ip AS entity, ip, min(principal) AS principal, min(bucket) AS bucket, count(*) AS count,
       min(time) AS first_seen, max(time) AS last_seen,
       concat('on list ', min(list), '; principals: ', array_to_string(array_sort(array_distinct(array_agg(principal))), ', ')) AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
           'action', action, 'principal', principal, 'source', source), time, 5) AS evidence
FROM hits
GROUP BY ip
