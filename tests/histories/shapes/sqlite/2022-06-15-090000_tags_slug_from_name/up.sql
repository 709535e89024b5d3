DROP INDEX tags_slug_idx;

ALTER TABLE tags DROP COLUMN slug;

-- The same name, now on an expression.
CREATE UNIQUE INDEX tags_slug_idx ON tags (lower(name));
