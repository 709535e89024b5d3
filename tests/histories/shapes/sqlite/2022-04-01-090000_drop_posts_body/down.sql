DROP TRIGGER posts_touch;

ALTER TABLE posts ADD COLUMN body TEXT NOT NULL DEFAULT '';

CREATE TRIGGER posts_touch AFTER UPDATE OF title, body, published ON posts
BEGIN
    UPDATE posts SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;
