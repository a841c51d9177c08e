-- Duplicates: remembered decisions about pairs, and merges (undone through
-- the change log, origin `merge:<id>`).

-- A merged customer is a tombstone in the trash pointing to its master.
ALTER TABLE customers ADD COLUMN merged_into TEXT;
CREATE INDEX customers_merged_into ON customers(merged_into) WHERE merged_into IS NOT NULL;

-- One row per decided pair (a < b): `distinct` = "not a duplicate", never
-- suggested again; `merged` = merged by `merge_id`.
CREATE TABLE dedupe_decisions (
    a        TEXT NOT NULL,
    b        TEXT NOT NULL,
    decision TEXT NOT NULL,        -- distinct | merged
    merge_id TEXT,
    at       INTEGER NOT NULL,
    PRIMARY KEY (a, b)
) STRICT, WITHOUT ROWID;

CREATE TABLE merges (
    id        TEXT PRIMARY KEY,
    master_id TEXT NOT NULL,
    others    TEXT NOT NULL,       -- JSON array of customer ids
    at        INTEGER NOT NULL,
    undone_at INTEGER
) STRICT;
CREATE INDEX merges_master ON merges(master_id);
