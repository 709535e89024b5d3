// @generated automatically by Diesel CLI.

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

diesel::joinable!(links -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(comments, counters, links, settings, users,);
