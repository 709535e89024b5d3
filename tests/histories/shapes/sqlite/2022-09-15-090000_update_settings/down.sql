DELETE FROM settings WHERE key = 'theme';

UPDATE settings SET value = '10' WHERE key = 'posts_per_page';
