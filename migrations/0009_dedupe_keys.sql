-- The blocking keys of each customer's name (src/dedupe/block.rs), kept
-- with the search document, so checking one record being typed reads a few
-- index entries instead of matching its pinyin against the whole search
-- index. `sort` orders the members of a large block the way the scan does.
-- Filled for existing customers by the migration's hook.
CREATE TABLE dedupe_keys (
    key         TEXT NOT NULL,
    sort        TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    PRIMARY KEY (key, sort, customer_id)
) WITHOUT ROWID;
CREATE INDEX dedupe_keys_customer ON dedupe_keys(customer_id);

-- A landline is looked up like a mobile (`mobile = ? OR phone = ?`): without
-- its own index that OR scanned every contact.
CREATE INDEX contacts_phone ON contacts(phone) WHERE phone IS NOT NULL;
