CREATE TABLE sessions (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    token VARCHAR NOT NULL,
    updated_at TIMESTAMP NOT NULL DEFAULT '2023-06-01 09:00:00'
);

SELECT diesel_manage_updated_at('sessions');

INSERT INTO sessions (user_id, token) VALUES (1, 't1'), (2, 't2');
