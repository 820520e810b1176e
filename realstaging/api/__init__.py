"""The API's own tables, mapped read-write for the admin; the schema lives in infra/migrations."""
