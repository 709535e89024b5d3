-- Revierte create_inscripcion.
DROP TABLE inscripcion;
