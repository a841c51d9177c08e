-- FTS5 merges all segments of a level at once (a "crisis merge") when the
-- level holds 16 of them. After a large import the big segments sit in such
-- a level, so an ordinary edit later paid 1–2 s for rewriting them (seen as
-- merges of two customers taking 1.3 s at 100k). With a high limit the
-- incremental merge (automerge, a little work per write) does that work
-- instead; it keeps the number of segments small on its own.
INSERT INTO customer_fts(customer_fts, rank) VALUES ('crisismerge', 200);
INSERT INTO customer_grams(customer_grams, rank) VALUES ('crisismerge', 200);
