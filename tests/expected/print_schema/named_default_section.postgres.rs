// @generated automatically by Diesel CLI.

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Nullable<Text>,
    }
}
