-- Hosts that reported system events in a window.
SELECT host, count(*) AS samples, max(timestamp) AS last_seen
FROM system
WHERE timestamp BETWEEN $start AND $end
GROUP BY host
ORDER BY host
