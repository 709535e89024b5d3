// @generated automatically by Diesel CLI.

diesel::table! {
    settings (key) {
        #[max_length = 100]
        key -> Varchar,
        value -> Nullable<Text>,
    }
}
