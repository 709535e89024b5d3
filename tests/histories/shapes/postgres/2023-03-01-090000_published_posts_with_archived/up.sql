-- CREATE OR REPLACE VIEW cannot add a column in the middle: the view goes, and with
-- it everything built on it (user_post_counts, and post_stats over that).
DROP VIEW published_posts CASCADE;

CREATE VIEW published_posts AS
    SELECT id, user_id, title, status, created_at FROM posts
    WHERE status IN ('published', 'archived');

CREATE VIEW user_post_counts AS
    SELECT u.id AS user_id, u.name, COUNT(p.id) AS published
    FROM users u LEFT JOIN published_posts p ON p.user_id = u.id
    GROUP BY u.id, u.name;

CREATE MATERIALIZED VIEW post_stats AS
    SELECT user_id, name, published FROM user_post_counts;

CREATE UNIQUE INDEX post_stats_user_id_idx ON post_stats (user_id);
