-- Alert episodes (monitor.ops.alerts): one row per (fingerprint, episode), at most one open
-- (not resolved) episode per fingerprint. Times are ISO 8601 UTC text (they sort as time).
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT NOT NULL,
    episode INTEGER NOT NULL,
    rule_id TEXT NOT NULL,
    severity TEXT NOT NULL,
    model_id TEXT,
    labels TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'firing', 'resolved', 'nodata')),
    value REAL,
    threshold REAL NOT NULL,
    comparator TEXT NOT NULL,
    page TEXT NOT NULL,
    summary TEXT NOT NULL,
    pending_since TEXT,
    started_at TEXT,
    resolved_at TEXT,
    last_evaluated_at TEXT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_verified INTEGER,
    acknowledged_at TEXT,
    note TEXT,
    UNIQUE (fingerprint, episode)
);
CREATE UNIQUE INDEX IF NOT EXISTS alerts_one_open_episode
    ON alerts (fingerprint) WHERE state <> 'resolved';
CREATE INDEX IF NOT EXISTS alerts_state ON alerts (state);
CREATE INDEX IF NOT EXISTS alerts_model ON alerts (model_id);

-- A silence stops notifications and the `monitor check` gate for one fingerprint until
-- `until`; `expired_at` is set when it is lifted early or replaced by a newer silence.
CREATE TABLE IF NOT EXISTS silences (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT NOT NULL,
    until TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_verified INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    expired_at TEXT
);
CREATE INDEX IF NOT EXISTS silences_fingerprint ON silences (fingerprint);

-- Webhook deliveries: every delivery's outcome is kept; failures are not fatal.
-- `url` is stored without its path and query (they often hold a secret token).
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id INTEGER NOT NULL REFERENCES alerts (id),
    event TEXT NOT NULL,
    url TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    status TEXT NOT NULL,
    http_status INTEGER,
    error TEXT,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notifications_alert ON notifications (alert_id);
