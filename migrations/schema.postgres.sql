-- pelican schema snapshot
-- backend: postgres
-- head: 20240320110000 2024-03-20-110000_rename_leccion_contenido
-- migrations: 12
-- digest: 6e37f7fa8ff524b6edff538964bbb2edff458ff58cbb7fa15c3852600fab6a60
--
-- The schema and rows that the migrations up to head build, in one go: written
-- by `pelican snapshot`, loaded by `pelican init` (and `Boot`) for a fresh
-- database, proven equal to the migrations by `pelican check`. Do not edit:
-- write it again after adding a migration. diesel ignores this file.

-- Settings for the load
SET check_function_bodies = false;

-- Tables, and what they need first
CREATE TABLE anuncio (
    id integer NOT NULL,
    curso_id integer NOT NULL,
    texto character varying(1000) NOT NULL,
    publicado_en timestamp without time zone,
    CONSTRAINT anuncio_pkey PRIMARY KEY (id)
);
CREATE TABLE configuracion (
    clave character varying(100) NOT NULL,
    valor character varying(500) NOT NULL,
    CONSTRAINT configuracion_pkey PRIMARY KEY (clave)
);
CREATE TABLE curso (
    id integer NOT NULL,
    titulo character varying(200) NOT NULL,
    descripcion text,
    instructor_id integer NOT NULL,
    publicado boolean DEFAULT false NOT NULL,
    created_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    precio numeric(10,2) DEFAULT 0 NOT NULL,
    CONSTRAINT curso_pkey PRIMARY KEY (id)
);
CREATE TABLE inscripcion (
    id integer NOT NULL,
    usuario_id integer NOT NULL,
    curso_id integer NOT NULL,
    fecha timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    progreso integer DEFAULT 0 NOT NULL,
    CONSTRAINT inscripcion_pkey PRIMARY KEY (id),
    CONSTRAINT uq_inscripcion_usuario_curso UNIQUE (usuario_id, curso_id)
);
CREATE TABLE leccion (
    id integer NOT NULL,
    curso_id integer NOT NULL,
    titulo character varying(200) NOT NULL,
    cuerpo text,
    orden integer NOT NULL,
    publicada_en timestamp without time zone,
    CONSTRAINT leccion_pkey PRIMARY KEY (id)
);
CREATE TABLE usuario (
    id integer NOT NULL,
    email character varying(255) NOT NULL,
    nombre character varying(100) NOT NULL,
    created_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    telefono character varying(20),
    CONSTRAINT usuario_pkey PRIMARY KEY (id)
);

-- Rows the migrations insert
INSERT INTO "configuracion" (clave, valor) VALUES
    ('curso.max_alumnos', '100'),
    ('inscripcion.abierta', 'true'),
    ('sitio.idioma', 'es'),
    ('sitio.nombre', 'Pelican LMS');

-- What goes in after the rows
CREATE INDEX ix_anuncio_curso_fecha ON anuncio USING btree (curso_id, publicado_en);
CREATE INDEX ix_curso_titulo ON curso USING btree (titulo);
CREATE UNIQUE INDEX ux_leccion_curso_orden ON leccion USING btree (curso_id, orden);
CREATE UNIQUE INDEX ux_usuario_email ON usuario USING btree (email);
ALTER TABLE anuncio ADD CONSTRAINT anuncio_curso_id_fkey FOREIGN KEY (curso_id) REFERENCES curso(id);
ALTER TABLE curso ADD CONSTRAINT curso_instructor_id_fkey FOREIGN KEY (instructor_id) REFERENCES usuario(id);
ALTER TABLE inscripcion ADD CONSTRAINT inscripcion_curso_id_fkey FOREIGN KEY (curso_id) REFERENCES curso(id);
ALTER TABLE inscripcion ADD CONSTRAINT inscripcion_usuario_id_fkey FOREIGN KEY (usuario_id) REFERENCES usuario(id);
ALTER TABLE leccion ADD CONSTRAINT leccion_curso_id_fkey FOREIGN KEY (curso_id) REFERENCES curso(id);
CREATE VIEW v_inscripciones AS SELECT i.id AS inscripcion_id,
    u.id AS usuario_id,
    u.nombre AS usuario_nombre,
    u.email AS usuario_email,
    c.id AS curso_id,
    c.titulo AS curso_titulo,
    i.fecha
   FROM ((inscripcion i
     JOIN usuario u ON ((u.id = i.usuario_id)))
     JOIN curso c ON ((c.id = i.curso_id)));

-- Settings back
RESET check_function_bodies;
