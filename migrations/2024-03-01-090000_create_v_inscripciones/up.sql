-- Vista de inscripciones con datos de usuario y curso.
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
