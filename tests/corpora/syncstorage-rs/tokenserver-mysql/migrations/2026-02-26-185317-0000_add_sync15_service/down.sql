DELETE FROM services WHERE service = 'sync-1.5';
