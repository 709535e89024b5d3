-- Columna con valor por defecto: porcentaje de avance de la inscripcion.
ALTER TABLE inscripcion ADD COLUMN progreso INTEGER NOT NULL DEFAULT 0;
