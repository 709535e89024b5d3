// @generated automatically by Diesel CLI.

diesel::table! {
    anuncio (id) {
        id -> Nullable<Integer>,
        curso_id -> Integer,
        texto -> Text,
        publicado_en -> Nullable<Timestamp>,
    }
}

diesel::table! {
    configuracion (clave) {
        clave -> Text,
        valor -> Text,
    }
}

diesel::table! {
    curso (id) {
        id -> Nullable<Integer>,
        titulo -> Text,
        descripcion -> Nullable<Text>,
        instructor_id -> Integer,
        publicado -> Bool,
        created_at -> Timestamp,
        precio -> Double,
    }
}

diesel::table! {
    inscripcion (id) {
        id -> Nullable<Integer>,
        usuario_id -> Integer,
        curso_id -> Integer,
        fecha -> Timestamp,
        progreso -> Integer,
    }
}

diesel::table! {
    leccion (id) {
        id -> Nullable<Integer>,
        curso_id -> Integer,
        titulo -> Text,
        cuerpo -> Nullable<Text>,
        orden -> Integer,
        publicada_en -> Nullable<Timestamp>,
    }
}

diesel::table! {
    usuario (id) {
        id -> Nullable<Integer>,
        email -> Text,
        nombre -> Text,
        created_at -> Timestamp,
        telefono -> Nullable<Text>,
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
