-- Core schema: workspace metadata, team members, customers, contacts, tags,
-- the change log and the search index.
-- Times are UTC milliseconds; ids are UUIDv7 text; deleted_at marks the trash.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL            -- JSON
) STRICT;

CREATE TABLE members (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    employee_no TEXT,
    department  TEXT,
    role        TEXT NOT NULL DEFAULT 'rep',   -- rep | manager | analyst | admin
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER
) STRICT;

CREATE TABLE customers (
    id                 TEXT PRIMARY KEY,
    code               TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    name_sort          TEXT NOT NULL DEFAULT '',         -- pinyin of name, for 拼音 order
    kind               TEXT NOT NULL DEFAULT 'company',   -- company | individual
    industry           TEXT,
    size               TEXT,
    province           TEXT,
    city               TEXT,
    district           TEXT,
    address            TEXT,
    source             TEXT,
    status             TEXT NOT NULL DEFAULT 'prospect',  -- prospect | interested | won | lost
    grade              TEXT,                              -- A | B | C
    owner_id           TEXT REFERENCES members(id),
    needs              TEXT,
    budget             REAL,
    purchase_cycle     TEXT,
    annual_purchase    REAL,
    first_contact_date TEXT,                              -- YYYY-MM-DD
    notes              TEXT,
    last_followup_at   INTEGER,
    next_followup_at   INTEGER,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    deleted_at         INTEGER
) STRICT;

-- The list page filters on these and sorts by them; partial on live rows.
CREATE INDEX customers_live_updated ON customers(updated_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX customers_live_name ON customers(name_sort) WHERE deleted_at IS NULL;
CREATE INDEX customers_live_status ON customers(status, updated_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX customers_live_owner ON customers(owner_id, updated_at DESC) WHERE deleted_at IS NULL;
-- Covering index for the list's filter combinations: counting and sorting
-- a filtered page reads only this index, never the wide table rows.
CREATE INDEX customers_live_filter ON customers(
    status, grade, owner_id, industry, province, city, updated_at, created_at, name_sort, code, last_followup_at
) WHERE deleted_at IS NULL;
CREATE INDEX customers_live_lastfu ON customers(last_followup_at) WHERE deleted_at IS NULL;
CREATE INDEX customers_created ON customers(created_at);
CREATE INDEX customers_deleted ON customers(deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE contacts (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    title       TEXT,
    mobile      TEXT,          -- normalised: 13800138000 or +4930123456
    phone       TEXT,          -- landline, normalised: 010-12345678
    email       TEXT,
    wechat      TEXT,
    is_primary  INTEGER NOT NULL DEFAULT 0,
    notes       TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER
) STRICT;
CREATE INDEX contacts_customer ON contacts(customer_id);
CREATE INDEX contacts_mobile ON contacts(mobile) WHERE mobile IS NOT NULL;
CREATE INDEX contacts_email ON contacts(email) WHERE email IS NOT NULL;

CREATE TABLE tags (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    color      TEXT NOT NULL DEFAULT '#5b8ff9',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER
) STRICT;
CREATE UNIQUE INDEX tags_live_name ON tags(name) WHERE deleted_at IS NULL;

CREATE TABLE customer_tags (
    customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    tag_id      TEXT NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (customer_id, tag_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX customer_tags_tag ON customer_tags(tag_id, customer_id);

-- The change log: one row per changed field. Customer history, undo and
-- team sync all read it. Values are JSON text (NULL = absent).
CREATE TABLE changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    hlc       INTEGER NOT NULL,     -- hybrid logical clock: ms << 16 | counter
    device_id TEXT NOT NULL,
    actor_id  TEXT,                 -- team member who made the change
    entity    TEXT NOT NULL,        -- customer | contact | tag | customer_tag | member | setting
    entity_id TEXT NOT NULL,
    field     TEXT NOT NULL,
    old       TEXT,
    new       TEXT,
    origin    TEXT NOT NULL,        -- ui | cli | import:<id> | merge:<id> | sync | demo | restore
    at        INTEGER NOT NULL      -- wall clock ms, for display
) STRICT;
CREATE INDEX changes_entity ON changes(entity, entity_id, seq);
CREATE INDEX changes_origin ON changes(origin);

-- Search: one document per customer. `body` holds every searchable text
-- (names, code, contacts, digits of phones, emails, tags, notes, pinyin) for
-- trigram substring matching (>= 3 characters); `grams` holds the 1- and
-- 2-character grams of the short fields so 1-2 character queries stay indexed.
-- Both FTS tables use the rid of search_docs as their rowid.
CREATE TABLE search_docs (
    rid         INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id TEXT NOT NULL UNIQUE REFERENCES customers(id) ON DELETE CASCADE
) STRICT;
-- Contentless: the text lives in the entity tables; the index only needs
-- to answer "which rows". contentless_delete lets a document be replaced.
CREATE VIRTUAL TABLE customer_fts USING fts5(
    body, tokenize = 'trigram', content = '', contentless_delete = 1
);
CREATE VIRTUAL TABLE customer_grams USING fts5(
    grams, tokenize = 'unicode61 remove_diacritics 0', detail = 'none', content = '', contentless_delete = 1
);
