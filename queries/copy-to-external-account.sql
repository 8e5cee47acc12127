-- id: copy-to-external-account
-- title: Objects copied to a bucket of another account
-- severity: high
-- family: exfiltration
-- sources: cloudtrail
-- mitre: T1537 Transfer Data to Cloud Account
-- description: CopyObject between buckets where one bucket belongs to an account other than
--   the one recording the event: data leaving the account by server-side copy, which moves
--   no bytes through the attacker's network and so escapes download volume checks.
-- action: Identify the other account; if unknown, revoke the principal and ask the other
--   account's owner (through AWS) to remove the copies.
-- references: https://attack.mitre.org/techniques/T1537/
WITH copies AS (
    SELECT *, unnest(resources) AS r FROM window_cloudtrail
    WHERE eventsource = 's3.amazonaws.com' AND eventname IN ('CopyObject', 'UploadPartCopy') AND coalesce(errorcode, '') = ''
)
SELECT coalesce(useridentity.arn, useridentity.principalid, sourceipaddress) AS entity,
       coalesce(useridentity.arn, useridentity.principalid) AS principal, min(sourceipaddress) AS ip, min(s3_bucket) AS bucket,
       count(DISTINCT eventid) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen,
       concat('other accounts: ', array_to_string(array_distinct(array_agg(r.accountid)), ', '), '; buckets: ',
              array_to_string(array_distinct(array_agg(replace(r.arn, 'arn:aws:s3:::'))), ', ')) AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', eventtime,
           'key', s3_key, 'copy_source', json_extract_scalar(requestparameters, '$["x-amz-copy-source"]')), eventtime, 5) AS evidence
FROM copies
WHERE r.type = 'AWS::S3::Bucket' AND r.accountid IS NOT NULL AND r.accountid <> recipientaccountid
GROUP BY coalesce(useridentity.arn, useridentity.principalid, sourceipaddress), coalesce(useridentity.arn, useridentity.principalid)
