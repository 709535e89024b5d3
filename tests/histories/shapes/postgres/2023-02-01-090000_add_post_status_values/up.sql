-- A new enum value cannot be used in the transaction that adds it, so this
-- migration runs outside one, and the value is used by the next migration.
ALTER TYPE post_status ADD VALUE 'archived';
ALTER TYPE post_status ADD VALUE IF NOT EXISTS 'hidden' BEFORE 'published';
