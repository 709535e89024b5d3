ALTER TABLE post_tags RENAME TO taggings;

CREATE INDEX taggings_tag_id_idx ON taggings (tag_id);
