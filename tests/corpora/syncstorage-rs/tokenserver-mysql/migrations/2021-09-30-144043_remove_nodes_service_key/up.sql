ALTER TABLE `nodes` DROP KEY `service`;
