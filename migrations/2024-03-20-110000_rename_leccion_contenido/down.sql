-- Revierte rename_leccion_contenido.
-- pelican: skip-if column leccion.contenido
ALTER TABLE leccion RENAME COLUMN cuerpo TO contenido;
