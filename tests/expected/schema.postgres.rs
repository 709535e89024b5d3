// @generated automatically by Diesel CLI.

diesel::table! {
    anuncio (id) {
        id -> Int4,
        curso_id -> Int4,
        #[max_length = 1000]
        texto -> Varchar,
        publicado_en -> Nullable<Timestamp>,
    }
}

diesel::table! {
    configuracion (clave) {
        #[max_length = 100]
        clave -> Varchar,
        #[max_length = 500]
        valor -> Varchar,
    }
}

diesel::table! {
    curso (id) {
        id -> Int4,
        #[max_length = 200]
        titulo -> Varchar,
        descripcion -> Nullable<Text>,
        instructor_id -> Int4,
        publicado -> Bool,
        created_at -> Timestamp,
        precio -> Numeric,
    }
}

diesel::table! {
    inscripcion (id) {
        id -> Int4,
        usuario_id -> Int4,
        curso_id -> Int4,
        fecha -> Timestamp,
        progreso -> Int4,
    }
}

diesel::table! {
    leccion (id) {
        id -> Int4,
        curso_id -> Int4,
        #[max_length = 200]
        titulo -> Varchar,
        cuerpo -> Nullable<Text>,
        orden -> Int4,
        publicada_en -> Nullable<Timestamp>,
    }
}

diesel::table! {
    usuario (id) {
        id -> Int4,
        #[max_length = 255]
        email -> Varchar,
        #[max_length = 100]
        nombre -> Varchar,
        created_at -> Timestamp,
        #[max_length = 20]
        telefono -> Nullable<Varchar>,
    }
}

diesel::joinable!(anuncio -> curso (curso_id));
diesel::joinable!(curso -> usuario (instructor_id));
diesel::joinable!(inscripcion -> curso (curso_id));
diesel::joinable!(inscripcion -> usuario (usuario_id));
diesel::joinable!(leccion -> curso (curso_id));

diesel::allow_tables_to_appear_in_same_query!(
    anuncio,
    configuracion,
    curso,
    inscripcion,
    leccion,
    usuario,
);
