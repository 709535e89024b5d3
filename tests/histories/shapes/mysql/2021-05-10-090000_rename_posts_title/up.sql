ALTER TABLE posts CHANGE COLUMN title headline VARCHAR(255) NOT NULL;

-- The view named the old column.
CREATE OR REPLACE VIEW published_posts AS
    SELECT id, user_id, headline FROM posts WHERE published;
