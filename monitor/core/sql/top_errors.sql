-- The most frequent error messages of a model in a window.
SELECT
    coalesce(error, '(no message)') AS message,
    count(*) AS n,
    min(timestamp) AS first_seen,
    max(timestamp) AS last_seen,
    list(DISTINCT coalesce(model_version, '') ORDER BY coalesce(model_version, '')) AS versions
FROM predictions
WHERE timestamp BETWEEN $start AND $end
  AND model_id = $model
  AND status = 'error'
  AND ($versions IS NULL OR list_contains($versions, coalesce(model_version, '')))
GROUP BY 1
ORDER BY n DESC, message
LIMIT $limit
