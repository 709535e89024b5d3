// @generated automatically by Diesel CLI.

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "Audit Log"]
    Audit_Log (id) {
        id -> Int8,
        happened_at -> Timestamp,
        ip -> Nullable<Inet>,
        raw -> Nullable<Bytea>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    comments (id) {
        id -> Int4,
        post_id -> Int4,
        #[sql_name = "table"]
        table_ -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    links (id) {
        id -> Int4,
        user_id -> Int4,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    settings (key) {
        key -> Text,
        value -> Nullable<Text>,
    }
}
