-- id: request-rate-spike
-- title: Request rate far above the principal's or address's own normal
-- severity: medium
-- family: anomalous-ip
-- sources: access_logs, cloudtrail
-- mitre: T1530 Data from Cloud Storage, T1619 Cloud Storage Object Discovery
-- description: An hour in which a principal or an address made far more requests than it
--   usually does, judged against its own hourly counts over the history analysed with
--   robust statistics: more than the median plus k times the median absolute deviation,
--   with enough hours of history to judge and a minimum absolute count.
-- action: Look at what the requests were (evidence): bulk reads, listing, deletes. Confirm
--   with the owner of the principal or address.
-- references: https://en.wikipedia.org/wiki/Median_absolute_deviation
-- param k = 10: deviations above the median
-- param min_points = 12: hours of history the entity needs before it is judged
-- param min_requests = 500: requests in the hour, at least
WITH events AS (
    SELECT 'principal' AS kind, requester AS entity, requestdatetime AS time, log_object, log_line, operation AS action, remoteip AS ip
    FROM history_access_logs WHERE requester IS NOT NULL AND operation NOT LIKE 'S3.%' AND requester <> 'AmazonS3'
    UNION ALL
    SELECT 'address', remoteip AS entity, requestdatetime, log_object, log_line, operation, remoteip AS ip
    FROM history_access_logs WHERE remoteip IS NOT NULL AND operation NOT LIKE 'S3.%'
    UNION ALL
    SELECT 'principal', useridentity.arn, eventtime, log_object, log_line, eventname, sourceipaddress
    FROM history_cloudtrail WHERE useridentity.arn IS NOT NULL
),
hourly AS (
    SELECT kind, entity, date_bin(INTERVAL '1 hour', time) AS hour, count(*) AS n, min(time) AS first_seen,
           max(time) AS last_seen, min(ip) AS ip
    FROM events GROUP BY kind, entity, date_bin(INTERVAL '1 hour', time)
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
    SELECT kind, entity, hour, n, first_seen, last_seen, ip, med, points, mad
    FROM spread
    WHERE last_seen >= ${since}
      AND points >= ${min_points}
      AND n >= ${min_requests}
      AND n > med + ${k} * greatest(mad, 1)
)
SELECT h.entity AS entity, CASE WHEN h.kind = 'principal' THEN h.entity END AS principal, h.ip, h.n AS count,
       h.first_seen, h.last_seen,
       concat(h.n, ' requests in the hour from ', h.hour, '; the ', h.kind, '''s median hour has ', h.med,
              ' (deviation ', h.mad, ', over ', h.points, ' active hours)') AS details,
       first_n(named_struct('log_object', e.log_object, 'log_line', e.log_line, 'time', e.time, 'action', e.action), e.time, 5) AS evidence
FROM flagged h
-- Flagged hours end in the window, so their events are from the window's first hour on:
-- the evidence reads that much of the history, not all of it.
JOIN events e ON e.kind = h.kind AND e.entity = h.entity AND date_bin(INTERVAL '1 hour', e.time) = h.hour
            AND e.time >= date_bin(INTERVAL '1 hour', ${since})
GROUP BY h.kind, h.entity, h.hour, h.n, h.first_seen, h.last_seen, h.ip, h.med, h.points, h.mad
