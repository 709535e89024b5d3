-- Dropping the column takes its unique index `slug`; an index of that name comes
-- back on another column.
ALTER TABLE tags DROP COLUMN slug;

CREATE UNIQUE INDEX slug ON tags (name);
