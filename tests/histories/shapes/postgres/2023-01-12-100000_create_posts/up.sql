CREATE TABLE posts (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title VARCHAR NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    published BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP NOT NULL DEFAULT NOW()
);

-- A second trigger named set_updated_at, on another table.
SELECT diesel_manage_updated_at('posts');

CREATE INDEX posts_user_id_idx ON posts (user_id);

INSERT INTO posts (user_id, title, body) VALUES
    (1, 'Hello', 'first post'),
    (1, 'Again', 'second post'),
    (2, 'Bob here', 'hi');
