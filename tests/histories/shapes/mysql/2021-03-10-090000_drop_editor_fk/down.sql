ALTER TABLE posts ADD CONSTRAINT posts_ibfk_2 FOREIGN KEY (editor_id) REFERENCES users (id);
