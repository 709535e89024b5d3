ALTER TABLE users CHANGE COLUMN display_name name VARCHAR(100) NOT NULL;

CREATE OR REPLACE VIEW user_post_counts AS
    SELECT u.id AS user_id, u.name AS name, COUNT(p.id) AS published
    FROM users u LEFT JOIN published_posts p ON p.user_id = u.id
    GROUP BY u.id, u.name;

ALTER TABLE settings MODIFY COLUMN value VARCHAR(255) NOT NULL;
