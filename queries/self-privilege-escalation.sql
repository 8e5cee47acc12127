-- id: self-privilege-escalation
-- title: A principal granted itself permissions
-- severity: high
-- family: identity
-- sources: cloudtrail
-- mitre: T1098.003 Account Manipulation: Additional Cloud Roles, T1548 Abuse Elevation Control Mechanism
-- description: A user or role changed its own permissions, and the call succeeded: an inline
--   policy put on itself (PutUserPolicy, PutRolePolicy), a managed policy attached to itself
--   (AttachUserPolicy, AttachRolePolicy), itself added to a group (AddUserToGroup), or its own
--   role's trust policy rewritten (UpdateAssumeRolePolicy). "Itself" is the user name of an IAM
--   user, or the role behind an assumed-role session (its session issuer). Administrators
--   change other principals; a principal widening its own rights is the step from a foothold to
--   the data. The finding names the change and the principal's S3 activity in the window.
-- action: Revert the policy change; find out how the principal got IAM rights over itself and
--   what it did with the new ones.
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_manage-attach-detach.html, https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/
WITH changes AS (
    SELECT coalesce(useridentity.arn, useridentity.principalid) AS principal, sourceipaddress AS ip, eventtime AS time,
           eventname, log_object, log_line,
           coalesce(json_extract_scalar(requestparameters, '$.userName'), json_extract_scalar(requestparameters, '$.roleName')) AS target,
           coalesce(json_extract_scalar(requestparameters, '$.policyArn'), json_extract_scalar(requestparameters, '$.policyName'),
                    json_extract_scalar(requestparameters, '$.groupName'), 'trust policy') AS what,
           CASE WHEN useridentity.type = 'IAMUser' THEN useridentity.username
                WHEN useridentity.type = 'AssumedRole' THEN useridentity.sessioncontext.sessionissuer.username END AS self
    FROM window_cloudtrail
    WHERE eventsource = 'iam.amazonaws.com' AND coalesce(errorcode, '') = ''
      AND eventname IN ('PutUserPolicy', 'AttachUserPolicy', 'AddUserToGroup', 'PutRolePolicy',
                        'AttachRolePolicy', 'UpdateAssumeRolePolicy')
),
own AS (
    SELECT * FROM changes
    WHERE self IS NOT NULL AND target = self
      AND ((eventname IN ('PutUserPolicy', 'AttachUserPolicy', 'AddUserToGroup')
            AND principal LIKE '%:user/%')
           OR (eventname IN ('PutRolePolicy', 'AttachRolePolicy', 'UpdateAssumeRolePolicy') AND principal LIKE '%:assumed-role/%'))
),
grouped AS (
    SELECT principal, min(ip) AS ip, count(*) AS count, min(time) AS first_seen, max(time) AS last_seen,
           array_to_string(array_sort(array_distinct(array_agg(concat(eventname, ' ', what)))), ', ') AS granted,
           first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
               'eventname', eventname, 'target', target, 'what', what), time, 5) AS evidence
    FROM own
    GROUP BY principal
)
SELECT g.principal AS entity, g.principal, g.ip, g.count, g.first_seen, g.last_seen,
       concat('granted itself: ', g.granted,
              CASE WHEN s.requests IS NULL THEN '' ELSE concat('; S3 in the window: ', s.requests, ' requests to ', s.buckets) END) AS details,
       g.evidence
FROM grouped g
LEFT JOIN window_s3_activity s ON s.principal = g.principal
