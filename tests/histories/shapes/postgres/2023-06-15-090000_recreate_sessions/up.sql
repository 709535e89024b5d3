-- The table goes with its trigger; both come back under the same names.
DROP TABLE sessions;

CREATE TABLE sessions (
    id BIGSERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT '2023-06-15 09:00:00'
);

SELECT diesel_manage_updated_at('sessions');

INSERT INTO sessions (user_id, token, expires_at) VALUES (1, 't3', '2030-01-01 00:00:00');
