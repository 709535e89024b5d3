-- Reserve space for additions to the standard collections
INSERT INTO collections (id, name)
     VALUES (100, "")
