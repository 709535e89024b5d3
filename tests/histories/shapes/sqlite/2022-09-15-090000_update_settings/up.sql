UPDATE settings SET value = '20' WHERE key = 'posts_per_page';

INSERT INTO settings (key, value) VALUES ('theme', 'dark');
