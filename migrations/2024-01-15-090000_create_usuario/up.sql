-- Usuarios de la plataforma (alumnos e instructores).
-- El indice unico de email vive con la tabla: el DROP TABLE del down.sql lo
-- elimina en los tres motores (no hay un DROP INDEX que acepten los tres).
CREATE TABLE usuario (
    id INTEGER PRIMARY KEY,
    email VARCHAR(255) NOT NULL,
    nombre VARCHAR(100) NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX ux_usuario_email ON usuario (email);
