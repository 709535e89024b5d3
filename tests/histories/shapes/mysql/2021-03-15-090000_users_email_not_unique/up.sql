-- The inline UNIQUE made an index named after the column.
DROP INDEX email ON users;

CREATE INDEX users_email_idx ON users (email);
