-- Search documents change shape: the pinyin of names leaves the trigram
-- body and goes to the grams index as whole terms, one per syllable a typed
-- query may start at (src/search.rs). A query of letters is a prefix of
-- those terms; FTS5 answers a prefix of 3 to 5 letters from a prefix index
-- as one term (`zha` at 100k customers: 0.2 ms, against 13 ms gathering the
-- thousands of terms that start so), and a longer prefix from the few
-- terms that start with it.
-- Every document is rebuilt by this migration's hook.
DROP TABLE customer_grams;
CREATE VIRTUAL TABLE customer_grams USING fts5(
    grams, tokenize = 'unicode61 remove_diacritics 0', detail = 'none', content = '', contentless_delete = 1,
    prefix = '3 4 5'
);
INSERT INTO customer_grams(customer_grams, rank) VALUES ('crisismerge', 200);
-- 16 MB of pending index data per table instead of 32 (0008): an import of
-- 100k rows peaked at 233 MB with 32 MB, at 198 MB with 16, at the same
-- speed; 16 is still sixteen times FTS5's default.
INSERT INTO customer_grams(customer_grams, rank) VALUES ('hashsize', 16777216);
INSERT INTO customer_fts(customer_fts, rank) VALUES ('hashsize', 16777216);
