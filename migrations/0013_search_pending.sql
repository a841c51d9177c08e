-- 8 MB of pending index data per search table instead of 16 (0012). The
-- end of a 100k-row import, where both tables gather their pending data at
-- once, peaked at 182-195 MB with 16 MB and at 174 MB with 8; an import and
-- a 100k demo load took the same time with either (the flushes are still
-- eight times fewer than with FTS5's default of 1 MB).
INSERT INTO customer_fts(customer_fts, rank) VALUES ('hashsize', 8388608);
INSERT INTO customer_grams(customer_grams, rank) VALUES ('hashsize', 8388608);
