CREATE TABLE posts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    published BOOLEAN NOT NULL DEFAULT 0
);

CREATE INDEX posts_user_id_idx ON posts (user_id);

INSERT INTO posts (user_id, title, body, published) VALUES
    (1, 'Hello', 'first post', 1),
    (1, 'Again', 'second post', 0),
    (2, 'Bob here', 'hi', 1);
