-- Analysis, part three: the dashboard reads from indexes alone.

-- An opportunity's figures by id (the deals closed or created in a period
-- are looked up one by one): no visit to the table row.
CREATE INDEX opportunities_facts ON opportunities(id, deleted_at, customer_id, owner_id, created_at,
    expected_amount, won_amount, received_amount, loss_reason);

-- Each customer's status changes (old and new values), for "ever reached
-- 意向" without reading the full creation records of the change log.
CREATE INDEX changes_customer_status ON changes(entity_id, entity, field, new, old)
    WHERE entity = 'customer' AND field = 'status';
