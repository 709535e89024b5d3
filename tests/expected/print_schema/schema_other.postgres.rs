// @generated automatically by Diesel CLI.

pub mod other {
    pub mod sql_types {
        #[derive(diesel::sql_types::SqlType)]
        #[diesel(postgres_type(name = "color", schema = "other"))]
        pub struct Color;
    }

    diesel::table! {
        use diesel::sql_types::*;
        use super::sql_types::Color;

        other.items (id) {
            id -> Int4,
            owner_id -> Int4,
            color -> Nullable<Color>,
        }
    }

    diesel::table! {
        other.owners (id) {
            id -> Int4,
            name -> Text,
        }
    }

    diesel::joinable!(items -> owners (owner_id));

    diesel::allow_tables_to_appear_in_same_query!(items, owners,);
}
