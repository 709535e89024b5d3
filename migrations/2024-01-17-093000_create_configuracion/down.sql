-- Revierte create_configuracion.
DROP TABLE configuracion;
