-- Revierte create_curso (el indice ix_curso_titulo cae con la tabla).
DROP TABLE curso;
