BEGIN;

DROP TRIGGER subscriptions_set_updated_at ON subscriptions;
DROP INDEX subscriptions_plan_id_idx;
DROP INDEX subscriptions_one_live_per_user_idx;
DROP TABLE subscriptions;

COMMIT;
