BEGIN;

DROP TRIGGER plans_set_updated_at ON plans;
DROP TABLE plans;

COMMIT;
