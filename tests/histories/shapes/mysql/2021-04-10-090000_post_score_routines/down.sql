DROP PROCEDURE post_score;
DROP FUNCTION post_score;

ALTER TABLE posts DROP COLUMN score;
