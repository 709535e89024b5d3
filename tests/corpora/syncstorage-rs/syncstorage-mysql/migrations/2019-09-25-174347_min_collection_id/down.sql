DELETE FROM collections
      WHERE name = ""
