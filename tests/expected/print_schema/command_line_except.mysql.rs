// @generated automatically by Diesel CLI.

diesel::table! {
    use diesel::sql_types::*;

    #[sql_name = "Audit Log"]
    Audit_Log (id) {
        id -> Bigint,
        happened_at -> Datetime,
        #[max_length = 16]
        raw -> Nullable<Varbinary>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    comments (id) {
        id -> Integer,
        post_id -> Integer,
        #[sql_name = "table"]
        table_ -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    links (id) {
        id -> Integer,
        user_id -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    settings (key) {
        #[max_length = 100]
        key -> Varchar,
        value -> Nullable<Text>,
    }
}
