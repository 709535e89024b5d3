UPDATE posts SET status = 'archived' WHERE title = 'Again';
