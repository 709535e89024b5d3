-- PostgreSQL cannot drop a value from an enum: the type is made again without them.
UPDATE posts SET status = 'draft' WHERE status::text IN ('archived', 'hidden');

ALTER TYPE post_status RENAME TO post_status_old;
CREATE TYPE post_status AS ENUM ('draft', 'published');

ALTER TABLE posts ALTER COLUMN status DROP DEFAULT;
ALTER TABLE posts ALTER COLUMN status TYPE post_status USING status::text::post_status;
ALTER TABLE posts ALTER COLUMN status SET DEFAULT 'draft';

DROP TYPE post_status_old;
