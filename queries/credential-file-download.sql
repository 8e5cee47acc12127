-- id: credential-file-download
-- title: Credential-like files downloaded
-- severity: high
-- family: exfiltration
-- sources: access_logs, cloudtrail
-- mitre: T1552.001 Unsecured Credentials: Credentials In Files, T1530 Data from Cloud Storage
-- description: Reads of objects whose names mark them as secrets: .env files, AWS
--   credentials files, private keys (id_rsa, *.pem, *.key, *.pfx, *.p12), keystores, password
--   databases (*.kdbx), Terraform state, .git-credentials, .netrc, .htpasswd. Successful
--   reads are high severity; denied attempts (someone looking for them) medium.
-- action: Rotate whatever the file held, then find out why it was in the bucket and who
--   read it.
-- references: https://attack.mitre.org/techniques/T1552/001/
-- param pattern = '(?i)(^|/)(\.env(\.[a-z0-9_-]+)?|credentials(\.json|\.csv)?|\.aws/credentials|id_(rsa|dsa|ecdsa|ed25519)|[^/]*\.(pem|key|pfx|p12|kdbx|keystore|jks|ppk)|[^/]*\.tfstate(\.backup)?|\.git-credentials|\.netrc|\.htpasswd|\.pgpass|wp-config\.php|secrets?\.(json|ya?ml|txt|env))$': regular expression on the key
WITH reads AS (
    SELECT coalesce(requester, remoteip, 'anonymous') AS who, requester AS principal, remoteip AS ip, bucket_name AS bucket, key,
           requestdatetime AS time, httpstatus < 300 AS ok, log_object, log_line, operation AS action, useragent
    FROM window_access_logs
    WHERE operation IN ('REST.GET.OBJECT', 'WEBSITE.GET.OBJECT') AND key IS NOT NULL
    UNION ALL
    SELECT coalesce(useridentity.arn, useridentity.principalid, sourceipaddress), useridentity.arn, sourceipaddress, s3_bucket, s3_key, eventtime,
           coalesce(errorcode, '') = '', log_object, log_line, eventname, useragent
    FROM window_cloudtrail
    WHERE eventname = 'GetObject' AND s3_key IS NOT NULL
)
SELECT who AS entity, min(principal) AS principal, min(ip) AS ip, bucket, min(useragent) AS useragent, count(*) AS count,
       min(time) AS first_seen, max(time) AS last_seen,
       CASE WHEN bool_or(ok) THEN 'high' ELSE 'medium' END AS severity,
       CASE WHEN bool_or(ok) THEN 'Credential-like files downloaded' ELSE 'Attempts to download credential-like files' END AS title,
       concat(sum(CASE WHEN ok THEN 1 ELSE 0 END), ' of ', count(*), ' reads succeeded: ',
              array_to_string(array_slice(array_sort(array_distinct(array_agg(key))), 1, 10), ', ')) AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
           'action', action, 'key', key, 'succeeded', ok), time, 5) AS evidence
FROM reads
WHERE regexp_like(key, ${pattern})
GROUP BY who, bucket
