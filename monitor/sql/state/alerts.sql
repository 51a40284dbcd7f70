-- Alert episodes: one row per (fingerprint, episode), at most one open (not resolved)
-- episode per fingerprint.
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT NOT NULL,
    episode INTEGER NOT NULL,
    rule_id TEXT NOT NULL,
    severity TEXT NOT NULL,
    labels TEXT NOT NULL,
    state TEXT NOT NULL,
    value REAL,
    threshold REAL,
    summary TEXT,
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

-- Webhook deliveries: every attempt's outcome is kept; failures are not fatal.
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
