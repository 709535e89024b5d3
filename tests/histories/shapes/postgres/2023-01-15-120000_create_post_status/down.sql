ALTER TABLE posts DROP COLUMN status;

DROP TYPE post_status;

UPDATE posts SET published = FALSE WHERE title IN ('Hello', 'Bob here');
