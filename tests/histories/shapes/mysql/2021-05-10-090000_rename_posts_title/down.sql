ALTER TABLE posts CHANGE COLUMN headline title VARCHAR(200) NOT NULL;

CREATE OR REPLACE VIEW published_posts AS
    SELECT id, user_id, title FROM posts WHERE published;
