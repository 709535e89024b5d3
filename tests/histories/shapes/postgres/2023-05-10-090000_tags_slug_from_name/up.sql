-- Dropping the column takes its unique index; an index of the same name comes back
-- on an expression.
ALTER TABLE tags DROP COLUMN slug;

CREATE UNIQUE INDEX tags_slug_idx ON tags (lower(name));
