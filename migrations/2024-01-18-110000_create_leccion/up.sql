-- Lecciones de un curso, ordenadas. El orden es unico dentro de cada curso.
-- El indice unico se crea junto con la tabla, asi el DROP TABLE del down lo elimina.
CREATE TABLE leccion (
    id INTEGER PRIMARY KEY,
    curso_id INTEGER NOT NULL,
    titulo VARCHAR(200) NOT NULL,
    contenido TEXT NULL,
    orden INTEGER NOT NULL,
    publicada_en TIMESTAMP NULL,
    FOREIGN KEY (curso_id) REFERENCES curso (id)
);
CREATE UNIQUE INDEX ux_leccion_curso_orden ON leccion (curso_id, orden);
