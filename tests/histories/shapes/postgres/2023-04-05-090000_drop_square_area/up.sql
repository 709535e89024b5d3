DROP FUNCTION area(INTEGER);

UPDATE plots SET size = area(width, height);
