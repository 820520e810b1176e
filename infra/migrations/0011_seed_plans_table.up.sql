-- 0011_seed_plans_table.up.sql
BEGIN;

INSERT INTO plans (code, price_id, monthly_limit) VALUES ('free', 'price_1SKJ8mLkQ5x1VWxdP1dtxKK3', 10), ('pro', 'price_1SK67rLpUWppqPSl2XfvuIlh', 100), ('business', 'price_1SJOMjLkQ5x1VWxdUYOkNqI4', 500);

COMMIT;
