UPDATE posts SET published = 0 WHERE title = 'Again';
