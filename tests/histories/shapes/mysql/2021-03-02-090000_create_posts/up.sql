-- The foreign keys are named by the server: posts_ibfk_1 and posts_ibfk_2.
CREATE TABLE posts (
    id INTEGER AUTO_INCREMENT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    editor_id INTEGER,
    title VARCHAR(200) NOT NULL,
    body TEXT NOT NULL,
    published BOOLEAN NOT NULL DEFAULT FALSE,
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    FOREIGN KEY (editor_id) REFERENCES users (id)
);

INSERT INTO posts (user_id, editor_id, title, body, published) VALUES
    (1, 2, 'Hello', 'first post', TRUE),
    (1, NULL, 'Again', 'second post', FALSE),
    (2, NULL, 'Bob here', 'hi', TRUE);
