PRAGMA foreign_keys = OFF;

DROP VIEW user_post_counts;
DROP VIEW published_posts;

CREATE TABLE posts_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    published BOOLEAN NOT NULL DEFAULT 0,
    updated_at TIMESTAMP
);

INSERT INTO posts_old (id, user_id, title, body, published, updated_at)
    SELECT id, user_id, title, body, published, updated_at FROM posts;

DROP TABLE posts;

ALTER TABLE posts_old RENAME TO posts;

CREATE INDEX posts_user_id_idx ON posts (user_id);

CREATE TRIGGER posts_touch AFTER UPDATE OF title, body, published ON posts
BEGIN
    UPDATE posts SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;

CREATE VIEW published_posts AS
    SELECT id, user_id, title, updated_at FROM posts WHERE published;

CREATE VIEW user_post_counts AS
    SELECT u.id AS user_id, u.name AS name, COUNT(p.id) AS published
    FROM users u LEFT JOIN published_posts p ON p.user_id = u.id
    GROUP BY u.id, u.name;

PRAGMA foreign_keys = ON;
