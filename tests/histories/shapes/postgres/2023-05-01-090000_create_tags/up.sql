CREATE TABLE tags (
    id SERIAL PRIMARY KEY,
    name VARCHAR NOT NULL,
    slug VARCHAR NOT NULL
);

CREATE UNIQUE INDEX tags_slug_idx ON tags (slug);

CREATE TABLE post_tags (
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (post_id, tag_id)
);

INSERT INTO tags (name, slug) VALUES ('Rust', 'rust'), ('Diesel', 'diesel'), ('PostgreSQL', 'postgresql');
INSERT INTO post_tags (post_id, tag_id) VALUES (1, 1), (1, 2), (3, 3);
