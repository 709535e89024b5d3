//! What kind of error it is: usage or failure, its stable name, and its cause beneath
//! the report of what ran before it.

use super::Error;

impl Error {
    /// Whether the error is about how pelican was called (exit code 2) rather than a failure (1).
    pub fn is_usage(&self) -> bool {
        matches!(
            self.cause(),
            Error::BadTarget { .. }
                | Error::UnknownTarget { .. }
                | Error::AmbiguousTarget { .. }
                | Error::TargetOutOfRange { .. }
                | Error::TargetNotForCommand { .. }
                | Error::BadMigrationName { .. }
                | Error::NoDatabaseUrl
                | Error::UnknownScheme { .. }
                | Error::BackendNotEnabled { .. }
                | Error::BadFlag { .. }
                | Error::BadSetting { .. }
                | Error::FleetTargets { .. }
                | Error::ManyDatabaseUrls { .. }
                | Error::NotConfirmed { .. }
                | Error::SystemDatabase { .. }
                | Error::BadUrl { .. }
                | Error::NoJson { .. }
                | Error::Scrubbed { usage: true, .. }
        )
    }

    /// The error's kind, stable for programs: its variant's name in snake case
    /// (`statement`, `lock_timeout`, `unmanaged`…); for an error that wraps another
    /// ([`Error::Incomplete`], [`Error::RolledBack`]…: see [`cause`](Error::cause)), that
    /// of the error itself; for an [`Error::Scrubbed`], the original's.
    pub fn kind(&self) -> &'static str {
        self.cause().name()
    }

    /// The variant's name in snake case, written out for each (the JSON documents and
    /// the command line's hints depend on them): a new variant does not compile until
    /// it has one.
    fn name(&self) -> &'static str {
        match self {
            Error::NoDatabaseUrl => "no_database_url",
            Error::UnknownScheme { .. } => "unknown_scheme",
            Error::BadUrl { .. } => "bad_url",
            Error::BackendNotEnabled { .. } => "backend_not_enabled",
            Error::Connect { .. } => "connect",
            Error::NoMigrationDirectory { .. } => "no_migration_directory",
            Error::MigrationDirectoryMissing { .. } => "migration_directory_missing",
            Error::Config { .. } => "config",
            Error::Io { .. } => "io",
            Error::InvalidMigration { .. } => "invalid_migration",
            Error::DuplicateVersion { .. } => "duplicate_version",
            Error::BadTarget { .. } => "bad_target",
            Error::UnknownTarget { .. } => "unknown_target",
            Error::AmbiguousTarget { .. } => "ambiguous_target",
            Error::TargetOutOfRange { .. } => "target_out_of_range",
            Error::TargetNotForCommand { .. } => "target_not_for_command",
            Error::DatabaseAhead { .. } => "database_ahead",
            Error::Statement { .. } => "statement",
            Error::EmptyMigration { .. } => "empty_migration",
            Error::NoDown { .. } => "no_down",
            Error::BadMigrationName { .. } => "bad_migration_name",
            Error::LockTimeout { .. } => "lock_timeout",
            Error::LockRelease { .. } => "lock_release",
            Error::LockLost { .. } => "lock_lost",
            Error::Commit { .. } => "commit",
            Error::Unmanaged { .. } => "unmanaged",
            Error::NoMatchingVersion { .. } => "no_matching_version",
            Error::AdoptionBuild { .. } => "adoption_build",
            Error::NothingToAdopt { .. } => "nothing_to_adopt",
            Error::InitialSetup { .. } => "initial_setup",
            Error::FreshBuild { .. } => "fresh_build",
            Error::BuildUndone { .. } => "build_undone",
            Error::NotUndone { .. } => "not_undone",
            Error::BadFlag { .. } => "bad_flag",
            Error::BadSetting { .. } => "bad_setting",
            Error::NotConfirmed { .. } => "not_confirmed",
            Error::Cancelled { .. } => "cancelled",
            // What the original said it was.
            Error::Scrubbed { kind, .. } => kind,
            Error::ChangedMigrations { .. } => "changed_migrations",
            Error::Migration { .. } => "migration",
            Error::Incomplete { .. } => "incomplete",
            Error::RolledBack { .. } => "rolled_back",
            Error::ScriptVariable { .. } => "script_variable",
            Error::HalfApplied { .. } => "half_applied",
            Error::ForeignKeyViolation { .. } => "foreign_key_violation",
            Error::Snapshot { .. } => "snapshot",
            Error::CheckFailed { .. } => "check_failed",
            Error::DuplicateMigrationVersion { .. } => "duplicate_migration_version",
            Error::TooManyMigrations { .. } => "too_many_migrations",
            Error::ProjectRootNotFound { .. } => "project_root_not_found",
            Error::PrintSchema { .. } => "print_schema",
            Error::NotSupported { .. } => "not_supported",
            Error::SchemaWouldChange { .. } => "schema_would_change",
            Error::ScratchDatabase { .. } => "scratch_database",
            Error::NoScratchUrl { .. } => "no_scratch_url",
            Error::Interrupted { .. } => "interrupted",
            Error::NoJson { .. } => "no_json",
            Error::SystemDatabase { .. } => "system_database",
            Error::Dependents { .. } => "dependents",
            Error::PartlyDropped { .. } => "partly_dropped",
            Error::UnreadableBuildRecord { .. } => "unreadable_build_record",
            Error::AfterRecovery { .. } => "after_recovery",
            Error::CreatedAndLeft { .. } => "created_and_left",
            Error::ScopedRead { .. } => "scoped_read",
            Error::Query { .. } => "query",
            Error::FleetTargets { .. } => "fleet_targets",
            Error::ManyDatabaseUrls { .. } => "many_database_urls",
            Error::SchemaNotCurrent { .. } => "schema_not_current",
        }
    }

    /// The error itself, without the report of what ran before it.
    pub fn cause(&self) -> &Error {
        match self {
            Error::Incomplete { source, .. }
            | Error::CreatedAndLeft { source, .. }
            | Error::AfterRecovery { source, .. }
            | Error::RolledBack { source, .. } => source.cause(),
            other => other,
        }
    }

    /// The error itself, owned, the report of what ran before it left behind.
    pub fn into_cause(self) -> Error {
        match self {
            Error::Incomplete { source, .. }
            | Error::CreatedAndLeft { source, .. }
            | Error::AfterRecovery { source, .. }
            | Error::RolledBack { source, .. } => source.into_cause(),
            other => other,
        }
    }

    pub(crate) fn query(context: impl Into<String>) -> impl FnOnce(diesel::result::Error) -> Error {
        let context = context.into();
        move |source| Error::Query { context, source }
    }
}

#[cfg(test)]
mod tests {
    use heck::ToSnakeCase;

    /// Each variant's kind is its name in snake case, as when kinds were read from its
    /// `Debug` text: programs match on them, so a typo in one would break them. Read
    /// from the sources, so that a new variant is checked without being built here.
    #[test]
    fn every_kind_is_its_variants_name_in_snake_case() {
        let kinds = syn::parse_file(include_str!("kind.rs")).unwrap();
        let arms = kinds
            .items
            .iter()
            .filter_map(|item| match item {
                syn::Item::Impl(block) => Some(&block.items),
                _ => None,
            })
            .flatten()
            .find_map(|item| match item {
                syn::ImplItem::Fn(f) if f.sig.ident == "name" => match f.block.stmts.first() {
                    Some(syn::Stmt::Expr(syn::Expr::Match(m), _)) => Some(&m.arms),
                    _ => None,
                },
                _ => None,
            })
            .expect("Error::name is one match");
        let mut named = Vec::new();
        for arm in arms {
            let path = match &arm.pat {
                syn::Pat::Path(p) => &p.path,
                syn::Pat::Struct(s) => &s.path,
                _ => panic!("an arm of Error::name that is not `Error::Variant`"),
            };
            let variant = path.segments.last().unwrap().ident.to_string();
            match &*arm.body {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(kind),
                    ..
                }) => assert_eq!(kind.value(), variant.to_snake_case(), "Error::{variant}"),
                // The original's kind, kept.
                _ => assert_eq!(variant, "Scrubbed"),
            }
            named.push(variant);
        }
        let errors = syn::parse_file(include_str!("mod.rs")).unwrap();
        let variants: Vec<String> = errors
            .items
            .iter()
            .find_map(|item| match item {
                syn::Item::Enum(e) if e.ident == "Error" => Some(&e.variants),
                _ => None,
            })
            .expect("the Error enum")
            .iter()
            .map(|v| v.ident.to_string())
            .collect();
        assert_eq!(named, variants, "one arm per variant, in the enum's order");
    }
}
