-- The trigger names the column: it goes first, and comes back without it.
DROP TRIGGER posts_touch;

ALTER TABLE posts DROP COLUMN body;

CREATE TRIGGER posts_touch AFTER UPDATE OF title, published ON posts
BEGIN
    UPDATE posts SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;
