-- id: lifecycle-expirations
-- title: Objects expired by lifecycle rules
-- severity: info
-- family: deletes
-- sources: access_logs
-- description: S3's own deletions under the bucket's lifecycle configuration
--   (S3.EXPIRE.OBJECT, S3.CREATE.DELETEMARKER), per bucket and day. They are not a
--   principal's deletes and are kept apart from mass-delete; a sudden jump here follows a
--   lifecycle change (see short-lifecycle-expiration).
-- action: Nothing if the rule is intended.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-and-other-bucket-config.html
SELECT bucket_name AS entity, bucket_name AS bucket, count(*) AS count,
       min(requestdatetime) AS first_seen, max(requestdatetime) AS last_seen,
       sum(CASE WHEN operation = 'S3.EXPIRE.OBJECT' THEN 1 ELSE 0 END) || ' expirations, '
           || sum(CASE WHEN operation = 'S3.CREATE.DELETEMARKER' THEN 1 ELSE 0 END) || ' delete markers' AS details,
       first_n(named_struct('log_object', log_object, 'log_line', log_line, 'time', requestdatetime,
           'action', operation, 'key', key), requestdatetime, 3) AS evidence
FROM window_access_logs
WHERE operation IN ('S3.EXPIRE.OBJECT', 'S3.CREATE.DELETEMARKER')
GROUP BY bucket_name
