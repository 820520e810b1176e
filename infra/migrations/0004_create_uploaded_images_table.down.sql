BEGIN;

DROP INDEX uploaded_images_project_id_idx;
DROP TABLE uploaded_images;

COMMIT;
