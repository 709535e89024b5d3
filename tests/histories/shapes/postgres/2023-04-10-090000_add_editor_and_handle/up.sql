-- Constraints named by PostgreSQL: posts_editor_id_fkey and users_handle_key.
ALTER TABLE posts ADD COLUMN editor_id INTEGER REFERENCES users (id);
ALTER TABLE users ADD COLUMN handle VARCHAR UNIQUE;

UPDATE posts SET editor_id = 2 WHERE title = 'Hello';
UPDATE users SET handle = lower(name), updated_at = '2023-04-10 09:00:00';
