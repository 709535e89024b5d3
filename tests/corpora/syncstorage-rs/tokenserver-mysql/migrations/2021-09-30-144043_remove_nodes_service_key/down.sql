ALTER TABLE `nodes` ADD KEY `service` (`service`);
