-- Models and versions seen in the logs, with their time extent and traffic.
SELECT
    model_id,
    coalesce(model_version, '') AS model_version,
    count(*) AS predictions,
    min(timestamp) AS first_seen,
    max(timestamp) AS last_seen
FROM predictions
GROUP BY ALL
ORDER BY model_id, first_seen, model_version
