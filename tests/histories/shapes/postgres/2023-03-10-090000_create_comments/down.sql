DROP TABLE comments;

DROP FUNCTION count_comment();

ALTER TABLE posts DROP COLUMN comment_count;
