-- A materialized view over a view over a view.
CREATE MATERIALIZED VIEW post_stats AS
    SELECT user_id, name, published FROM user_post_counts;

CREATE UNIQUE INDEX post_stats_user_id_idx ON post_stats (user_id);
