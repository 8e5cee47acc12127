-- id: root-user-activity
-- title: The account's root user signed in or made API calls
-- severity: high
-- family: identity
-- sources: cloudtrail
-- mitre: T1078.004 Valid Accounts: Cloud Accounts
-- description: The root user (userIdentity.type Root) signed in to the console or called AWS
--   directly. AWS's guidance is to lock the root user away and use it only for the few tasks
--   that need it; root use is either one of those tasks or someone holding the account's master
--   credentials. Calls AWS services make on root's behalf (invokedBy set) are left out. The
--   finding says what root did and, when root also touched S3 in the window (CloudTrail data
--   events or the access logs), how much and where.
-- action: Confirm with the account owner that the root use was planned; if not, reset the root
--   password and MFA, delete any root access keys, and review everything root did.
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/root-user-best-practices.html
WITH root AS (
    SELECT coalesce(useridentity.arn, concat('arn:aws:iam::', coalesce(useridentity.accountid, recipientaccountid), ':root')) AS principal,
           coalesce(useridentity.accountid, recipientaccountid) AS account, sourceipaddress AS ip,
           eventtime AS time, eventname, errorcode, log_object, log_line
    FROM window_cloudtrail
    WHERE useridentity.type = 'Root' AND useridentity.invokedby IS NULL
      AND coalesce(eventtype, '') <> 'AwsServiceEvent'
),
grouped AS (
    SELECT principal, account, min(ip) AS ip, count(*) AS count, min(time) AS first_seen, max(time) AS last_seen,
           count(DISTINCT ip) AS addresses,
           bool_or(eventname = 'ConsoleLogin') AS console,
           array_to_string(array_slice(array_sort(array_distinct(array_agg(eventname))), 1, 12), ', ') AS calls,
           first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
               'eventname', eventname, 'errorcode', errorcode, 'ip', ip), time, 5) AS evidence
    FROM root
    GROUP BY principal, account
)
SELECT g.account AS entity, g.principal, g.ip, g.count, g.first_seen, g.last_seen,
       concat(CASE WHEN g.console THEN 'console sign-in and ' ELSE '' END, g.count, ' calls from ', g.addresses,
              ' addresses: ', g.calls,
              CASE WHEN s.requests IS NULL THEN '' ELSE concat('; S3 in the window: ', s.requests, ' requests to ', s.buckets) END) AS details,
       g.evidence
FROM grouped g
LEFT JOIN window_s3_activity s ON s.principal = g.principal
