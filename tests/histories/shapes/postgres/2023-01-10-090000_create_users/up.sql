CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    name VARCHAR NOT NULL,
    email VARCHAR NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP NOT NULL DEFAULT NOW()
);

SELECT diesel_manage_updated_at('users');

INSERT INTO users (name, email, created_at, updated_at) VALUES
    ('ada', 'ada@example.com', '2023-01-10 09:00:00', '2023-01-10 09:00:00'),
    ('bob', 'bob@example.com', '2023-01-10 09:05:00', '2023-01-10 09:05:00'),
    ('cy', 'cy@example.com', '2023-01-10 09:10:00', '2023-01-10 09:10:00');
