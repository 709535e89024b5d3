DROP INDEX tags_slug_idx;

ALTER TABLE tags ADD COLUMN slug TEXT NOT NULL DEFAULT '';

UPDATE tags SET slug = lower(name);

CREATE UNIQUE INDEX tags_slug_idx ON tags (slug);
