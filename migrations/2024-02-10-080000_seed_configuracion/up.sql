-- Migracion de datos: valores por defecto de configuracion.
-- La guarda explicita (un comentario que diesel ignora) la hace idempotente con pelican.
-- pelican: skip-if sql SELECT COUNT(*) > 0 FROM configuracion WHERE clave = 'sitio.nombre'
INSERT INTO configuracion (clave, valor) VALUES
    ('sitio.nombre', 'Pelican LMS'),
    ('sitio.idioma', 'es'),
    ('inscripcion.abierta', 'true'),
    ('curso.max_alumnos', '100');
