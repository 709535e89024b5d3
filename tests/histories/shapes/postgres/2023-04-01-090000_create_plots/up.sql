-- Two functions of one name.
CREATE FUNCTION area(side INTEGER) RETURNS INTEGER
    LANGUAGE sql IMMUTABLE AS $$ SELECT side * side $$;

CREATE FUNCTION area(width INTEGER, height INTEGER) RETURNS INTEGER
    LANGUAGE sql IMMUTABLE AS $$ SELECT width * height $$;

CREATE TABLE plots (
    id SERIAL PRIMARY KEY,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    size INTEGER
);

INSERT INTO plots (width, height) VALUES (2, 3), (4, 4), (5, 1);

UPDATE plots SET size = area(width, height);
UPDATE plots SET size = area(width) WHERE width = height;
