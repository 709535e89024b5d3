-- Configuracion clave/valor de la aplicacion.
CREATE TABLE configuracion (
    clave VARCHAR(100) NOT NULL PRIMARY KEY,
    valor VARCHAR(500) NOT NULL
);
