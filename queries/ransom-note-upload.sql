-- id: ransom-note-upload
-- title: Ransom note written to a bucket
-- severity: high
-- family: deletes
-- sources: access_logs, cloudtrail
-- mitre: T1486 Data Encrypted for Impact, T1485 Data Destruction
-- description: An object was written whose name is one ransomware uses for its note
--   (HOW_TO_DECRYPT…, README_TO_RESTORE…, YOUR_FILES_ARE_ENCRYPTED…, FILES-DELETED.txt as
--   Stratus Red Team's S3 ransomware techniques write it): the visible end of an
--   S3 extortion, usually after mass deletion or re-encryption.
-- action: Treat as an active incident: find the principal and its earlier activity
--   (mass-delete, sse-c-or-foreign-kms-key, exfiltrate-then-delete), revoke it, restore.
-- references: https://attack.mitre.org/techniques/T1486/
-- param pattern = '(?i)(how[_ -]?to[_ -]?(decrypt|restore|recover|get[_ -]?(back|your))|read[_ -]?me[_ -]?(to|for|now)?[_ -]?(decrypt|restore|recover)|decrypt[_ -]?(instructions|files|your|data|me)|ransom|recover[_ -]?(your[_ -]?)?(files|data)|restore[_ -]?(your[_ -]?)?(files|data)|(files|data)[_ -]?(have[_ -]?been[_ -]?|are[_ -]?|were[_ -]?)?(deleted|encrypted|stolen|locked)|your[_ -]?(files|data)|!+read[_ -]?me!+)': regular expression on the key
WITH writes AS (
    SELECT coalesce(requester, remoteip, 'anonymous') AS who, requester AS principal, remoteip AS ip, bucket_name AS bucket, key,
           requestdatetime AS time, log_object, log_line, operation AS action
    FROM window_access_logs
    WHERE operation IN ('REST.PUT.OBJECT', 'REST.POST.OBJECT', 'REST.COPY.OBJECT') AND coalesce(httpstatus, 200) < 300
    UNION ALL
    SELECT coalesce(useridentity.arn, useridentity.principalid, sourceipaddress), useridentity.arn, sourceipaddress, s3_bucket, s3_key,
           eventtime, log_object, log_line, eventname
    FROM window_cloudtrail
    WHERE eventname IN ('PutObject', 'CopyObject', 'CompleteMultipartUpload') AND coalesce(errorcode, '') = ''
)
SELECT who AS entity, min(principal) AS principal, min(ip) AS ip, bucket, count(DISTINCT key) AS count, min(time) AS first_seen,
       max(time) AS last_seen, 'notes: ' || array_to_string(array_slice(array_sort(array_distinct(array_agg(key))), 1, 5), ', ') AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
           'action', action, 'key', key), time, 5) AS evidence
FROM writes
WHERE regexp_like(key, ${pattern})
GROUP BY who, bucket
