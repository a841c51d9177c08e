-- Let FTS5 gather up to 32 MB of new index data in memory before writing a
-- segment (default 1 MB). Small writes are unaffected (pending data is
-- written at commit); an import or demo of 100k customers writes a few large
-- segments instead of hundreds of small ones that then have to be merged.
INSERT INTO customer_fts(customer_fts, rank) VALUES ('hashsize', 33554432);
INSERT INTO customer_grams(customer_grams, rank) VALUES ('hashsize', 33554432);
