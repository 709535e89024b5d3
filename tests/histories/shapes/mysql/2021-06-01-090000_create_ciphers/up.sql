CREATE TABLE ciphers (
    uuid CHAR(36) NOT NULL PRIMARY KEY,
    user_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL,
    favorite BOOLEAN NOT NULL,
    created_at DATETIME NOT NULL,
    FOREIGN KEY (user_id) REFERENCES users (id)
);

INSERT INTO ciphers (uuid, user_id, name, data, favorite, created_at) VALUES
    ('5f0e3a6c-0d7b-4f43-9b52-3c1d7e1f0a01', 1, 'github', '{"login":"ada"}', TRUE, '2021-06-01 09:00:00'),
    ('5f0e3a6c-0d7b-4f43-9b52-3c1d7e1f0a02', 1, 'mail', '{"login":"ada@example.com"}', FALSE, '2021-06-01 09:01:00'),
    ('5f0e3a6c-0d7b-4f43-9b52-3c1d7e1f0a03', 2, 'bank', '{"pin":"1234"}', FALSE, '2021-06-01 09:02:00');
