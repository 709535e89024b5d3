// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "mood"))]
    pub struct Mood;

    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "tsvector", schema = "pg_catalog"))]
    pub struct Tsvector;
}

diesel::table! {
    #[sql_name = "Audit Log"]
    Audit_Log (id) {
        id -> Int8,
        happened_at -> Timestamp,
        ip -> Nullable<Inet>,
        raw -> Nullable<Bytea>,
    }
}

diesel::table! {
    comments (id) {
        id -> Int4,
        post_id -> Int4,
        #[sql_name = "table"]
        table_ -> Text,
    }
}

diesel::table! {
    links (id) {
        id -> Int4,
        user_id -> Int4,
    }
}

diesel::table! {
    post_tags (post_id, tag) {
        post_id -> Int4,
        #[max_length = 50]
        tag -> Varchar,
    }
}

diesel::table! {
    posts (id) {
        id -> Int4,
        user_id -> Int4,
        editor_id -> Nullable<Int4>,
        parent_id -> Nullable<Int4>,
        title -> Text,
        body -> Nullable<Text>,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Mood;
    use super::sql_types::Tsvector;

    users (id) {
        id -> Int4,
        #[max_length = 100]
        name -> Varchar,
        mood -> Nullable<Mood>,
        karma -> Int4,
        tags -> Array<Nullable<Text>>,
        nicknames -> Nullable<Array<Nullable<Varchar>>>,
        search -> Nullable<Tsvector>,
        created_at -> Timestamptz,
        #[sql_name = "type"]
        type_ -> Nullable<Text>,
        #[sql_name = "users"]
        users_ -> Nullable<Int4>,
        #[sql_name = "Display Name"]
        Display_Name -> Nullable<Text>,
        #[max_length = 3]
        code -> Nullable<Bpchar>,
        balance -> Nullable<Numeric>,
        data -> Nullable<Jsonb>,
        uid -> Nullable<Uuid>,
    }
}

diesel::joinable!(comments -> posts (post_id));
diesel::joinable!(links -> users (user_id));
diesel::joinable!(post_tags -> posts (post_id));

diesel::allow_tables_to_appear_in_same_query!(
    Audit_Log, comments, links, post_tags, posts, settings, users,
);
