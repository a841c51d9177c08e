-- Follow-ups (跟进), their reminders and attachments; opportunities (销售机会)
-- with stage history; alerts (预警). Pipeline stages, grade cadence and alert
-- thresholds are rows of `settings` (JSON), written by the core with defaults
-- when absent, so they need no table here.
-- Times are UTC milliseconds; ids are UUIDv7 text; deleted_at marks the trash.

CREATE TABLE opportunities (
    id                  TEXT PRIMARY KEY,
    customer_id         TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    owner_id            TEXT REFERENCES members(id),
    stage               TEXT NOT NULL,              -- key of a pipeline stage (settings 'pipeline.stages')
    stage_entered_at    INTEGER NOT NULL,           -- when the current stage was entered
    expected_amount     REAL,                       -- 预计成交金额 (yuan)
    won_amount          REAL,                       -- 成交金额
    received_amount     REAL,                       -- 回款金额
    expected_close_date TEXT,                       -- YYYY-MM-DD
    loss_reason         TEXT,                       -- 输单原因, required when stage = 'lost'
    notes               TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    deleted_at          INTEGER
) STRICT;
CREATE INDEX opportunities_customer ON opportunities(customer_id, created_at DESC);
-- Kanban columns and the "too long in one stage" rule.
CREATE INDEX opportunities_live_stage ON opportunities(stage, stage_entered_at) WHERE deleted_at IS NULL;
CREATE INDEX opportunities_live_owner ON opportunities(owner_id, stage) WHERE deleted_at IS NULL;

-- One row per stay of an opportunity in a stage: time in each stage.
CREATE TABLE opportunity_stage_history (
    id             TEXT PRIMARY KEY,
    opportunity_id TEXT NOT NULL REFERENCES opportunities(id) ON DELETE CASCADE,
    stage          TEXT NOT NULL,
    entered_at     INTEGER NOT NULL,
    left_at        INTEGER,                         -- NULL while it is the current stage
    reason         TEXT                             -- e.g. the loss reason when entering 'lost'
) STRICT;
CREATE INDEX opportunity_stage_history_opp ON opportunity_stage_history(opportunity_id, entered_at);
CREATE INDEX opportunity_stage_history_stage ON opportunity_stage_history(stage, entered_at);

CREATE TABLE followups (
    id                 TEXT PRIMARY KEY,
    customer_id        TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    opportunity_id     TEXT REFERENCES opportunities(id) ON DELETE SET NULL,
    kind               TEXT NOT NULL DEFAULT 'call',   -- call | visit | email | meeting | wechat | other
    status             TEXT NOT NULL DEFAULT 'planned',-- planned | done | cancelled
    owner_id           TEXT REFERENCES members(id),
    planned_at         INTEGER,                        -- 计划时间
    remind_before_min  INTEGER,                        -- 提前提醒（分钟）; NULL = no reminder
    -- When the reminder is due: planned_at - remind_before_min, or the
    -- snooze time. NULL when there is no reminder.
    remind_at          INTEGER,
    reminder_fired_at  INTEGER,                        -- set once the reminder was shown
    snoozed_until      INTEGER,
    done_at            INTEGER,                        -- 实际跟进时间
    purpose            TEXT,                           -- 跟进目的
    content            TEXT,                           -- 沟通内容 / 跟进结果
    feedback           TEXT,                           -- 客户反馈
    next_step          TEXT,                           -- 下一步计划
    effective          INTEGER,                        -- 有效跟进 (0/1), NULL = not judged
    postpone_count     INTEGER NOT NULL DEFAULT 0,
    postpone_reason    TEXT,                           -- the latest 延期原因
    cancel_reason      TEXT,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    deleted_at         INTEGER
) STRICT;
-- The next due reminder: MIN(remind_at) over this partial index is one seek.
CREATE INDEX followups_reminder_pending ON followups(remind_at)
    WHERE reminder_fired_at IS NULL AND remind_at IS NOT NULL AND status = 'planned' AND deleted_at IS NULL;
-- Today: overdue and today's planned follow-ups in time order.
-- Covering for the counts (owner filter, customer-in-trash check).
CREATE INDEX followups_planned ON followups(planned_at, owner_id, customer_id)
    WHERE status = 'planned' AND deleted_at IS NULL;
-- A customer's timeline, last and next follow-up.
CREATE INDEX followups_customer ON followups(customer_id, status, planned_at);
CREATE INDEX followups_customer_done ON followups(customer_id, done_at) WHERE status = 'done' AND deleted_at IS NULL;
CREATE INDEX followups_opportunity ON followups(opportunity_id) WHERE opportunity_id IS NOT NULL;

-- Each postponement (延期) with its reason.
CREATE TABLE followup_postponements (
    id          TEXT PRIMARY KEY,
    followup_id TEXT NOT NULL REFERENCES followups(id) ON DELETE CASCADE,
    from_at     INTEGER,
    to_at       INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    at          INTEGER NOT NULL
) STRICT;
CREATE INDEX followup_postponements_fu ON followup_postponements(followup_id, at);

-- Files attached to a follow-up, stored content-addressed in the data dir
-- (attachments/<sha256[0..2]>/<sha256>); the row keeps the original name.
CREATE TABLE attachments (
    id          TEXT PRIMARY KEY,
    followup_id TEXT NOT NULL REFERENCES followups(id) ON DELETE CASCADE,
    sha256      TEXT NOT NULL,
    name        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    deleted_at  INTEGER
) STRICT;
CREATE INDEX attachments_followup ON attachments(followup_id);
CREATE INDEX attachments_sha ON attachments(sha256);

-- Alerts raised by the rules. `condition_key` names the rule, the entity and
-- the state that triggered it (e.g. the last follow-up time), so a condition
-- raises one alert however often the rules are evaluated.
CREATE TABLE alerts (
    id            TEXT PRIMARY KEY,
    rule          TEXT NOT NULL,        -- lead_owner | lead_manager | opportunity_stale | churn_risk
    entity        TEXT NOT NULL,        -- customer | opportunity
    entity_id     TEXT NOT NULL,
    customer_id   TEXT REFERENCES customers(id) ON DELETE CASCADE,
    audience      TEXT NOT NULL,        -- owner | manager
    owner_id      TEXT,
    condition_key TEXT NOT NULL UNIQUE,
    since         INTEGER NOT NULL,     -- the time the condition is counted from
    raised_at     INTEGER NOT NULL,
    resolved_at   INTEGER,              -- the condition no longer holds (followed up, stage moved)
    dismissed_at  INTEGER               -- a person dismissed it
) STRICT;
CREATE INDEX alerts_active ON alerts(raised_at DESC, id DESC) WHERE dismissed_at IS NULL AND resolved_at IS NULL;
CREATE INDEX alerts_active_owner ON alerts(owner_id, audience, raised_at DESC, id DESC)
    WHERE dismissed_at IS NULL AND resolved_at IS NULL;
CREATE INDEX alerts_entity ON alerts(entity, entity_id);

-- Grade cadence: customers due for a follow-up, per grade, oldest first.
-- Only customers with nothing planned can be due; covering for the counts.
CREATE INDEX customers_live_cadence ON customers(grade, coalesce(last_followup_at, created_at), owner_id)
    WHERE deleted_at IS NULL AND status <> 'lost' AND next_followup_at IS NULL;
-- Lead rules: prospects without a follow-up for N days (covering: the
-- rules read id and owner from the index alone).
CREATE INDEX customers_live_lead ON customers(status, coalesce(last_followup_at, created_at), id, owner_id)
    WHERE deleted_at IS NULL;
-- Churn rule: any live non-lost customer, by last contact (covering).
CREATE INDEX customers_live_contact ON customers(coalesce(last_followup_at, created_at), id, owner_id)
    WHERE deleted_at IS NULL AND status <> 'lost';
