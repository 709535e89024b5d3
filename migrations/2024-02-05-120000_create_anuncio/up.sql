-- Anuncios de un curso, con su indice por curso y fecha.
CREATE TABLE anuncio (
    id INTEGER PRIMARY KEY,
    curso_id INTEGER NOT NULL,
    texto VARCHAR(1000) NOT NULL,
    publicado_en TIMESTAMP NULL,
    FOREIGN KEY (curso_id) REFERENCES curso (id)
);
CREATE INDEX ix_anuncio_curso_fecha ON anuncio (curso_id, publicado_en);
