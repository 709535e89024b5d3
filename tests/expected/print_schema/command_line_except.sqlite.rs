// @generated automatically by Diesel CLI.

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "Audit Log"]
    Audit_Log (rowid) {
        rowid -> Integer,
        happened_at -> Timestamp,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    comments (id) {
        id -> Nullable<Integer>,
        post_id -> Integer,
        #[sql_name = "table"]
        table_ -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    counters (id) {
        id -> Integer,
        n -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    links (id) {
        id -> Nullable<Integer>,
        user_id -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    settings (key) {
        key -> Text,
        value -> Nullable<Text>,
    }
}
