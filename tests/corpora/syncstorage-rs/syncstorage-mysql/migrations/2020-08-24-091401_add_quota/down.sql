alter table user_collections drop column total_bytes;
alter table user_collections drop column count;