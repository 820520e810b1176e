BEGIN;

-- A property listing: the images a user uploads and stages are grouped by project.
CREATE TABLE projects (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        text        NOT NULL,
    address     text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT projects_name_not_blank CHECK (btrim(name) <> '')
);

-- Serves "my projects, newest first" and the foreign key's cascade.
CREATE INDEX projects_user_id_created_at_idx ON projects (user_id, created_at DESC);

COMMIT;
