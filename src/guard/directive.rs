//! Explicit guards: a comment line directly above a statement.
//!
//! ```sql
//! -- pelican: skip-if column usuario.telefono
//! ALTER TABLE usuario ADD COLUMN telefono VARCHAR(20) NULL;
//!
//! -- pelican: run-if sql SELECT COUNT(*) = 0 FROM configuracion WHERE clave = 'sitio.nombre'
//! INSERT INTO configuracion (clave, valor) VALUES ('sitio.nombre', 'Pelican LMS');
//!
//! -- pelican: no-guard
//! CREATE TABLE scratch (id INTEGER);
//! ```
//!
//! `skip-if` skips the statement when the test holds; `run-if` runs it only when the
//! test holds. Tests: `table NAME`, `column TABLE.COLUMN`, `index NAME` (exists), and
//! `sql QUERY` (true when the query's one value is true, or a non-zero number).
//! `no-guard` runs the next statement as written; `no-guards`, above the first
//! statement of a file, runs the whole file as written.

/// A test a directive makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Test {
    /// A table (or view) exists.
    Table(String),
    /// A column exists.
    Column(String, String),
    /// An index exists.
    Index(String),
    /// A query returns true.
    Sql(String),
}

/// What a comment line asks of the statement below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Directive {
    /// Run the next statement as written.
    NoGuard,
    /// Run the whole file as written (only above its first statement).
    NoGuards,
    /// Skip when the test holds.
    SkipIf(Test),
    /// Run only when the test holds.
    RunIf(Test),
}

/// The directive of one comment line, if it is one (`pelican:` after the comment
/// marker). An error is a sentence saying what is wrong with it.
pub(crate) fn parse(comment: &str) -> Option<Result<Directive, String>> {
    let rest = comment.trim().strip_prefix("pelican:")?.trim();
    // `allow RULE…` is the lint's (`crate::lint`): no guard's business.
    if rest == "allow" || rest.starts_with("allow ") || rest.starts_with("allow\t") {
        return None;
    }
    Some(parse_directive(rest))
}

fn parse_directive(text: &str) -> Result<Directive, String> {
    let (word, rest) = split_word(text);
    match word {
        "no-guard" if rest.is_empty() => Ok(Directive::NoGuard),
        "no-guards" if rest.is_empty() => Ok(Directive::NoGuards),
        "skip-if" => parse_test(rest).map(Directive::SkipIf),
        "run-if" => parse_test(rest).map(Directive::RunIf),
        _ => Err(format!(
            "unknown pelican directive `{text}`: expected skip-if, run-if, no-guard or no-guards"
        )),
    }
}

fn parse_test(text: &str) -> Result<Test, String> {
    let (kind, rest) = split_word(text);
    let one_name = |rest: &str| {
        let (name, extra) = split_word(rest);
        if name.is_empty() || !extra.is_empty() {
            Err(format!("`{kind}` takes one name, not `{rest}`"))
        } else {
            Ok(name.to_owned())
        }
    };
    match kind {
        "table" => one_name(rest).map(Test::Table),
        "index" => one_name(rest).map(Test::Index),
        "column" => {
            let name = one_name(rest)?;
            match name.split_once('.') {
                Some((table, column)) if !table.is_empty() && !column.is_empty() => {
                    Ok(Test::Column(table.to_owned(), column.to_owned()))
                }
                _ => Err(format!("`column` takes TABLE.COLUMN, not `{name}`")),
            }
        }
        "sql" if !rest.is_empty() => Ok(Test::Sql(rest.to_owned())),
        _ => Err(format!(
            "unknown test `{text}`: expected table NAME, column TABLE.COLUMN, index NAME or sql QUERY"
        )),
    }
}

fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim();
    match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_form() {
        assert_eq!(parse("pelican: no-guard"), Some(Ok(Directive::NoGuard)));
        assert_eq!(
            parse(" pelican:  no-guards "),
            Some(Ok(Directive::NoGuards))
        );
        assert_eq!(
            parse("pelican: skip-if column usuario.telefono"),
            Some(Ok(Directive::SkipIf(Test::Column(
                "usuario".into(),
                "telefono".into()
            ))))
        );
        assert_eq!(
            parse("pelican: run-if table usuario"),
            Some(Ok(Directive::RunIf(Test::Table("usuario".into()))))
        );
        assert_eq!(
            parse("pelican: skip-if index ix_a"),
            Some(Ok(Directive::SkipIf(Test::Index("ix_a".into()))))
        );
        assert_eq!(
            parse("pelican: run-if sql SELECT COUNT(*) = 0 FROM t"),
            Some(Ok(Directive::RunIf(Test::Sql(
                "SELECT COUNT(*) = 0 FROM t".into()
            ))))
        );
    }

    #[test]
    fn other_comments_are_not_directives() {
        assert_eq!(parse("create the users table"), None);
        assert_eq!(parse("see pelican: docs"), None);
    }

    #[test]
    fn mistakes_are_errors_that_say_what_is_expected() {
        for bad in [
            "pelican: skip",
            "pelican: skip-if",
            "pelican: skip-if colum a.b",
            "pelican: skip-if column telefono",
            "pelican: run-if table a b",
            "pelican: run-if sql",
            "pelican: no-guard please",
        ] {
            assert!(matches!(parse(bad), Some(Err(_))), "{bad}");
        }
    }
}
