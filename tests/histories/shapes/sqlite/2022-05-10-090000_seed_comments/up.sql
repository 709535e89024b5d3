INSERT INTO comments (post_id, user_id, body) VALUES (3, 2, 'thanks'), (1, 1, 'reply');
DELETE FROM comments WHERE body = 'anonymous';
