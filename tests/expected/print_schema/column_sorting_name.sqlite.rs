// @generated automatically by Diesel CLI.

diesel::table! {
    #[sql_name = "Audit Log"]
    Audit_Log (rowid) {
        happened_at -> Timestamp,
        note -> Nullable<Text>,
        rowid -> Integer,
    }
}

diesel::table! {
    comments (id) {
        id -> Nullable<Integer>,
        post_id -> Integer,
        #[sql_name = "table"]
        table_ -> Text,
    }
}

diesel::table! {
    counters (id) {
        id -> Integer,
        n -> Integer,
    }
}

diesel::table! {
    links (id) {
        id -> Nullable<Integer>,
        user_id -> Integer,
    }
}

diesel::table! {
    post_tags (post_id, tag) {
        post_id -> Integer,
        tag -> Text,
    }
}

diesel::table! {
    posts (id) {
        editor_id -> Nullable<Integer>,
        id -> Integer,
        parent_id -> Nullable<Integer>,
        title -> Text,
        user_id -> Integer,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        #[sql_name = "Display Name"]
        Display_Name -> Nullable<Text>,
        active -> Bool,
        avatar -> Nullable<Binary>,
        born -> Nullable<Date>,
        created_at -> Timestamp,
        id -> Nullable<Integer>,
        karma -> Nullable<BigInt>,
        name -> Text,
        price -> Nullable<Double>,
        ratio -> Nullable<Double>,
        score -> Nullable<Float>,
        small -> Nullable<SmallInt>,
        tiny -> Nullable<Bool>,
        #[sql_name = "type"]
        type_ -> Nullable<Text>,
        untyped -> Nullable<Binary>,
        #[sql_name = "users"]
        users_ -> Nullable<Integer>,
        wakes -> Nullable<Time>,
    }
}

diesel::joinable!(comments -> posts (post_id));
diesel::joinable!(links -> users (user_id));
diesel::joinable!(post_tags -> posts (post_id));

diesel::allow_tables_to_appear_in_same_query!(
    Audit_Log, comments, counters, links, post_tags, posts, settings, users,
);
