BEGIN;

-- Images staged per user per billing period, bumped with
-- INSERT ... ON CONFLICT (user_id, period_start) DO UPDATE so concurrent jobs never lose a count.
CREATE TABLE usage_counters (
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    period_start  date        NOT NULL,
    images_staged integer     NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, period_start),
    CONSTRAINT usage_counters_images_staged_nonnegative CHECK (images_staged >= 0)
);

CREATE TRIGGER usage_counters_set_updated_at
    BEFORE UPDATE ON usage_counters
    FOR EACH ROW
    WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION set_updated_at();

COMMIT;
