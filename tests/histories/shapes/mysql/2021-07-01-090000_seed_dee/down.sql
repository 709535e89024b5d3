UPDATE users SET name = LOWER(name);

UPDATE posts SET published = FALSE WHERE headline = 'Again';

DELETE FROM posts WHERE headline = 'Dee intro';
DELETE FROM users WHERE email = 'dee@example.com';
