-- Revierte add_usuario_telefono.
ALTER TABLE usuario DROP COLUMN telefono;
