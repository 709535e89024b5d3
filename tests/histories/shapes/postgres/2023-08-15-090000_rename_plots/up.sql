ALTER TABLE plots RENAME TO parcels;
ALTER TABLE parcels RENAME COLUMN size TO surface;
