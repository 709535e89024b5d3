CREATE TABLE settings (
    name VARCHAR(100) NOT NULL PRIMARY KEY,
    value VARCHAR(255) NOT NULL
);

INSERT INTO settings (name, value) VALUES ('site_name', 'Pelican Blog'), ('posts_per_page', '10');

INSERT INTO settings (name, value) VALUES ('posts_per_page', '20')
    ON DUPLICATE KEY UPDATE value = VALUES(value);
