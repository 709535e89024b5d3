UPDATE posts SET published = 1 WHERE title = 'Again';
