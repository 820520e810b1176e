BEGIN;

-- Fails on plans still referenced by subscriptions (ON DELETE RESTRICT), on purpose.
DELETE FROM plans WHERE code IN ('free', 'pro', 'business');

-- Sequences ignore rollback and DELETE; rewind so that applying the seed again
-- gives the same ids (1, 2, 3 on an empty table) instead of 4, 5, 6.
SELECT setval(pg_get_serial_sequence('plans', 'id'), coalesce(max(id), 0) + 1, false)
FROM plans;

COMMIT;
