-- id: anonymous-access-to-private-bucket
-- title: Anonymous request to a bucket that must not be public
-- severity: high
-- family: anomalous-ip
-- sources: access_logs
-- mitre: T1530 Data from Cloud Storage
-- description: An unauthenticated request succeeded (HTTP status below 400) on a bucket the
--   config lists under settings.private_buckets (names or * patterns). Denied anonymous probes
--   are internet background noise and are counted by access-denied-burst instead. Without
--   the list this detection finds nothing.
-- action: Block Public Access on the bucket and remove public grants; check what was read.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
SELECT bucket_name AS entity, bucket_name AS bucket, min(remoteip) AS ip, count(*) AS count,
       min(requestdatetime) AS first_seen, max(requestdatetime) AS last_seen,
       concat(count(*), ' anonymous requests from ', count(DISTINCT remoteip), ' addresses') AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', requestdatetime,
           'operation', operation, 'key', key, 'ip', remoteip, 'httpstatus', httpstatus), requestdatetime, 5) AS evidence
FROM window_access_logs
WHERE requester IS NULL AND coalesce(operation, '') NOT LIKE 'S3.%' AND private_bucket(bucket_name)
  AND coalesce(httpstatus, 200) < 400
GROUP BY bucket_name
