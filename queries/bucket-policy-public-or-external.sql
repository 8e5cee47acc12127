-- id: bucket-policy-public-or-external
-- title: Bucket policy made public or shared with another account
-- severity: high
-- family: exposure
-- sources: cloudtrail
-- mitre: T1098 Account Manipulation, T1537 Transfer Data to Cloud Account
-- description: A bucket policy was set that allows everyone, or that grants principals of
--   other AWS accounts. Public is judged as AWS judges it for Block Public Access (src/detect/
--   policy.rs): an Allow with NotPrincipal, or with a wildcard principal not confined by
--   aws:SourceIp narrower than the whole address space or by a fixed value (no wildcard, no
--   policy variable, a positive operator) of aws:PrincipalArn/Account/OrgID,
--   aws:SourceArn/Vpc/Vpce/Owner/Account, aws:userid, the KMS key or the access point. So
--   0.0.0.0/0, `Null` conditions, `StringLike aws:PrincipalArn *`, negated and …IfExists
--   operators leave it public. The first makes the data public; the second opens a path out of
--   the account. Public is high severity, another account medium.
-- action: Check the change with its author; if unintended, restore the previous policy and
--   keep Block Public Access on.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html, https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html
SELECT s3_bucket AS entity, s3_bucket AS bucket, coalesce(useridentity.arn, useridentity.principalid) AS principal,
       min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen,
       CASE WHEN max(policy_exposure(requestparameters, recipientaccountid)) = 'public' THEN 'high' ELSE 'medium' END AS severity,
       CASE WHEN max(policy_exposure(requestparameters, recipientaccountid)) = 'public'
            THEN 'Bucket policy made public'
            ELSE 'Bucket policy grants another account' END AS title,
       concat('policy: ', max(policy_exposure(requestparameters, recipientaccountid))) AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', eventtime,
           'eventname', eventname, 'exposure', policy_exposure(requestparameters, recipientaccountid)), eventtime, 5) AS evidence
FROM window_cloudtrail
WHERE eventsource = 's3.amazonaws.com' AND eventname = 'PutBucketPolicy' AND coalesce(errorcode, '') = ''
  AND policy_exposure(requestparameters, recipientaccountid) IS NOT NULL
GROUP BY s3_bucket, coalesce(useridentity.arn, useridentity.principalid)
