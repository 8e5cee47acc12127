-- id: unparsed-records
-- title: Log lines that could not be read as records
-- severity: medium
-- family: integrity
-- sources: access_logs, cloudtrail
-- mitre: T1562 Impair Defenses, T1070 Indicator Removal
-- description: Lines (or whole objects) of the window's log objects that are not records:
--   malformed or cut lines, damaged or truncated deliveries, objects that could not be read.
--   Every other detection is blind to them. A requester who can make a record unreadable
--   (a crafted header) hides that request; damage in transit or at rest hides everything
--   after it. One finding per object, with the first rejected line and why.
-- action: Read the rejected lines (`SELECT * FROM rejects WHERE log_object = '…'`); a
--   crafted header points at the requester in the raw line, damage at the delivery. Fetch
--   the object again if it was cut, and report a format AWS changed.
-- references: https://docs.aws.amazon.com/AmazonS3/latest/userguide/LogFormat.html, https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html
SELECT log_object AS entity, rejects AS count, records_from AS first_seen, records_to AS last_seen,
       concat(rejects, CASE WHEN rejects = 1 THEN ' reject' ELSE ' rejects' END, ' (', log_kind, '); the first ',
              CASE WHEN first_line = 0 THEN 'is the object as a whole' ELSE concat('at line ', first_line, ', byte ', first_offset) END,
              ': ', reason) AS details,
       make_array(named_struct('log_object', log_object, 'log_line', first_line, 'byte_offset', first_offset,
                     'reason', reason, 'raw_line', raw_line)) AS evidence
FROM window_rejects
