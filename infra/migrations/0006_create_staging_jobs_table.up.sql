BEGIN;

-- One request to virtually stage one uploaded image.
CREATE TABLE staging_jobs (
    id                 uuid               PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id         uuid               NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    uploaded_image_id  uuid               NOT NULL REFERENCES uploaded_images (id) ON DELETE CASCADE,
    room_type          text               NOT NULL,
    style              text               NOT NULL,
    status             staging_job_status NOT NULL DEFAULT 'queued',
    result_storage_key text,
    error_message      text,
    created_at         timestamptz        NOT NULL DEFAULT now(),
    started_at         timestamptz,
    completed_at       timestamptz,
    CONSTRAINT staging_jobs_room_type_not_blank CHECK (btrim(room_type) <> ''),
    CONSTRAINT staging_jobs_style_not_blank CHECK (btrim(style) <> ''),
    -- A completed job always has something to download; a failed one says why.
    CONSTRAINT staging_jobs_completed_has_result
        CHECK (status <> 'completed' OR result_storage_key IS NOT NULL),
    CONSTRAINT staging_jobs_failed_has_error
        CHECK (status <> 'failed' OR error_message IS NOT NULL),
    CONSTRAINT staging_jobs_completed_after_started
        CHECK (completed_at IS NULL OR started_at IS NULL OR completed_at >= started_at)
);

COMMIT;
