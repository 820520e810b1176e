BEGIN;

CREATE TABLE subscriptions (
    id                   uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id              uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- RESTRICT: a plan someone pays for must be retired (is_active), not deleted.
    plan_id              bigint      NOT NULL REFERENCES plans (id) ON DELETE RESTRICT,
    status               text        NOT NULL DEFAULT 'active',
    current_period_start timestamptz NOT NULL,
    current_period_end   timestamptz NOT NULL,
    cancelled_at         timestamptz,
    -- The payment provider's id (e.g. Stripe's sub_...); NULL for free plans.
    external_id          text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT subscriptions_external_id_key UNIQUE (external_id),
    CONSTRAINT subscriptions_status_check
        CHECK (status IN ('trialing', 'active', 'past_due', 'cancelled')),
    CONSTRAINT subscriptions_period_order
        CHECK (current_period_end > current_period_start)
);

-- At most one subscription per user that is not cancelled; history is kept.
CREATE UNIQUE INDEX subscriptions_one_live_per_user_idx
    ON subscriptions (user_id)
    WHERE status <> 'cancelled';

CREATE INDEX subscriptions_plan_id_idx ON subscriptions (plan_id);

CREATE TRIGGER subscriptions_set_updated_at
    BEFORE UPDATE ON subscriptions
    FOR EACH ROW
    WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION set_updated_at();

COMMIT;
