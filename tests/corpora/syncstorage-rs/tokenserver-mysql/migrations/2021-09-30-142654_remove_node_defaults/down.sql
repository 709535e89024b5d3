ALTER TABLE `nodes` ALTER `available` SET DEFAULT 0;
ALTER TABLE `nodes` ALTER `current_load` SET DEFAULT 0;
ALTER TABLE `nodes` ALTER `capacity` SET DEFAULT 0;
ALTER TABLE `nodes` ALTER `downed` SET DEFAULT 0;
ALTER TABLE `nodes` ALTER `backoff` SET DEFAULT 0;
