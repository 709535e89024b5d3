DROP TABLE comments;

ALTER TABLE posts DROP COLUMN comment_count;
