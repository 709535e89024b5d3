-- Revierte add_curso_precio.
ALTER TABLE curso DROP COLUMN precio;
