-- Renombra leccion.contenido a cuerpo (columna no indexada ni usada en vistas).
ALTER TABLE leccion RENAME COLUMN contenido TO cuerpo;
