-- Analysis: sales targets, payments (several per deal), segment membership,
-- and the indexes the period reports read by.

-- 销售目标: one row per scope (a member, or the team when owner_id is NULL)
-- and period ('2026-11' for a month, '2026-Q4' for a quarter).
CREATE TABLE targets (
    id            TEXT PRIMARY KEY,
    owner_id      TEXT REFERENCES members(id),
    period        TEXT NOT NULL,
    amount        REAL,              -- 销售额目标 (yuan)
    wins          INTEGER,           -- 成交单数目标
    new_customers INTEGER,           -- 新客户数目标
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    deleted_at    INTEGER
) STRICT;
CREATE UNIQUE INDEX targets_scope ON targets(coalesce(owner_id, ''), period) WHERE deleted_at IS NULL;

-- 回款: each payment of an opportunity; opportunities.received_amount is their sum.
CREATE TABLE opportunity_payments (
    id             TEXT PRIMARY KEY,
    opportunity_id TEXT NOT NULL REFERENCES opportunities(id) ON DELETE CASCADE,
    amount         REAL NOT NULL,
    at             INTEGER NOT NULL,
    note           TEXT,
    created_at     INTEGER NOT NULL,
    deleted_at     INTEGER
) STRICT;
CREATE INDEX opportunity_payments_opp ON opportunity_payments(opportunity_id, at);

-- 客户画像: which segments a customer is in. Derived data (like the search
-- index), recomputed from the customer's records and the segment settings.
CREATE TABLE customer_segments (
    customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    segment     TEXT NOT NULL,       -- high_value | potential | churn_risk
    since       INTEGER NOT NULL,
    PRIMARY KEY (customer_id, segment)
) STRICT, WITHOUT ROWID;
CREATE INDEX customer_segments_segment ON customer_segments(segment, customer_id);

-- Period reports: opportunities created / follow-ups done in a period.
CREATE INDEX opportunities_created ON opportunities(created_at);
-- Covering: counts by kind / effective / owner read only the index.
CREATE INDEX followups_done_at ON followups(done_at, kind, effective, owner_id, customer_id)
    WHERE status = 'done' AND deleted_at IS NULL;
-- A lead's follow-up kinds and first follow-up.
CREATE INDEX followups_customer_kind_done ON followups(customer_id, kind, done_at)
    WHERE status = 'done' AND deleted_at IS NULL;
