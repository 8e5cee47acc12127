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
stats AS (
    SELECT kind, entity, median(n) AS med, count(*) AS points FROM hourly GROUP BY kind, entity
),
spread AS (
    SELECT h.kind, h.entity, median(abs(h.n - s.med)) AS mad
    FROM hourly h JOIN stats s ON s.kind = h.kind AND s.entity = h.entity
    GROUP BY h.kind, h.entity
),
flagged AS (
    SELECT h.kind, h.entity, h.hour, h.n, h.first_seen, h.last_seen, h.ip, s.med, s.points, m.mad
    FROM hourly h
    JOIN stats s ON s.kind = h.kind AND s.entity = h.entity
    JOIN spread m ON m.kind = h.kind AND m.entity = h.entity
    WHERE h.last_seen >= ${since}
      AND s.points >= ${min_points}
      AND h.n >= ${min_requests}
      AND h.n > s.med + ${k} * greatest(m.mad, 1)
),
evidence AS (
    SELECT f.kind, f.entity, f.hour, first_n(named_struct('log_object', e.log_object, 'log_line', e.log_line, 'time', e.time, 'action', e.action), e.time, 5) AS evidence
    FROM flagged f JOIN events e ON e.kind = f.kind AND e.entity = f.entity
        AND date_bin(INTERVAL '1 hour', e.time) = f.hour
    GROUP BY f.kind, f.entity, f.hour
)
SELECT h.entity AS entity, CASE WHEN h.kind = 'principal' THEN h.entity END AS principal, h.ip, h.n AS count,
       h.first_seen, h.last_seen,
       concat(h.n, ' requests in the hour from ', h.hour, '; the ', h.kind, '''s median hour has ', h.med,
              ' (deviation ', h.mad, ', over ', h.points, ' active hours)') AS details,
       v.evidence
FROM flagged h
JOIN evidence v ON v.kind = h.kind AND v.entity = h.entity AND v.hour = h.hour
