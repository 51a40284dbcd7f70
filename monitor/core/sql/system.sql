-- Resource use per host and time bucket from system events.
SELECT
    host,
    make_timestamptz(
        (epoch_us(timestamp) - $offset_us::BIGINT) // $width_us::BIGINT * $width_us::BIGINT
        + $offset_us::BIGINT
    ) AS bucket,
    count(*) AS samples,
    avg(cpu_percent) AS cpu_mean,
    max(cpu_percent) AS cpu_max,
    avg(memory_mb) AS memory_mean,
    max(memory_mb) AS memory_max,
    avg(queue_depth) AS queue_mean,
    max(queue_depth) AS queue_max
FROM system
WHERE timestamp BETWEEN $start AND $end
  AND ($hosts IS NULL OR list_contains($hosts, host))
GROUP BY ALL
ORDER BY host, bucket
