-- Dropped by the names PostgreSQL gave them.
ALTER TABLE posts DROP CONSTRAINT posts_editor_id_fkey;
ALTER TABLE users DROP CONSTRAINT users_handle_key;
