DROP VIEW user_post_counts;
DROP VIEW published_posts;
