-- Revierte create_usuario.
DROP TABLE usuario;
