//! Where to go (a [`Target`]) and the steps that get there from the applied set.
//!
//! Everything here is pure: the applied versions and the available migrations go in,
//! an ordered list of [`Step`]s comes out. Nothing touches a database.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::source::{version_of, Direction, Migration, Migrations};
use crate::{Error, Result};

/// A place in the history: `head`, `base`, `+N`, `-N`, or a version (or a unique prefix).
///
/// ```
/// use pelican::Target;
/// assert_eq!("head".parse::<Target>().unwrap(), Target::Head);
/// assert_eq!("-2".parse::<Target>().unwrap(), Target::Relative(-2));
/// assert_eq!("2024-01-15-090000".parse::<Target>().unwrap(), Target::Version("20240115090000".into()));
/// assert!("+x".parse::<Target>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// The newest migration.
    Head,
    /// Before the first migration.
    Base,
    /// N migrations forward (`+N`) or back (`-N`) from the current state; never 0.
    Relative(i64),
    /// A version, or a unique prefix of one. Written with or without diesel's dashes,
    /// or as a whole folder name.
    Version(String),
}

impl FromStr for Target {
    type Err = Error;

    fn from_str(text: &str) -> Result<Target> {
        let bad = || Error::BadTarget {
            target: text.to_owned(),
        };
        match text {
            "head" | "heads" => return Ok(Target::Head),
            "base" => return Ok(Target::Base),
            _ => {}
        }
        if let Some(sign @ ('+' | '-')) = text.chars().next() {
            let digits = &text[1..];
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let n: i64 = digits.parse().map_err(|_| bad())?;
            if n == 0 {
                return Err(bad());
            }
            return Ok(Target::Relative(if sign == '-' { -n } else { n }));
        }
        // A version, or a folder name: diesel's reading of a folder name (the text
        // before the first `_`, dashes removed) gives the version either way.
        version_of(text).map(Target::Version).map_err(|_| bad())
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Head => f.write_str("head"),
            Target::Base => f.write_str("base"),
            Target::Relative(n) => write!(f, "{n:+}"),
            Target::Version(v) => f.write_str(v),
        }
    }
}

/// One migration to run, in one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Step<'m> {
    /// The migration.
    pub migration: &'m Migration,
    /// Up or down.
    pub direction: Direction,
    /// An upgrade of a migration older than the newest applied one (merged from a
    /// parallel branch); applied like any other, as diesel does, and reported.
    pub out_of_order: bool,
}

/// The applied versions that no available migration has: the database is newer than
/// these migrations.
pub(crate) fn unknown_applied<'a>(
    applied: &'a BTreeSet<String>,
    migrations: &Migrations,
) -> Vec<&'a str> {
    applied
        .iter()
        .filter(|v| migrations.get(v).is_none())
        .map(String::as_str)
        .collect()
}

/// The version a `Target::Version` names among the available migrations.
pub(crate) fn resolve<'m>(
    target: &str,
    given: &str,
    migrations: &'m Migrations,
) -> Result<&'m Migration> {
    if let Some(m) = migrations.get(target) {
        return Ok(m);
    }
    let matches: Vec<&Migration> = migrations
        .iter()
        .filter(|m| m.version().starts_with(target))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(Error::UnknownTarget {
            target: given.to_owned(),
        }),
        many => Err(Error::AmbiguousTarget {
            target: given.to_owned(),
            matches: many.iter().map(|m| m.version().to_owned()).collect(),
        }),
    }
}

/// The steps of an upgrade to `target`: pending migrations, oldest first.
pub(crate) fn upgrade<'m>(
    applied: &BTreeSet<String>,
    migrations: &'m Migrations,
    target: &Target,
) -> Result<Vec<Step<'m>>> {
    let newest_applied = applied.iter().next_back();
    let pending = migrations.iter().filter(|m| !applied.contains(m.version()));
    let chosen: Vec<&Migration> = match target {
        Target::Head => pending.collect(),
        Target::Base => Vec::new(),
        Target::Relative(n) if *n > 0 => {
            let all: Vec<&Migration> = pending.collect();
            let n = usize::try_from(*n).unwrap_or(usize::MAX);
            if n > all.len() {
                return Err(Error::TargetOutOfRange {
                    target: target.to_string(),
                    reason: format!("only {} migration(s) are pending", all.len()),
                });
            }
            all.into_iter().take(n).collect()
        }
        Target::Relative(_) => {
            return Err(Error::TargetNotForCommand {
                target: target.to_string(),
                command: "migrate (use downgrade)",
            })
        }
        Target::Version(v) => {
            let goal = resolve(v, &target.to_string(), migrations)?;
            pending.filter(|m| m.version() <= goal.version()).collect()
        }
    };
    Ok(chosen
        .into_iter()
        .map(|migration| Step {
            migration,
            direction: Direction::Up,
            out_of_order: newest_applied
                .is_some_and(|newest| migration.version() < newest.as_str()),
        })
        .collect())
}

/// The steps of a downgrade to `target`: applied migrations, newest first. `-N` counts by
/// version order, as diesel's revert does; a version target keeps that version applied.
pub(crate) fn downgrade<'m>(
    applied: &BTreeSet<String>,
    migrations: &'m Migrations,
    target: &Target,
) -> Result<Vec<Step<'m>>> {
    let applied_migrations = migrations
        .iter()
        .rev()
        .filter(|m| applied.contains(m.version()));
    let chosen: Vec<&Migration> = match target {
        Target::Base => applied_migrations.collect(),
        Target::Relative(n) if *n < 0 => {
            let all: Vec<&Migration> = applied_migrations.collect();
            let n = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
            if n > all.len() {
                return Err(Error::TargetOutOfRange {
                    target: target.to_string(),
                    reason: format!("only {} migration(s) are applied", all.len()),
                });
            }
            all.into_iter().take(n).collect()
        }
        Target::Head | Target::Relative(_) => {
            return Err(Error::TargetNotForCommand {
                target: target.to_string(),
                command: "downgrade (use migrate)",
            })
        }
        Target::Version(v) => {
            let goal = resolve(v, &target.to_string(), migrations)?;
            applied_migrations
                .filter(|m| m.version() > goal.version())
                .collect()
        }
    };
    Ok(chosen
        .into_iter()
        .map(|migration| Step {
            migration,
            direction: Direction::Down,
            out_of_order: false,
        })
        .collect())
}

/// Revert the newest `n` applied migrations, then apply them again.
pub(crate) fn redo<'m>(
    applied: &BTreeSet<String>,
    migrations: &'m Migrations,
    n: usize,
) -> Result<Vec<Step<'m>>> {
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    if n == 0 {
        return Ok(Vec::new());
    }
    let down = downgrade(applied, migrations, &Target::Relative(-n))?;
    let up: Vec<Step<'m>> = down
        .iter()
        .rev()
        .map(|step| Step {
            direction: Direction::Up,
            ..*step
        })
        .collect();
    Ok(down.into_iter().chain(up).collect())
}

/// The migrations recorded as applied after `stamp target`: exactly those up to it.
/// Relative targets move from the newest applied migration.
pub(crate) fn stamp<'m>(
    applied: &BTreeSet<String>,
    migrations: &'m Migrations,
    target: &Target,
) -> Result<Vec<&'m Migration>> {
    let all: Vec<&Migration> = migrations.iter().collect();
    let count = match target {
        Target::Head => all.len(),
        Target::Base => 0,
        Target::Version(v) => {
            let goal = resolve(v, &target.to_string(), migrations)?;
            all.iter()
                .take_while(|m| m.version() <= goal.version())
                .count()
        }
        Target::Relative(n) => {
            let current = all
                .iter()
                .rposition(|m| applied.contains(m.version()))
                .map_or(0, |index| index + 1);
            let moved = i64::try_from(current)
                .unwrap_or(i64::MAX)
                .saturating_add(*n);
            usize::try_from(moved)
                .ok()
                .filter(|count| *count <= all.len())
                .ok_or_else(|| Error::TargetOutOfRange {
                    target: target.to_string(),
                    reason: format!("the database is at migration {current} of {}", all.len()),
                })?
        }
    };
    Ok(all.into_iter().take(count).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migrations(versions: &[&str]) -> Migrations {
        let dir = tempfile::tempdir().unwrap();
        for v in versions {
            let folder = dir.path().join(format!("{v}_m{v}"));
            std::fs::create_dir(&folder).unwrap();
            std::fs::write(folder.join("up.sql"), "SELECT 1;").unwrap();
            std::fs::write(folder.join("down.sql"), "SELECT 1;").unwrap();
        }
        Migrations::from_dir(dir.path()).unwrap()
    }

    fn applied(versions: &[&str]) -> BTreeSet<String> {
        versions.iter().map(|v| (*v).to_owned()).collect()
    }

    fn versions(steps: &[Step<'_>]) -> Vec<String> {
        steps
            .iter()
            .map(|s| s.migration.version().to_owned())
            .collect()
    }

    fn target(text: &str) -> Target {
        text.parse().unwrap()
    }

    #[test]
    fn parses_every_target_form() {
        assert_eq!(target("head"), Target::Head);
        assert_eq!(target("base"), Target::Base);
        assert_eq!(target("+3"), Target::Relative(3));
        assert_eq!(target("-1"), Target::Relative(-1));
        assert_eq!(
            target("20240115123456"),
            Target::Version("20240115123456".into())
        );
        assert_eq!(
            target("2024-01-15-123456"),
            Target::Version("20240115123456".into())
        );
        assert_eq!(
            target("2024-01-15-123456-0001_add_x"),
            Target::Version("202401151234560001".into())
        );
        for garbage in [
            "",
            "+x",
            "--1",
            "-0",
            "+",
            "-",
            "_x",
            "+1a",
            "-99999999999999999999",
        ] {
            assert!(garbage.parse::<Target>().is_err(), "{garbage:?} parsed");
        }
        // diesel takes any text before the first `_` as a version.
        for (text, version) in [("1.5", "1.5"), ("head1", "head1"), ("v1_x", "v1")] {
            assert_eq!(target(text), Target::Version(version.into()));
        }
    }

    #[test]
    fn upgrade_to_head_takes_every_pending_in_version_order() {
        let m = migrations(&["1", "2", "3"]);
        let steps = upgrade(&applied(&["1"]), &m, &Target::Head).unwrap();
        assert_eq!(versions(&steps), ["2", "3"]);
        assert!(steps
            .iter()
            .all(|s| s.direction == Direction::Up && !s.out_of_order));
    }

    #[test]
    fn upgrade_marks_migrations_older_than_the_newest_applied_as_out_of_order() {
        let m = migrations(&["1", "2", "3"]);
        let steps = upgrade(&applied(&["1", "3"]), &m, &Target::Head).unwrap();
        assert_eq!(versions(&steps), ["2"]);
        assert!(steps[0].out_of_order);
    }

    #[test]
    fn upgrade_to_a_version_or_plus_n() {
        let m = migrations(&["10", "20", "30", "40"]);
        let steps = upgrade(&applied(&[]), &m, &target("20")).unwrap();
        assert_eq!(versions(&steps), ["10", "20"]);
        let steps = upgrade(&applied(&["10"]), &m, &target("+2")).unwrap();
        assert_eq!(versions(&steps), ["20", "30"]);
        assert!(matches!(
            upgrade(&applied(&["10"]), &m, &target("+4")),
            Err(Error::TargetOutOfRange { .. })
        ));
        assert!(matches!(
            upgrade(&applied(&[]), &m, &target("-1")),
            Err(Error::TargetNotForCommand { .. })
        ));
    }

    #[test]
    fn version_prefixes_must_be_unique() {
        let m = migrations(&["20240101", "20240102", "20240201"]);
        assert_eq!(
            resolve("202402", "202402", &m).unwrap().version(),
            "20240201"
        );
        assert!(
            matches!(resolve("202401", "202401", &m), Err(Error::AmbiguousTarget { matches, .. }) if matches.len() == 2)
        );
        assert!(matches!(
            resolve("2025", "2025", &m),
            Err(Error::UnknownTarget { .. })
        ));
    }

    #[test]
    fn an_exact_version_wins_over_longer_versions_it_prefixes() {
        let m = migrations(&["20240115123456", "202401151234560000"]);
        assert_eq!(
            resolve("20240115123456", "x", &m).unwrap().version(),
            "20240115123456"
        );
    }

    #[test]
    fn diesel_2_3_versions_sort_after_older_ones_of_the_same_second() {
        let m = migrations(&["202401151234560001", "20240115123456", "202401151234560000"]);
        let order: Vec<&str> = m.iter().map(|m| m.version()).collect();
        assert_eq!(
            order,
            ["20240115123456", "202401151234560000", "202401151234560001"]
        );
    }

    #[test]
    fn downgrade_counts_by_version_order_and_keeps_a_version_target() {
        let m = migrations(&["1", "2", "3", "4"]);
        let all = applied(&["1", "2", "3", "4"]);
        assert_eq!(
            versions(&downgrade(&all, &m, &target("-2")).unwrap()),
            ["4", "3"]
        );
        assert_eq!(
            versions(&downgrade(&all, &m, &target("2")).unwrap()),
            ["4", "3"]
        );
        assert_eq!(
            versions(&downgrade(&all, &m, &Target::Base).unwrap()),
            ["4", "3", "2", "1"]
        );
        assert!(matches!(
            downgrade(&all, &m, &target("-5")),
            Err(Error::TargetOutOfRange { .. })
        ));
        assert!(downgrade(&all, &m, &Target::Head).is_err());
        assert!(downgrade(&all, &m, &target("+1")).is_err());
    }

    #[test]
    fn downgrade_skips_what_is_not_applied() {
        let m = migrations(&["1", "2", "3"]);
        let steps = downgrade(&applied(&["1", "3"]), &m, &target("-2")).unwrap();
        assert_eq!(versions(&steps), ["3", "1"]);
    }

    #[test]
    fn redo_reverts_then_reapplies_in_reverse() {
        let m = migrations(&["1", "2", "3"]);
        let steps = redo(&applied(&["1", "2", "3"]), &m, 2).unwrap();
        assert_eq!(versions(&steps), ["3", "2", "2", "3"]);
        let directions: Vec<Direction> = steps.iter().map(|s| s.direction).collect();
        assert_eq!(
            directions,
            [
                Direction::Down,
                Direction::Down,
                Direction::Up,
                Direction::Up
            ]
        );
        assert!(redo(&applied(&["1"]), &m, 2).is_err());
    }

    #[test]
    fn stamp_is_everything_up_to_the_target() {
        let m = migrations(&["1", "2", "3"]);
        let names = |list: Vec<&Migration>| {
            list.iter()
                .map(|m| m.version().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(stamp(&applied(&[]), &m, &Target::Head).unwrap()),
            ["1", "2", "3"]
        );
        assert!(stamp(&applied(&["1"]), &m, &Target::Base)
            .unwrap()
            .is_empty());
        assert_eq!(
            names(stamp(&applied(&[]), &m, &target("2")).unwrap()),
            ["1", "2"]
        );
        assert_eq!(
            names(stamp(&applied(&["1", "2"]), &m, &target("-1")).unwrap()),
            ["1"]
        );
        assert_eq!(
            names(stamp(&applied(&["1"]), &m, &target("+2")).unwrap()),
            ["1", "2", "3"]
        );
        assert!(stamp(&applied(&["1"]), &m, &target("-2")).is_err());
        assert!(stamp(&applied(&["1"]), &m, &target("+3")).is_err());
    }

    #[test]
    fn unknown_applied_versions_are_named() {
        let m = migrations(&["1", "2"]);
        assert_eq!(unknown_applied(&applied(&["1", "9"]), &m), ["9"]);
    }

    /// Fuzz targets: whatever text a user types as a target, and whatever state the
    /// database is in, parsing and planning return an answer or an error, never a panic.
    mod fuzz {
        use super::*;
        use proptest::prelude::*;
        use std::sync::OnceLock;

        /// Text shaped like targets, broken ones included, and arbitrary bytes.
        fn target_text() -> impl Strategy<Value = String> {
            prop_oneof![
                prop::sample::select(vec![
                    "head", "heads", "base", "HEAD", "", "+", "-", "--1", "+-1", "0"
                ])
                .prop_map(String::from),
                "[+-]{1,2}[0-9]{0,21}",
                "[0-9-]{0,24}(_[a-z_]{0,8})?",
                "\\PC{0,24}",
                prop::collection::vec(any::<u8>(), 0..24)
                    .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
            ]
        }

        /// Versions with shared prefixes, diesel 2.3's 18 digits among them.
        fn fixture() -> &'static Migrations {
            static FIXTURE: OnceLock<Migrations> = OnceLock::new();
            FIXTURE.get_or_init(|| {
                migrations(&[
                    "20240101000000",
                    "20240115090000",
                    "20240115091500",
                    "202401150915000000",
                    "202401150915000001",
                    "20240201000000",
                ])
            })
        }

        proptest! {
            #[test]
            fn a_target_parses_or_is_a_usage_error_naming_it(text in target_text()) {
                match text.parse::<Target>() {
                    Ok(parsed) => {
                        // What it displays parses back to the same target (but for a
                        // version diesel reads from a folder named `head_…`).
                        let shown = parsed.to_string();
                        if !matches!(shown.as_str(), "head" | "heads" | "base") {
                            prop_assert_eq!(shown.parse::<Target>().ok(), Some(parsed.clone()));
                        }
                        match &parsed {
                            Target::Relative(n) => prop_assert_ne!(*n, 0),
                            Target::Version(v) => {
                                prop_assert_eq!(version_of(v).ok(), Some(v.clone()));
                            }
                            Target::Head | Target::Base => {}
                        }
                    }
                    Err(error) => {
                        prop_assert!(error.is_usage(), "{}", error);
                        prop_assert!(error.to_string().contains(&format!("`{text}`")), "{}", error);
                    }
                }
            }

            #[test]
            fn every_plan_from_every_state_keeps_its_invariants(
                text in target_text(),
                mask in 0u8..64,
                n in 0usize..9,
            ) {
                let m = fixture();
                let applied: BTreeSet<String> = m
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, m)| m.version().to_owned())
                    .collect();
                let Ok(target) = text.parse::<Target>() else {
                    return Ok(());
                };
                if let Ok(steps) = upgrade(&applied, m, &target) {
                    let up: Vec<String> = versions(&steps);
                    prop_assert!(up.windows(2).all(|w| w[0] < w[1]), "{:?}", up);
                    prop_assert!(up.iter().all(|v| !applied.contains(v)));
                    prop_assert!(steps.iter().all(|s| s.direction == Direction::Up));
                }
                if let Ok(steps) = downgrade(&applied, m, &target) {
                    let down: Vec<String> = versions(&steps);
                    prop_assert!(down.windows(2).all(|w| w[0] > w[1]), "{:?}", down);
                    prop_assert!(down.iter().all(|v| applied.contains(v)));
                    prop_assert!(steps.iter().all(|s| s.direction == Direction::Down));
                }
                if let Ok(kept) = stamp(&applied, m, &target) {
                    let all: Vec<&Migration> = m.iter().collect();
                    prop_assert_eq!(&all[..kept.len()], &kept[..]);
                }
                if let Ok(steps) = redo(&applied, m, n) {
                    prop_assert_eq!(steps.len(), 2 * n.min(applied.len()));
                }
            }
        }
    }
}
