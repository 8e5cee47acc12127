-- id: anonymous-access-new-ip
-- title: Anonymous requests to a bucket from a new address
-- severity: medium
-- family: anomalous-ip
-- sources: access_logs
-- mitre: T1530 Data from Cloud Storage
-- description: Unauthenticated (anonymous) requests from an address never seen anonymously
--   on this bucket before, on a bucket with an established history. Someone found a bucket
--   (or objects) readable without credentials. Website and CloudFront buckets see this all
--   the time: allow-list them in the config.
-- action: Check whether the bucket is meant to be public; if not, enable Block Public
--   Access and remove the public grants.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
-- param min_history_hours = 24: how long the bucket must have been logged before
-- param min_requests = 1: anonymous requests from the address before it is reported
WITH anon AS (
    SELECT bucket_name AS bucket, remoteip AS ip, requestdatetime AS time, log_object, log_line, operation, key,
           httpstatus, useragent
    FROM history_access_logs
    WHERE requester IS NULL AND remoteip IS NOT NULL AND operation NOT LIKE 'S3.%'
),
buckets AS (
    SELECT bucket_name AS bucket, min(requestdatetime) AS logged_since FROM history_access_logs GROUP BY bucket_name
),
pairs AS (
    SELECT bucket, ip, min(time) AS first_seen, max(time) AS last_seen, count(*) AS n, min(useragent) AS useragent,
           sum(CASE WHEN httpstatus < 300 THEN 1 ELSE 0 END) AS succeeded,
           first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', time,
               'operation', operation, 'key', key, 'httpstatus', httpstatus), time, 5) AS evidence
    FROM anon GROUP BY bucket, ip
)
SELECT p.ip AS entity, p.ip, p.bucket, p.useragent, p.n AS count, p.first_seen, p.last_seen,
       concat(p.n, ' anonymous requests, ', p.succeeded, ' of them answered with success') AS details,
       p.evidence
FROM pairs p JOIN buckets b ON b.bucket = p.bucket
WHERE p.first_seen >= ${since}
  AND p.first_seen >= b.logged_since + INTERVAL '${min_history_hours} hours'
  AND p.n >= ${min_requests}
