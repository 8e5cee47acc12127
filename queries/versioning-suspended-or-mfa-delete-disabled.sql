-- id: versioning-suspended-or-mfa-delete-disabled
-- title: Versioning suspended or MFA delete disabled
-- severity: high
-- family: exposure
-- sources: cloudtrail
-- mitre: T1490 Inhibit System Recovery
-- description: PutBucketVersioning that suspends versioning, or turns MFA delete off. Both
--   remove the protection that lets deleted or overwritten objects be recovered: attackers do
--   this before destroying data.
-- action: Re-enable versioning (and MFA delete where used); watch the bucket for deletes.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiFactorAuthenticationDelete.html
SELECT s3_bucket AS entity, s3_bucket AS bucket, coalesce(useridentity.arn, useridentity.principalid) AS principal,
       min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen,
       concat('status: ', coalesce(max(json_extract_scalar(requestparameters, '$.VersioningConfiguration.Status')), '-'),
              ', MFA delete: ', coalesce(max(json_extract_scalar(requestparameters, '$.VersioningConfiguration.MfaDelete')), '-')) AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', eventtime,
           'eventname', eventname), eventtime, 5) AS evidence
FROM window_cloudtrail
WHERE eventsource = 's3.amazonaws.com' AND eventname = 'PutBucketVersioning' AND coalesce(errorcode, '') = ''
  AND (json_extract_scalar(requestparameters, '$.VersioningConfiguration.Status') IN ('Suspended', 'Disabled')
       OR json_extract_scalar(requestparameters, '$.VersioningConfiguration.MfaDelete') = 'Disabled')
GROUP BY s3_bucket, coalesce(useridentity.arn, useridentity.principalid)
