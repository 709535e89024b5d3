ALTER TABLE parcels RENAME COLUMN surface TO size;
ALTER TABLE parcels RENAME TO plots;
