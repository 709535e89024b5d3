-- Cursos, cada uno con un instructor (usuario).
-- El indice ix_curso_titulo vive en la misma migracion que la tabla,
-- asi el down.sql (DROP TABLE) lo elimina en los tres motores.
CREATE TABLE curso (
    id INTEGER PRIMARY KEY,
    titulo VARCHAR(200) NOT NULL,
    descripcion TEXT NULL,
    instructor_id INTEGER NOT NULL,
    publicado BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    FOREIGN KEY (instructor_id) REFERENCES usuario (id)
);
CREATE INDEX ix_curso_titulo ON curso (titulo);
