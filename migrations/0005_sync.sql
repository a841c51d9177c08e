-- Team sync: the merge state of every field (last writer wins by
-- (hlc, device)), which peers' entries are applied, conflicts kept for
-- people to decide, and unique values (customer codes, tag names) that a
-- merge had to displace.

-- The stamp of the value an entry overwrote on its own device ("base"): an
-- entry whose base is older than the value it meets was written without
-- knowing that value, so the two are concurrent.
ALTER TABLE changes ADD COLUMN base_hlc INTEGER;
ALTER TABLE changes ADD COLUMN base_device TEXT;
CREATE INDEX changes_device_hlc ON changes(device_id, hlc);

-- One register per (entity, id, field). Field "*" holds the whole record of
-- a create (value NULL after a purge); a field's winning value is its own
-- register if newer than "*", else the record's value.
CREATE TABLE sync_reg (
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    field       TEXT NOT NULL,
    hlc         INTEGER NOT NULL,
    device      TEXT NOT NULL,
    base_hlc    INTEGER,
    base_device TEXT,
    value       TEXT,              -- JSON; NULL = absent
    at          INTEGER NOT NULL,
    PRIMARY KEY (entity, entity_id, field)
) STRICT, WITHOUT ROWID;

-- Other devices of the team: how far their entries are applied here, and
-- what their device.json said.
CREATE TABLE sync_peers (
    device_id      TEXT PRIMARY KEY,
    applied_hlc    INTEGER NOT NULL DEFAULT 0,
    name           TEXT,
    member         TEXT,
    app_version    TEXT,
    schema_version INTEGER,
    last_seen      INTEGER
) STRICT;

-- Values set concurrently on two devices: the merge keeps one, this keeps
-- the other until someone decides.
CREATE TABLE conflicts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    entity        TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    field         TEXT NOT NULL,
    kept_value    TEXT,
    kept_hlc      INTEGER NOT NULL,
    kept_device   TEXT NOT NULL,
    other_value   TEXT,
    other_hlc     INTEGER NOT NULL,
    other_device  TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    resolved_at   INTEGER,
    UNIQUE (entity, entity_id, field, kept_hlc, kept_device, other_hlc, other_device)
) STRICT;
CREATE INDEX conflicts_open ON conflicts(entity, entity_id) WHERE resolved_at IS NULL;

-- Rows whose unique value (customer code, tag name) lost to an older one
-- from another device and carry a stand-in until it is free or renumbered.
CREATE TABLE sync_displaced (
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    col       TEXT NOT NULL,
    wanted    TEXT NOT NULL,
    PRIMARY KEY (entity, entity_id, col)
) STRICT, WITHOUT ROWID;

-- Shared files that could not be read (checksum, truncated, newer format).
CREATE TABLE sync_quarantine (
    path   TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    at     INTEGER NOT NULL
) STRICT;
