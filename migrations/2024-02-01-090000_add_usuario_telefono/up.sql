-- Columna agregada despues: telefono opcional del usuario.
ALTER TABLE usuario ADD COLUMN telefono VARCHAR(20) NULL;
