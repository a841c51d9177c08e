-- Import jobs (导入记录): one row per import run, written in the same
-- transaction as the imported rows. Undo reads the change log entries whose
-- origin is 'import:<id>'.
CREATE TABLE imports (
    id           TEXT PRIMARY KEY,
    file_name    TEXT NOT NULL,
    format       TEXT NOT NULL,          -- xlsx | xls | ods | csv
    sheet        TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER NOT NULL,
    mapping      TEXT NOT NULL,          -- JSON: the column mapping used
    on_duplicate TEXT NOT NULL,          -- skip | fill | overwrite | create
    total        INTEGER NOT NULL,
    imported     INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    skipped      INTEGER NOT NULL,
    failed       INTEGER NOT NULL,
    errors       TEXT NOT NULL DEFAULT '[]',  -- JSON: [[row, [issues]]] of failed rows
    actor_id     TEXT,
    undone_at    INTEGER
) STRICT;
CREATE INDEX imports_started ON imports(started_at DESC);
