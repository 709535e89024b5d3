DROP TRIGGER comments_count_delete;
DROP TRIGGER comments_count_insert;
ALTER TABLE posts DROP COLUMN comment_count;
