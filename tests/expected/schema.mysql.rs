// @generated automatically by Diesel CLI.

diesel::table! {
    anuncio (id) {
        id -> Integer,
        curso_id -> Integer,
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
        id -> Integer,
        #[max_length = 200]
        titulo -> Varchar,
        descripcion -> Nullable<Text>,
        instructor_id -> Integer,
        publicado -> Bool,
        created_at -> Timestamp,
        precio -> Decimal,
    }
}

diesel::table! {
    inscripcion (id) {
        id -> Integer,
        usuario_id -> Integer,
        curso_id -> Integer,
        fecha -> Timestamp,
        progreso -> Integer,
    }
}

diesel::table! {
    leccion (id) {
        id -> Integer,
        curso_id -> Integer,
        #[max_length = 200]
        titulo -> Varchar,
        cuerpo -> Nullable<Text>,
        orden -> Integer,
        publicada_en -> Nullable<Timestamp>,
    }
}

diesel::table! {
    usuario (id) {
        id -> Integer,
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
