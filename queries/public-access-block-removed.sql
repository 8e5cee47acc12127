-- id: public-access-block-removed
-- title: Block Public Access removed or weakened
-- severity: high
-- family: exposure
-- sources: cloudtrail
-- mitre: T1562.001 Impair Defenses
-- description: S3 Block Public Access was deleted, or set with one of its four protections
--   turned off, on a bucket or for the whole account. It is the guard that keeps a mistaken
--   policy or ACL from making data public; removing it is often the first step of an
--   exposure.
-- action: Restore the setting unless the change was planned; check what policies and ACLs
--   were set afterwards (bucket-policy-public-or-external, acl-grant-public).
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
SELECT coalesce(s3_bucket, concat('account ', recipientaccountid)) AS entity, s3_bucket AS bucket,
       recipientaccountid AS account, coalesce(useridentity.arn, useridentity.principalid) AS principal,
       min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen,
       array_to_string(array_distinct(array_agg(eventname)), ', ') AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', eventtime,
           'eventname', eventname), eventtime, 5) AS evidence
FROM window_cloudtrail
WHERE eventsource IN ('s3.amazonaws.com', 's3-control.amazonaws.com') AND coalesce(errorcode, '') = ''
  AND (eventname IN ('DeleteBucketPublicAccessBlock', 'DeletePublicAccessBlock', 'DeleteAccountPublicAccessBlock')
       OR (eventname IN ('PutBucketPublicAccessBlock', 'PutPublicAccessBlock', 'PutAccountPublicAccessBlock')
           AND (json_extract_scalar(requestparameters, '$.PublicAccessBlockConfiguration.BlockPublicAcls') = 'false'
             OR json_extract_scalar(requestparameters, '$.PublicAccessBlockConfiguration.IgnorePublicAcls') = 'false'
             OR json_extract_scalar(requestparameters, '$.PublicAccessBlockConfiguration.BlockPublicPolicy') = 'false'
             OR json_extract_scalar(requestparameters, '$.PublicAccessBlockConfiguration.RestrictPublicBuckets') = 'false')))
GROUP BY s3_bucket, recipientaccountid, coalesce(useridentity.arn, useridentity.principalid)
