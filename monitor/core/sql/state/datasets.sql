-- Uploaded datasets, stored as Parquet under <data_dir>/uploads/ (monitor/datasets.py).
-- path is relative to the data directory; columns, column_roles and details are JSON.
CREATE TABLE IF NOT EXISTS datasets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('reference', 'current')),
    path TEXT NOT NULL,
    source_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    row_count INTEGER NOT NULL,
    column_count INTEGER NOT NULL,
    columns TEXT NOT NULL,
    column_roles TEXT NOT NULL,
    model_id TEXT,
    details TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_verified INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS datasets_sha256 ON datasets (sha256);
