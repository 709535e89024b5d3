-- pelican schema snapshot
-- backend: sqlite
-- head: 20240320110000 2024-03-20-110000_rename_leccion_contenido
-- migrations: 12
-- digest: 6e37f7fa8ff524b6edff538964bbb2edff458ff58cbb7fa15c3852600fab6a60
--
-- The schema and rows that the migrations up to head build, in one go: written
-- by `pelican snapshot`, loaded by `pelican init` (and `Boot`) for a fresh
-- database, proven equal to the migrations by `pelican check`. Do not edit:
-- write it again after adding a migration. diesel ignores this file.

-- Settings for the load
PRAGMA defer_foreign_keys = ON;

-- Tables, and what they need first
CREATE TABLE usuario (
    id INTEGER PRIMARY KEY,
    email VARCHAR(255) NOT NULL,
    nombre VARCHAR(100) NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
, telefono VARCHAR(20) NULL);
CREATE TABLE curso (
    id INTEGER PRIMARY KEY,
    titulo VARCHAR(200) NOT NULL,
    descripcion TEXT NULL,
    instructor_id INTEGER NOT NULL,
    publicado BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, precio DECIMAL(10,2) NOT NULL DEFAULT 0,
    FOREIGN KEY (instructor_id) REFERENCES usuario (id)
);
CREATE TABLE inscripcion (
    id INTEGER PRIMARY KEY,
    usuario_id INTEGER NOT NULL,
    curso_id INTEGER NOT NULL,
    fecha TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, progreso INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT uq_inscripcion_usuario_curso UNIQUE (usuario_id, curso_id),
    FOREIGN KEY (usuario_id) REFERENCES usuario (id),
    FOREIGN KEY (curso_id) REFERENCES curso (id)
);
CREATE TABLE configuracion (
    clave VARCHAR(100) NOT NULL PRIMARY KEY,
    valor VARCHAR(500) NOT NULL
);
CREATE TABLE leccion (
    id INTEGER PRIMARY KEY,
    curso_id INTEGER NOT NULL,
    titulo VARCHAR(200) NOT NULL,
    cuerpo TEXT NULL,
    orden INTEGER NOT NULL,
    publicada_en TIMESTAMP NULL,
    FOREIGN KEY (curso_id) REFERENCES curso (id)
);
CREATE TABLE anuncio (
    id INTEGER PRIMARY KEY,
    curso_id INTEGER NOT NULL,
    texto VARCHAR(1000) NOT NULL,
    publicado_en TIMESTAMP NULL,
    FOREIGN KEY (curso_id) REFERENCES curso (id)
);

-- Rows the migrations insert
INSERT INTO "configuracion" ("clave", "valor") VALUES
    ('sitio.nombre', 'Pelican LMS'),
    ('sitio.idioma', 'es'),
    ('inscripcion.abierta', 'true'),
    ('curso.max_alumnos', '100');

-- What goes in after the rows
CREATE UNIQUE INDEX ux_usuario_email ON usuario (email);
CREATE INDEX ix_curso_titulo ON curso (titulo);
CREATE UNIQUE INDEX ux_leccion_curso_orden ON leccion (curso_id, orden);
CREATE INDEX ix_anuncio_curso_fecha ON anuncio (curso_id, publicado_en);
CREATE VIEW v_inscripciones AS
SELECT i.id AS inscripcion_id,
       u.id AS usuario_id,
       u.nombre AS usuario_nombre,
       u.email AS usuario_email,
       c.id AS curso_id,
       c.titulo AS curso_titulo,
       i.fecha AS fecha
FROM inscripcion i
JOIN usuario u ON u.id = i.usuario_id
JOIN curso c ON c.id = i.curso_id;
