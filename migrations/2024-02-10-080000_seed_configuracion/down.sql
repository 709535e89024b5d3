-- Revierte seed_configuracion: borra exactamente las filas insertadas.
DELETE FROM configuracion WHERE clave IN (
    'sitio.nombre',
    'sitio.idioma',
    'inscripcion.abierta',
    'curso.max_alumnos'
);
