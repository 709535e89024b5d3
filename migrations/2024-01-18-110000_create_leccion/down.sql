-- Revierte create_leccion (ux_leccion_curso_orden cae con la tabla).
DROP TABLE leccion;
