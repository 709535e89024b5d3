CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

INSERT INTO settings (key, value) VALUES ('site_name', 'Pelican Blog'), ('posts_per_page', '10');
