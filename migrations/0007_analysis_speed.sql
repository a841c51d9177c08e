-- Analysis, part two: covering indexes for the period reports, the daily
-- report (日报) archive and the keyword-cloud cache.

-- Opportunities closed in a period: candidates come from the index alone.
-- (Supersedes opportunity_stage_history_stage, same leading columns.)
DROP INDEX opportunity_stage_history_stage;
CREATE INDEX opportunity_stage_history_stage ON opportunity_stage_history(stage, entered_at, opportunity_id);
-- An opportunity's stays, read from the index alone.
-- (Supersedes opportunity_stage_history_opp, same leading columns.)
DROP INDEX opportunity_stage_history_opp;
CREATE INDEX opportunity_stage_history_opp ON opportunity_stage_history(opportunity_id, entered_at, stage, left_at, reason);

-- 日报: one report per local date, kept so that past reports stay viewable.
-- Derived data (like customer_segments): rebuilt from the records, not synced.
CREATE TABLE daily_reports (
    date         TEXT PRIMARY KEY,   -- the local day the report covers, YYYY-MM-DD
    generated_at INTEGER NOT NULL,
    body         TEXT NOT NULL,      -- the report as JSON
    seen_at      INTEGER             -- when it was shown to the user
) STRICT;

-- 关键词云: the last computation per scope, valid while the follow-ups and
-- customers it read are unchanged (fingerprint).
CREATE TABLE keyword_cache (
    scope        TEXT PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    computed_at  INTEGER NOT NULL,
    body         TEXT NOT NULL
) STRICT;
-- max(updated_at) of the follow-ups (the cache fingerprint) is one seek.
CREATE INDEX followups_updated ON followups(updated_at);
