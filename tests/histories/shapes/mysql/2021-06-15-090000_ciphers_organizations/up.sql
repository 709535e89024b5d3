-- The rebuild: the old table is renamed away (its foreign key becomes
-- oldCiphers_ibfk_1), the new one made, the rows copied, the old one dropped.
ALTER TABLE ciphers RENAME TO oldCiphers;

CREATE TABLE ciphers (
    uuid CHAR(36) NOT NULL PRIMARY KEY,
    user_id INTEGER,
    organization_id INTEGER,
    type INTEGER NOT NULL DEFAULT 1,
    name TEXT NOT NULL,
    notes TEXT,
    data TEXT NOT NULL,
    favorite BOOLEAN NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    FOREIGN KEY (user_id) REFERENCES users (id)
);

INSERT INTO ciphers (uuid, user_id, name, data, favorite, created_at, updated_at)
    SELECT uuid, user_id, name, data, favorite, created_at, created_at FROM oldCiphers;

DROP TABLE oldCiphers;
