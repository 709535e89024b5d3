// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(mysql_type(name = "Enum"))]
    pub struct UsersMoodEnum;

    #[derive(diesel::sql_types::SqlType)]
    #[diesel(mysql_type(name = "Year"))]
    pub struct UsersYearBornYear;
}

diesel::table! {
    post_tags (post_id, tag) {
        post_id -> Integer,
        #[max_length = 50]
        tag -> Varchar,
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
    use diesel::sql_types::*;
    use super::sql_types::UsersMoodEnum;
    use super::sql_types::UsersYearBornYear;

    users (id) {
        id -> Integer,
        #[max_length = 100]
        name -> Varchar,
        #[max_length = 5]
        mood -> Nullable<UsersMoodEnum>,
        active -> Bool,
        karma -> Unsigned<Bigint>,
        small -> Nullable<Smallint>,
        tiny -> Nullable<Tinyint>,
        score -> Nullable<Float>,
        ratio -> Nullable<Double>,
        price -> Nullable<Decimal>,
        avatar -> Nullable<Blob>,
        data -> Nullable<Longtext>,
        born -> Nullable<Date>,
        wakes -> Nullable<Time>,
        created_at -> Datetime,
        stamp -> Nullable<Timestamp>,
        #[sql_name = "type"]
        type_ -> Nullable<Text>,
        #[sql_name = "users"]
        users_ -> Nullable<Integer>,
        #[sql_name = "Display Name"]
        Display_Name -> Nullable<Text>,
        #[max_length = 3]
        code -> Nullable<Char>,
        bits -> Nullable<Bit>,
        year_born -> Nullable<UsersYearBornYear>,
    }
}

diesel::joinable!(post_tags -> posts (post_id));

diesel::allow_tables_to_appear_in_same_query!(post_tags, posts, users,);
