-- Columna con valor por defecto: precio del curso (0 = gratuito).
ALTER TABLE curso ADD COLUMN precio DECIMAL(10,2) NOT NULL DEFAULT 0;
