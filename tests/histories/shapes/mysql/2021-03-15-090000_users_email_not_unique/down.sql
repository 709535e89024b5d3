DROP INDEX users_email_idx ON users;

ALTER TABLE users ADD UNIQUE (email);
