PRAGMA foreign_keys = OFF;

DROP VIEW user_post_counts;

CREATE TABLE users_old (
    id INTEGER PRIMARY KEY NOT NULL,
    display_name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

INSERT INTO users_old (id, display_name, email, created_at)
    SELECT id, display_name, email, created_at FROM users;

DROP TABLE users;

ALTER TABLE users_old RENAME TO users;

CREATE VIEW user_post_counts AS
    SELECT u.id AS user_id, u.display_name AS name, COUNT(p.id) AS published
    FROM users u LEFT JOIN published_posts p ON p.user_id = u.id
    GROUP BY u.id, u.display_name;

PRAGMA foreign_keys = ON;
