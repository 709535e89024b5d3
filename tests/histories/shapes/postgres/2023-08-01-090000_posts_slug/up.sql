ALTER TABLE posts ADD COLUMN slug VARCHAR;

UPDATE posts SET slug = lower(replace(title, ' ', '-')), updated_at = '2023-08-01 09:00:00';

ALTER TABLE posts ALTER COLUMN slug SET NOT NULL;

CREATE UNIQUE INDEX posts_slug_idx ON posts (slug);
