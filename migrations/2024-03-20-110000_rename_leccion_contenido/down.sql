-- Revierte rename_leccion_contenido.
ALTER TABLE leccion RENAME COLUMN cuerpo TO contenido;
