DROP TABLE post_tags;
DROP TABLE tags;
