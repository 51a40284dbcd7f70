-- Aliases (e.g. champion) per model, notes per version, rollback marks (monitor.ops.registry).
-- A rollback mark is `requested` until someone applies or cancels it; at most one
-- requested mark per model (the partial unique index enforces it under concurrency).
-- alert_ids: JSON array of alert ids; evidence: JSON snapshot of the comparison.
CREATE TABLE IF NOT EXISTS model_aliases (
    model_id TEXT NOT NULL,
    alias TEXT NOT NULL,
    version TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL,
    PRIMARY KEY (model_id, alias)
);

CREATE TABLE IF NOT EXISTS version_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id TEXT NOT NULL,
    version TEXT NOT NULL,
    note TEXT NOT NULL,
    written_by TEXT NOT NULL,
    written_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS rollbacks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id TEXT NOT NULL,
    from_version TEXT NOT NULL,
    to_version TEXT NOT NULL,
    reason TEXT NOT NULL,
    alert_ids TEXT NOT NULL,
    evidence TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_verified INTEGER NOT NULL,
    requested_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('requested', 'applied', 'cancelled')),
    closed_by TEXT,
    closed_verified INTEGER,
    closed_at TEXT,
    close_note TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS rollbacks_one_open_per_model
    ON rollbacks (model_id) WHERE status = 'requested';
