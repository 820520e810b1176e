BEGIN;

-- Plain INSERT, no ON CONFLICT: if these codes already exist, the down file
-- could not tell seeded rows from hand-made ones, so fail instead.
INSERT INTO plans (code, name, monthly_image_limit, price_cents) VALUES
    ('free', 'Free', 10, 0),
    ('pro', 'Pro', 100, 2900),
    ('business', 'Business', 500, 9900);

COMMIT;
