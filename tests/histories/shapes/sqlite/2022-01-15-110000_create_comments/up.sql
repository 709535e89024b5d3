CREATE TABLE comments (
    id INTEGER PRIMARY KEY NOT NULL,
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    body TEXT NOT NULL
);

CREATE INDEX comments_post_id_idx ON comments (post_id);

INSERT INTO comments (post_id, user_id, body) VALUES
    (1, 2, 'nice'),
    (1, 3, 'agreed'),
    (3, 1, 'welcome'),
    (2, NULL, 'anonymous');
