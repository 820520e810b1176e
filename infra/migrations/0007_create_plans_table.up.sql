BEGIN;

CREATE TABLE plans (
    id            bigserial   PRIMARY KEY,
    -- Stable key for code and billing.
    code          text        NOT NULL,
    -- The Stripe Price customers subscribe to (price_...); amounts live in Stripe.
    price_id      text        NOT NULL,
    -- Images a subscriber may stage per billing period.
    monthly_limit integer     NOT NULL,
    is_active     boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT plans_code_key UNIQUE (code),
    CONSTRAINT plans_price_id_key UNIQUE (price_id),
    CONSTRAINT plans_code_format CHECK (code ~ '^[a-z][a-z0-9_]*$'),
    CONSTRAINT plans_price_id_format CHECK (price_id ~ '^price_[A-Za-z0-9]+$'),
    CONSTRAINT plans_monthly_limit_nonnegative CHECK (monthly_limit >= 0)
);

CREATE TRIGGER plans_set_updated_at
    BEFORE UPDATE ON plans
    FOR EACH ROW
    WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION set_updated_at();

COMMIT;
