ALTER TABLE posts ADD COLUMN updated_at TIMESTAMP;

UPDATE posts SET updated_at = '2022-02-01 09:00:00';

CREATE TRIGGER posts_touch AFTER UPDATE OF title, body, published ON posts
BEGIN
    UPDATE posts SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;
