CREATE VIEW published_posts AS
    SELECT id, user_id, title, updated_at FROM posts WHERE published;

-- A view over a view.
CREATE VIEW user_post_counts AS
    SELECT u.id AS user_id, u.name AS name, COUNT(p.id) AS published
    FROM users u LEFT JOIN published_posts p ON p.user_id = u.id
    GROUP BY u.id, u.name;
