-- Inscripciones: un usuario en un curso, como mucho una vez por par.
CREATE TABLE inscripcion (
    id INTEGER PRIMARY KEY,
    usuario_id INTEGER NOT NULL,
    curso_id INTEGER NOT NULL,
    fecha TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT uq_inscripcion_usuario_curso UNIQUE (usuario_id, curso_id),
    FOREIGN KEY (usuario_id) REFERENCES usuario (id),
    FOREIGN KEY (curso_id) REFERENCES curso (id)
);
