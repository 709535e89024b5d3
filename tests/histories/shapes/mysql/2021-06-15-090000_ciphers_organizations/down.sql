ALTER TABLE ciphers RENAME TO oldCiphers;

CREATE TABLE ciphers (
    uuid CHAR(36) NOT NULL PRIMARY KEY,
    user_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL,
    favorite BOOLEAN NOT NULL,
    created_at DATETIME NOT NULL,
    FOREIGN KEY (user_id) REFERENCES users (id)
);

INSERT INTO ciphers (uuid, user_id, name, data, favorite, created_at)
    SELECT uuid, user_id, name, data, favorite, created_at FROM oldCiphers;

DROP TABLE oldCiphers;
