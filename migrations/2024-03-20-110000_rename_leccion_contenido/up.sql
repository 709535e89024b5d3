-- Renombra leccion.contenido a cuerpo (columna no indexada ni usada en vistas).
-- La existencia no dice si un renombre ya corrió: la directiva lo decide.
-- pelican: skip-if column leccion.cuerpo
ALTER TABLE leccion RENAME COLUMN contenido TO cuerpo;
