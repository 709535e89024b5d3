ALTER TABLE posts ADD COLUMN score INTEGER NOT NULL DEFAULT 0;

-- A function and a procedure of one name: MySQL keeps them apart.
CREATE FUNCTION post_score(p_id INTEGER) RETURNS INTEGER
    READS SQL DATA
BEGIN
    DECLARE n INTEGER;
    SELECT comment_count * 10 + IF(published, 5, 0) INTO n FROM posts WHERE id = p_id;
    RETURN n;
END;

CREATE PROCEDURE post_score(IN p_id INTEGER)
    MODIFIES SQL DATA
BEGIN
    UPDATE posts SET score = post_score(p_id) WHERE id = p_id;
END;

CALL post_score(1);
CALL post_score(3);
