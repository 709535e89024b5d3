CREATE TABLE users (
    id INTEGER AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    email VARCHAR(190) NOT NULL UNIQUE,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
);

INSERT INTO users (name, email, created_at, updated_at) VALUES
    ('ada', 'ada@example.com', '2021-03-01 09:00:00', '2021-03-01 09:00:00'),
    ('bob', 'bob@example.com', '2021-03-01 09:05:00', '2021-03-01 09:05:00'),
    ('cy', 'cy@example.com', '2021-03-01 09:10:00', '2021-03-01 09:10:00');
