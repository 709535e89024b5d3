-- Migracion de datos: valores por defecto de configuracion.
INSERT INTO configuracion (clave, valor) VALUES
    ('sitio.nombre', 'Pelican LMS'),
    ('sitio.idioma', 'es'),
    ('inscripcion.abierta', 'true'),
    ('curso.max_alumnos', '100');
