ALTER TABLE `users` ADD KEY `nodeid` (`nodeid`);
