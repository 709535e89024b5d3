DROP INDEX tags_slug_idx;

ALTER TABLE tags ADD COLUMN slug VARCHAR;
UPDATE tags SET slug = lower(name);
ALTER TABLE tags ALTER COLUMN slug SET NOT NULL;

CREATE UNIQUE INDEX tags_slug_idx ON tags (slug);
