BEGIN;

-- An original photo in object storage. Rows are written once, so no updated_at.
CREATE TABLE uploaded_images (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id   uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    storage_key  text        NOT NULL,
    content_type text        NOT NULL,
    byte_size    bigint      NOT NULL,
    width        integer     NOT NULL,
    height       integer     NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uploaded_images_storage_key_key UNIQUE (storage_key),
    CONSTRAINT uploaded_images_content_type_check
        CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    CONSTRAINT uploaded_images_byte_size_positive CHECK (byte_size > 0),
    CONSTRAINT uploaded_images_dimensions_positive CHECK (width > 0 AND height > 0)
);

CREATE INDEX uploaded_images_project_id_idx ON uploaded_images (project_id);

COMMIT;
