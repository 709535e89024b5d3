-- Revierte create_anuncio (el indice cae con la tabla).
DROP TABLE anuncio;
