DROP INDEX taggings_tag_id_idx;

ALTER TABLE taggings RENAME TO post_tags;
