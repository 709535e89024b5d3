alter table `batches` change column `userid` `userid` bigint(20) not null;
alter table `bso` change column `userid` `userid` bigint(20) not null;
alter table `user_collections` change column `userid` `userid` bigint(20) not null;
