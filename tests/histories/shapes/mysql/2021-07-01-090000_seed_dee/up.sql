INSERT INTO users (name, email, created_at, updated_at)
    VALUES ('dee', 'dee@example.com', '2021-07-01 09:00:00', '2021-07-01 09:00:00');

INSERT INTO posts (user_id, headline, body, published)
    SELECT id, 'Dee intro', 'hello', TRUE FROM users WHERE email = 'dee@example.com';

UPDATE posts SET published = TRUE WHERE headline = 'Again';

UPDATE users SET name = CONCAT(UPPER(LEFT(name, 1)), SUBSTRING(name, 2));
