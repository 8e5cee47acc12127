-- id: bytes-out-spike
-- title: Data read far above the principal's or address's own normal
-- severity: high
-- family: exfiltration
-- sources: access_logs, cloudtrail
-- mitre: T1530 Data from Cloud Storage, T1567 Exfiltration Over Web Service
-- description: An hour in which a principal or an address downloaded far more bytes than it
--   usually does, judged against its own hourly volumes over the history analysed (median
--   plus k median absolute deviations), with a minimum absolute volume. Access logs count
--   bytes sent; CloudTrail data events count bytesTransferredOut.
-- action: Find what was read (evidence, keys) and where it went; if unexpected, revoke the
--   credentials and assess the exposure.
-- references: https://attack.mitre.org/techniques/T1530/
-- param k = 10: deviations above the median
-- param min_points = 12: hours of history the entity needs before it is judged
-- param min_bytes = 1073741824: bytes in the hour, at least
WITH reads AS (
    SELECT 'principal' AS kind, requester AS entity, requestdatetime AS time, coalesce(bytessent, 0) AS bytes,
           log_object, log_line, key, remoteip AS ip, bucket_name AS bucket
    FROM history_access_logs WHERE requester IS NOT NULL AND operation LIKE '%.GET.%'
    UNION ALL
    SELECT 'address', remoteip AS entity, requestdatetime, coalesce(bytessent, 0), log_object, log_line, key, remoteip AS ip, bucket_name
    FROM history_access_logs WHERE remoteip IS NOT NULL AND operation LIKE '%.GET.%'
    UNION ALL
    SELECT 'principal', useridentity.arn, eventtime, coalesce(bytes_out, 0), log_object, log_line, s3_key, sourceipaddress, s3_bucket
    FROM history_cloudtrail WHERE useridentity.arn IS NOT NULL AND eventname = 'GetObject'
),
hourly AS (
    SELECT kind, entity, date_bin(INTERVAL '1 hour', time) AS hour, sum(bytes) AS n, count(*) AS requests,
           min(time) AS first_seen, max(time) AS last_seen, min(ip) AS ip, min(bucket) AS bucket
    FROM reads GROUP BY kind, entity, date_bin(INTERVAL '1 hour', time)
),
-- Each CTE is read once (DataFusion computes a CTE again wherever it is referenced): the
-- median and the deviation come from window functions over the hours, and the evidence is
-- gathered in the final aggregation.
-- Per entity, the median hour and the median deviation from it, as grouped aggregates (a
-- median as a window function over each entity's hours cost most of the detection's time).
stats AS (
    SELECT kind, entity, median(n) AS med, count(*) AS points
    FROM hourly GROUP BY kind, entity
    HAVING count(*) >= ${min_points}
),
scored AS (
    SELECT h.*, s.med, s.points FROM hourly h JOIN stats s ON s.kind = h.kind AND s.entity = h.entity
),
deviations AS (
    SELECT kind, entity, median(abs(n - med)) AS mad FROM scored GROUP BY kind, entity
),
spread AS (
    SELECT s.*, d.mad FROM scored s JOIN deviations d ON d.kind = s.kind AND d.entity = s.entity
),
flagged AS (
    SELECT kind, entity, hour, n, first_seen, last_seen, ip, requests, bucket, med, points, mad
    FROM spread
    WHERE last_seen >= ${since}
      AND points >= ${min_points}
      AND n >= ${min_bytes}
      AND n > med + ${k} * greatest(mad, 1)
)
SELECT h.entity AS entity, CASE WHEN h.kind = 'principal' THEN h.entity END AS principal, h.ip, h.bucket,
       h.requests AS count, h.first_seen, h.last_seen,
       concat(h.n, ' bytes read in the hour from ', h.hour, '; the ', h.kind, '''s median hour reads ', h.med,
              ' (deviation ', h.mad, ', over ', h.points, ' active hours)') AS details,
       last_n(named_struct('log_object', e.log_object, 'log_line', e.log_line, 'time', e.time, 'key', e.key, 'bytes', e.bytes), e.bytes, 5) AS evidence
FROM flagged h
-- Flagged hours end in the window, so their events are from the window's first hour on:
-- the evidence reads that much of the history, not all of it.
JOIN reads e ON e.kind = h.kind AND e.entity = h.entity AND date_bin(INTERVAL '1 hour', e.time) = h.hour
            AND e.time >= date_bin(INTERVAL '1 hour', ${since})
GROUP BY h.kind, h.entity, h.hour, h.n, h.first_seen, h.last_seen, h.ip, h.requests, h.bucket, h.med, h.points, h.mad
