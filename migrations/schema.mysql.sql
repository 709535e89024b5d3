-- pelican schema snapshot
-- backend: mysql
-- head: 20240320110000 2024-03-20-110000_rename_leccion_contenido
-- migrations: 12
-- digest: 6e37f7fa8ff524b6edff538964bbb2edff458ff58cbb7fa15c3852600fab6a60
--
-- The schema and rows that the migrations up to head build, in one go: written
-- by `pelican snapshot`, loaded by `pelican init` (and `Boot`) for a fresh
-- database, proven equal to the migrations by `pelican check`. Do not edit:
-- write it again after adding a migration. diesel ignores this file.

-- Settings for the load
SET @pelican_foreign_key_checks = @@foreign_key_checks;
SET foreign_key_checks = 0;

-- Tables, and what they need first
CREATE TABLE `anuncio` (
  `id` int(11) NOT NULL,
  `curso_id` int(11) NOT NULL,
  `texto` varchar(1000) NOT NULL,
  `publicado_en` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `ix_anuncio_curso_fecha` (`curso_id`,`publicado_en`),
  CONSTRAINT `anuncio_ibfk_1` FOREIGN KEY (`curso_id`) REFERENCES `curso` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `configuracion` (
  `clave` varchar(100) NOT NULL,
  `valor` varchar(500) NOT NULL,
  PRIMARY KEY (`clave`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `curso` (
  `id` int(11) NOT NULL,
  `titulo` varchar(200) NOT NULL,
  `descripcion` text DEFAULT NULL,
  `instructor_id` int(11) NOT NULL,
  `publicado` tinyint(1) NOT NULL DEFAULT 0,
  `created_at` timestamp NOT NULL DEFAULT current_timestamp(),
  `precio` decimal(10,2) NOT NULL DEFAULT 0.00,
  PRIMARY KEY (`id`),
  KEY `instructor_id` (`instructor_id`),
  KEY `ix_curso_titulo` (`titulo`),
  CONSTRAINT `curso_ibfk_1` FOREIGN KEY (`instructor_id`) REFERENCES `usuario` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `inscripcion` (
  `id` int(11) NOT NULL,
  `usuario_id` int(11) NOT NULL,
  `curso_id` int(11) NOT NULL,
  `fecha` timestamp NOT NULL DEFAULT current_timestamp(),
  `progreso` int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_inscripcion_usuario_curso` (`usuario_id`,`curso_id`),
  KEY `curso_id` (`curso_id`),
  CONSTRAINT `inscripcion_ibfk_1` FOREIGN KEY (`usuario_id`) REFERENCES `usuario` (`id`),
  CONSTRAINT `inscripcion_ibfk_2` FOREIGN KEY (`curso_id`) REFERENCES `curso` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `leccion` (
  `id` int(11) NOT NULL,
  `curso_id` int(11) NOT NULL,
  `titulo` varchar(200) NOT NULL,
  `cuerpo` text DEFAULT NULL,
  `orden` int(11) NOT NULL,
  `publicada_en` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_leccion_curso_orden` (`curso_id`,`orden`),
  CONSTRAINT `leccion_ibfk_1` FOREIGN KEY (`curso_id`) REFERENCES `curso` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `usuario` (
  `id` int(11) NOT NULL,
  `email` varchar(255) NOT NULL,
  `nombre` varchar(100) NOT NULL,
  `created_at` timestamp NOT NULL DEFAULT current_timestamp(),
  `telefono` varchar(20) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_usuario_email` (`email`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- Rows the migrations insert
INSERT INTO `configuracion` (`clave`, `valor`) VALUES
    ('curso.max_alumnos', '100'),
    ('inscripcion.abierta', 'true'),
    ('sitio.idioma', 'es'),
    ('sitio.nombre', 'Pelican LMS');

-- What goes in after the rows
CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v_inscripciones` AS select `i`.`id` AS `inscripcion_id`,`u`.`id` AS `usuario_id`,`u`.`nombre` AS `usuario_nombre`,`u`.`email` AS `usuario_email`,`c`.`id` AS `curso_id`,`c`.`titulo` AS `curso_titulo`,`i`.`fecha` AS `fecha` from ((`inscripcion` `i` join `usuario` `u` on(`u`.`id` = `i`.`usuario_id`)) join `curso` `c` on(`c`.`id` = `i`.`curso_id`));

-- Settings back
SET foreign_key_checks = @pelican_foreign_key_checks;
