INSERT INTO comments (post_id, user_id, body) VALUES (2, NULL, 'anonymous');
DELETE FROM comments WHERE body IN ('thanks', 'reply');
