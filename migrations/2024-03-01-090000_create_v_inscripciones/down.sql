-- Revierte create_v_inscripciones.
DROP VIEW v_inscripciones;
