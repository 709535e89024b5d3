INSERT INTO users (name, email, handle, created_at, updated_at)
    VALUES ('dee', 'dee@example.com', 'dee', '2023-09-01 09:00:00', '2023-09-01 09:00:00');

INSERT INTO posts (user_id, title, body, published, status, slug, created_at, updated_at)
    SELECT id, 'Dee intro', 'hello', TRUE, 'published', 'dee-intro', '2023-09-01 09:00:00', '2023-09-01 09:00:00'
    FROM users WHERE email = 'dee@example.com';

REFRESH MATERIALIZED VIEW post_stats;
