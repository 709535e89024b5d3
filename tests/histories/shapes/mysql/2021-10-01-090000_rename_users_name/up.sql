ALTER TABLE settings MODIFY COLUMN value TEXT NOT NULL;

ALTER TABLE users CHANGE COLUMN name display_name VARCHAR(150) NOT NULL;

CREATE OR REPLACE VIEW user_post_counts AS
    SELECT u.id AS user_id, u.display_name AS name, COUNT(p.id) AS published
    FROM users u LEFT JOIN published_posts p ON p.user_id = u.id
    GROUP BY u.id, u.display_name;
