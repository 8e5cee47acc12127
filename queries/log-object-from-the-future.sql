-- id: log-object-from-the-future
-- title: A log object named after now
-- severity: high
-- family: integrity
-- sources: access_logs, cloudtrail
-- mitre: T1565.001 Data Manipulation: Stored Data Manipulation, T1562 Impair Defenses
-- description: Objects in the log bucket whose keys name a time later than now plus the
--   delivery slack. AWS names a delivery by when it wrote it, so such a name was chosen by
--   whoever else wrote the object: someone who can write into the log bucket, planting
--   records (forged evidence) or a name meant to move where incremental ingests start listing.
--   s3trawl reads such objects whatever the window, and never lets their names move a listing
--   position; this says they are there. High: writing into the log bucket is already a breach
--   of the logging pipeline.
-- action: Find who wrote the object (CloudTrail data events for the log bucket, or its own
--   access logs: PutObject of that key), remove their write access, and treat the records it
--   holds as forged until shown otherwise.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html, https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html
SELECT log_object AS entity, 1 AS count,
       coalesce(records_from, key_time) AS first_seen, coalesce(records_to, key_time) AS last_seen,
       concat('named ', to_char(key_time, '%Y-%m-%dT%H:%M:%SZ'),
              CASE WHEN records_from IS NULL THEN ', no record of the run''s span in it'
                   ELSE concat(', holds records from ', to_char(records_from, '%Y-%m-%dT%H:%M:%SZ'),
                               ' to ', to_char(records_to, '%Y-%m-%dT%H:%M:%SZ')) END) AS details,
       make_array(named_struct('log_object', log_object, 'log_line', first_line, 'key_time', key_time)) AS evidence
FROM window_future_objects
