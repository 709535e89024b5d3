// @generated automatically by Diesel CLI.

diesel::table! {
    #[sql_name = "Audit Log"]
    Audit_Log (rowid) {
        rowid -> Integer,
        happened_at -> Timestamp,
        note -> Nullable<Text>,
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
        id -> Integer,
        user_id -> Integer,
        editor_id -> Nullable<Integer>,
        parent_id -> Nullable<Integer>,
        title -> Text,
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
        id -> Nullable<Integer>,
        name -> Text,
        active -> Bool,
        karma -> Nullable<BigInt>,
        small -> Nullable<SmallInt>,
        tiny -> Nullable<Bool>,
        score -> Nullable<Float>,
        ratio -> Nullable<Double>,
        price -> Nullable<Double>,
        avatar -> Nullable<Binary>,
        untyped -> Nullable<Binary>,
        born -> Nullable<Date>,
        wakes -> Nullable<Time>,
        created_at -> Timestamp,
        #[sql_name = "type"]
        type_ -> Nullable<Text>,
        #[sql_name = "users"]
        users_ -> Nullable<Integer>,
        #[sql_name = "Display Name"]
        Display_Name -> Nullable<Text>,
    }
}

diesel::joinable!(comments -> posts (post_id));
diesel::joinable!(links -> users (user_id));
diesel::joinable!(post_tags -> posts (post_id));

diesel::allow_tables_to_appear_in_same_query!(
    Audit_Log, comments, counters, links, post_tags, posts, settings, users,
);
