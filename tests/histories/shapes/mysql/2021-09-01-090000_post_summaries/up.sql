-- A view over two views, one of them itself over a view.
CREATE VIEW post_summaries AS
    SELECT p.id AS id, p.headline AS headline, c.name AS author, p.comment_count AS comment_count
    FROM published_posts pp
    JOIN posts p ON p.id = pp.id
    JOIN user_post_counts c ON c.user_id = p.user_id;
