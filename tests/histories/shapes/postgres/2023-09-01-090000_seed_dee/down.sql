DELETE FROM posts WHERE slug = 'dee-intro';
DELETE FROM users WHERE email = 'dee@example.com';

REFRESH MATERIALIZED VIEW post_stats;
