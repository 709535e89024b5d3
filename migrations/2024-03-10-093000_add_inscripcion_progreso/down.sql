-- Revierte add_inscripcion_progreso.
ALTER TABLE inscripcion DROP COLUMN progreso;
