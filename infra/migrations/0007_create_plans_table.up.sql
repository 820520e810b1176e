BEGIN;

CREATE TABLE plans (
    id                  bigserial   PRIMARY KEY,
    -- Stable key for code and billing; name is what customers see.
    code                text        NOT NULL,
    name                text        NOT NULL,
    monthly_image_limit integer     NOT NULL,
    price_cents         integer     NOT NULL DEFAULT 0,
    is_active           boolean     NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT plans_code_key UNIQUE (code),
    CONSTRAINT plans_code_format CHECK (code ~ '^[a-z][a-z0-9_]*$'),
    CONSTRAINT plans_name_not_blank CHECK (btrim(name) <> ''),
    CONSTRAINT plans_monthly_image_limit_nonnegative CHECK (monthly_image_limit >= 0),
    CONSTRAINT plans_price_cents_nonnegative CHECK (price_cents >= 0)
);

CREATE TRIGGER plans_set_updated_at
    BEFORE UPDATE ON plans
    FOR EACH ROW
    WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION set_updated_at();

COMMIT;
