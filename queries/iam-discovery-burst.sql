-- id: iam-discovery-burst
-- title: IAM and STS enumeration by a principal that does not usually make such calls
-- severity: medium
-- family: identity
-- sources: cloudtrail
-- mitre: T1087.004 Account Discovery: Cloud Account, T1069.003 Permission Groups Discovery: Cloud Groups
-- description: One principal called several distinct IAM/STS discovery APIs in the window
--   (ListUsers, ListRoles, ListPolicies, GetAccountAuthorizationDetails, GetCallerIdentity,
--   ListAttachedUserPolicies, …; failed calls count: probing is the point) and made none of them
--   in the baseline. Stolen credentials are tried this way first, to learn what they can reach.
--   High when the same principal also used S3 in the window (the finding says how much).
-- action: Find out whose credentials these are and whether the enumeration was expected (a new
--   tool, an audit); if not, revoke them and review what they reached.
-- references: https://docs.aws.amazon.com/IAM/latest/UserGuide/cloudtrail-integration.html
-- param distinct_calls = 3: distinct discovery APIs in the window before it fires
WITH discovery AS (
    SELECT coalesce(useridentity.arn, useridentity.principalid) AS principal, sourceipaddress AS ip, eventtime AS time,
           eventname, errorcode, log_object, log_line
    FROM window_cloudtrail
    WHERE eventsource IN ('iam.amazonaws.com', 'sts.amazonaws.com')
      AND (eventname LIKE 'List%' OR eventname LIKE 'Get%' OR eventname = 'SimulatePrincipalPolicy')
      AND eventname NOT IN ('GetSessionToken', 'GetFederationToken')
      AND coalesce(useridentity.invokedby, '') = ''
),
usual AS (
    SELECT DISTINCT coalesce(useridentity.arn, useridentity.principalid) AS principal
    FROM baseline_cloudtrail
    WHERE eventsource IN ('iam.amazonaws.com', 'sts.amazonaws.com')
      AND (eventname LIKE 'List%' OR (eventname LIKE 'Get%' AND eventname <> 'GetCallerIdentity'))
),
grouped AS (
    SELECT principal, min(ip) AS ip, count(*) AS count, count(DISTINCT eventname) AS calls,
           sum(CASE WHEN coalesce(errorcode, '') <> '' THEN 1 ELSE 0 END) AS refused,
           min(time) AS first_seen, max(time) AS last_seen,
           array_to_string(array_slice(array_sort(array_distinct(array_agg(eventname))), 1, 12), ', ') AS names,
           first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
               'eventname', eventname, 'errorcode', errorcode), time, 5) AS evidence
    FROM discovery
    GROUP BY principal
)
SELECT g.principal AS entity, g.principal, g.ip, g.count, g.first_seen, g.last_seen,
       CASE WHEN s.requests IS NULL THEN 'medium' ELSE 'high' END AS severity,
       concat(g.calls, ' discovery APIs, ', g.count, ' calls (', g.refused, ' refused): ', g.names,
              CASE WHEN s.requests IS NULL THEN '' ELSE concat('; S3 in the window: ', s.requests, ' requests to ', s.buckets) END) AS details,
       g.evidence
FROM grouped g
LEFT JOIN window_s3_activity s ON s.principal = g.principal
WHERE g.calls >= ${distinct_calls}
  AND g.principal IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM usual u WHERE u.principal = g.principal)
