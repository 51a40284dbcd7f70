-- Predictions, errors and latency percentiles per time bucket for one model.
-- Buckets are fixed widths in UTC computed on epoch microseconds ($width_us, aligned at
-- $offset_us): several times faster than date_trunc on TIMESTAMPTZ, which goes through
-- ICU calendar arithmetic for every row.
SELECT
    make_timestamptz(
        (epoch_us(timestamp) - $offset_us::BIGINT) // $width_us::BIGINT * $width_us::BIGINT
        + $offset_us::BIGINT
    ) AS bucket,
    count(*) AS predictions,
    count(*) FILTER (WHERE status = 'error') AS errors,
    quantile_cont(latency_ms, [0.5, 0.95, 0.99]) AS latency
FROM predictions
WHERE timestamp BETWEEN $start AND $end
  AND model_id = $model
  AND ($versions IS NULL OR list_contains($versions, coalesce(model_version, '')))
GROUP BY bucket
ORDER BY bucket
