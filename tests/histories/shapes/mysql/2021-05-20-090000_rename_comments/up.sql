-- The triggers move with the table; the server renames comments_ibfk_1 too.
RENAME TABLE comments TO post_comments;
