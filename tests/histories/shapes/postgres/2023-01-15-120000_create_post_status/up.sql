CREATE TYPE post_status AS ENUM ('draft', 'published');

ALTER TABLE posts ADD COLUMN status post_status NOT NULL DEFAULT 'draft';

UPDATE posts SET published = TRUE WHERE title IN ('Hello', 'Bob here');
UPDATE posts SET status = 'published' WHERE published;
