UPDATE posts SET status = 'draft' WHERE status = 'archived';
