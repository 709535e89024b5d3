//! What a statement does to the schema, read with `sqlparser` in the backend's dialect.
//!
//! Only the statement's meaning is taken from the parse tree; the text that runs is
//! always the author's.

use sqlparser::ast::{
    AlterTableOperation, ColumnDef, ColumnOption, CreateTable, Ident, ObjectName, ObjectNamePart,
    ObjectType, RenameTableNameKind, Statement, TableConstraint,
};
use sqlparser::dialect::Dialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::catalog::{normalize_type, Kind, Schema};
use crate::Backend;

/// A name from a statement, folded as the backend folds it, with its schema if it was
/// qualified (`public.t`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    /// The schema or database it was qualified with, folded.
    pub namespace: Option<String>,
    /// The name itself, folded (a key of [`Schema`]).
    pub key: String,
    /// The name as written, for messages.
    pub shown: String,
}

/// A column as a statement defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnSpec {
    /// The column's key.
    pub key: String,
    /// The column's name as written.
    pub name: String,
    /// Its normalized type.
    pub data_type: String,
    /// Whether it accepts NULL.
    pub nullable: bool,
}

/// One operation of an `ALTER TABLE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AlterOp {
    /// `ADD [COLUMN] c …`
    AddColumn(ColumnSpec),
    /// `DROP [COLUMN] c`
    DropColumn(Name),
    /// `RENAME [COLUMN] a TO b`
    RenameColumn(Name, Name),
    /// `RENAME TO u`
    RenameTable(Name),
    /// `ADD CONSTRAINT k …`
    AddConstraint(Name),
    /// `DROP CONSTRAINT k`, `DROP FOREIGN KEY k`
    DropConstraint(Name),
    /// `DROP INDEX i` (MySQL)
    DropIndex(Name),
    /// `ADD INDEX i (…)`, `ADD KEY i (…)` (MySQL)
    AddIndex(Name),
    /// Anything else: changes the table in a way guards do not model.
    Other,
}

/// What a statement does, as far as guards care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Effect {
    /// `CREATE TABLE t (…)`
    CreateTable {
        /// The table.
        table: Name,
        /// Its columns.
        columns: Vec<ColumnSpec>,
        /// Named constraints declared with it.
        constraints: Vec<Name>,
    },
    /// `DROP TABLE t [, u]`
    DropTable(Vec<Name>),
    /// `ALTER TABLE t …`
    AlterTable {
        /// The table.
        table: Name,
        /// What it does, in order.
        ops: Vec<AlterOp>,
    },
    /// `RENAME TABLE a TO b [, c TO d]` (MySQL)
    RenameTables(Vec<(Name, Name)>),
    /// `CREATE [UNIQUE] INDEX i ON t (…)`
    CreateIndex {
        /// The index.
        index: Name,
        /// Its table.
        table: Name,
        /// Its columns (keys), or expressions as written.
        columns: Vec<String>,
        /// Whether it is unique.
        unique: bool,
    },
    /// `DROP INDEX i [ON t]`
    DropIndex {
        /// The indexes.
        indexes: Vec<Name>,
        /// The table, where the statement names it.
        table: Option<Name>,
    },
    /// `CREATE VIEW v`, `CREATE TRIGGER g`, `CREATE TYPE y`, `CREATE FUNCTION f`, …
    CreateObject(ObjectKind, Name),
    /// `DROP VIEW v`, `DROP TRIGGER g`, …
    DropObject(ObjectKind, Vec<Name>),
    /// Runs as written: with the reason it is not guarded. `changes_schema` says the
    /// statement may change the schema in a way guards do not model.
    Unguarded {
        /// Why it runs as written.
        reason: Unguarded,
        /// Whether the schema may have changed under the guards' model.
        changes_schema: bool,
    },
}

/// Why a statement runs as written, unguarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unguarded {
    /// It says `IF [NOT] EXISTS` itself: running it again is harmless.
    IfExists,
    /// It says `OR REPLACE` itself: running it again is harmless.
    OrReplace,
    /// The SQL parser does not understand it.
    NotParsed,
    /// It is not DDL (`SET`, a query, data).
    NotDdl,
    /// DDL that guards do not model.
    NotModelled,
}

impl std::fmt::Display for Unguarded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unguarded::IfExists => "IF [NOT] EXISTS: runs as written",
            Unguarded::OrReplace => "OR REPLACE: runs as written",
            Unguarded::NotParsed => "not understood by the SQL parser: runs as written",
            Unguarded::NotDdl => "not DDL: runs as written",
            Unguarded::NotModelled => "not guarded: runs as written",
        })
    }
}

/// Named objects other than tables and indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ObjectKind {
    /// A view.
    View,
    /// A trigger.
    Trigger,
    /// A user-defined type.
    Type,
    /// A function (on PostgreSQL, a procedure too: they share one namespace).
    Function,
    /// A MySQL/MariaDB procedure: its own namespace, apart from functions.
    Procedure,
}

impl ObjectKind {
    /// The word for it in messages.
    pub(crate) fn word(self) -> &'static str {
        match self {
            ObjectKind::View => "view",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Type => "type",
            ObjectKind::Function => "function",
            ObjectKind::Procedure => "procedure",
        }
    }

    fn kind(self) -> Kind {
        match self {
            ObjectKind::View => Kind::Table,
            ObjectKind::Trigger => Kind::Trigger,
            ObjectKind::Type | ObjectKind::Function | ObjectKind::Procedure => Kind::Routine,
        }
    }
}

fn dialect(backend: Backend) -> &'static dyn Dialect {
    backend.dialect().parser()
}

/// What `sql` (one statement) does.
pub(crate) fn classify(sql: &str, backend: Backend) -> Effect {
    let dialect = dialect(backend);
    match Parser::parse_sql(dialect, sql) {
        Ok(statements) => match statements.as_slice() {
            [statement] => Reader { backend }.statement(statement),
            _ => unguarded_by_tokens(sql, dialect, backend),
        },
        Err(_) => match drop_key_as_drop_index(sql, dialect) {
            // The parser does not know MySQL's `DROP KEY`, a synonym of `DROP INDEX`.
            Some(sql) => classify(&sql, backend),
            None => unguarded_by_tokens(sql, dialect, backend),
        },
    }
}

/// `ALTER TABLE t DROP KEY k` written as `ALTER TABLE t DROP INDEX k` (MySQL, where the
/// two are one statement), or `None` for a statement without an unquoted `DROP KEY`.
fn drop_key_as_drop_index(sql: &str, dialect: &dyn Dialect) -> Option<String> {
    let mut tokens = Tokenizer::new(dialect, sql).tokenize().ok()?;
    let is_word = |token: &Token, word: &str| matches!(token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word));
    if !tokens
        .iter()
        .find(|t| !matches!(t, Token::Whitespace(_)))
        .is_some_and(|t| is_word(t, "ALTER"))
    {
        return None;
    }
    let mut replaced = false;
    let mut previous_word: Option<usize> = None;
    for i in 0..tokens.len() {
        if matches!(tokens[i], Token::Whitespace(_)) {
            continue;
        }
        if is_word(&tokens[i], "KEY") && previous_word.is_some_and(|p| is_word(&tokens[p], "DROP"))
        {
            tokens[i] = Token::make_keyword("INDEX");
            replaced = true;
        }
        previous_word = Some(i);
    }
    replaced.then(|| tokens.iter().map(ToString::to_string).collect())
}

/// What a statement with its own `IF [NOT] EXISTS` does when its condition holds:
/// `DROP … IF EXISTS` drops the object (gone after it, whether or not it existed);
/// `CREATE TABLE|INDEX IF NOT EXISTS` creates it where it is missing (and changes
/// nothing where it exists). `None` for any other statement. A dry run follows it, so
/// that what comes after is decided against the schema it leaves.
pub(crate) fn if_exists_effect(sql: &str, backend: Backend) -> Option<Effect> {
    let mut statements = Parser::parse_sql(dialect(backend), sql).ok()?;
    let [statement] = statements.as_mut_slice() else {
        return None;
    };
    match statement {
        Statement::Drop { if_exists, .. } if *if_exists => *if_exists = false,
        Statement::DropTrigger(drop) if drop.if_exists => drop.if_exists = false,
        Statement::DropFunction(drop) if drop.if_exists => drop.if_exists = false,
        Statement::CreateTable(create) if create.if_not_exists => create.if_not_exists = false,
        Statement::CreateIndex(index) if index.if_not_exists => index.if_not_exists = false,
        _ => return None,
    }
    match (Reader { backend }).statement(statement) {
        effect @ (Effect::DropTable(_)
        | Effect::DropIndex { .. }
        | Effect::DropObject(..)
        | Effect::CreateTable { .. }
        | Effect::CreateIndex { .. }) => Some(effect),
        _ => None,
    }
}

/// What can be known of a statement's work after the connection died, on a backend
/// where each DDL statement commits itself (MySQL/MariaDB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nature {
    /// Creates or drops a named object: the server refuses to do it twice, and what
    /// exists shows whether it was done.
    Decidable,
    /// Changes rows: commits with the transaction it runs in, so pelican's progress row
    /// written in the same transaction says whether it was done.
    Data,
    /// Gives the same result however often it runs (`SET`, `SELECT`, `IF [NOT] EXISTS`,
    /// `OR REPLACE`).
    Repeatable,
    /// Commits itself and leaves nothing existence can decide (a rename, a change of a
    /// column's definition, a statement the parser does not know).
    Undecidable,
}

/// The [`Nature`] of one statement.
pub(crate) fn nature(sql: &str, backend: Backend) -> Nature {
    let verb = sql
        .split(|c: char| !c.is_ascii_alphabetic())
        .find(|w| !w.is_empty())
        .unwrap_or_default()
        .to_ascii_uppercase();
    match verb.as_str() {
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "MERGE" => return Nature::Data,
        "SELECT" | "SET" | "SHOW" | "DO" | "VALUES" | "EXPLAIN" => return Nature::Repeatable,
        _ => {}
    }
    match classify(sql, backend) {
        Effect::CreateTable { .. }
        | Effect::DropTable(_)
        | Effect::CreateIndex { .. }
        | Effect::DropIndex { .. }
        | Effect::CreateObject(..)
        | Effect::DropObject(..) => Nature::Decidable,
        Effect::AlterTable { ops, .. } => {
            let decidable = ops.iter().all(|op| {
                matches!(
                    op,
                    AlterOp::AddColumn(_)
                        | AlterOp::DropColumn(_)
                        | AlterOp::AddConstraint(_)
                        | AlterOp::DropConstraint(_)
                        | AlterOp::DropIndex(_)
                        | AlterOp::AddIndex(_)
                )
            });
            if decidable {
                Nature::Decidable
            } else {
                Nature::Undecidable
            }
        }
        Effect::RenameTables(_) => Nature::Undecidable,
        Effect::Unguarded {
            reason: Unguarded::IfExists | Unguarded::OrReplace,
            ..
        } => Nature::Repeatable,
        Effect::Unguarded { changes_schema, .. } => {
            if changes_schema {
                Nature::Undecidable
            } else {
                Nature::Repeatable
            }
        }
    }
}

/// A directive that decides an undecidable statement: true once its work is done.
pub(crate) fn deciding_directive(sql: &str, backend: Backend) -> String {
    match classify(sql, backend) {
        Effect::RenameTables(pairs) => match pairs.last() {
            Some((_, to)) => format!("skip-if table {}", to.shown),
            None => "skip-if sql <a query true once it ran>".to_owned(),
        },
        Effect::AlterTable { table, ops } => match ops.last() {
            Some(AlterOp::RenameTable(to)) => format!("skip-if table {}", to.shown),
            Some(AlterOp::RenameColumn(_, to)) => {
                format!("skip-if column {}.{}", table.shown, to.shown)
            }
            _ => "skip-if sql <a query true once it ran>".to_owned(),
        },
        _ => "skip-if sql <a query true once it ran>".to_owned(),
    }
}

/// For what the parser does not understand (MySQL routines and trigger bodies, vendor
/// syntax), the header still names the object: `CREATE [OR REPLACE] [DEFINER = …]
/// TRIGGER|FUNCTION|PROCEDURE name`, `DROP … [IF EXISTS] name`.
fn unguarded_by_tokens(sql: &str, dialect: &dyn Dialect, backend: Backend) -> Effect {
    let Ok(tokens) = Tokenizer::new(dialect, sql).tokenize() else {
        return not_understood(sql);
    };
    let words: Vec<(String, Option<char>)> = tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .take(24)
        .map(|t| match t {
            Token::Word(w) => (w.value, w.quote_style),
            other => (other.to_string(), None),
        })
        .collect();
    let upper = |i: usize| words.get(i).map(|(w, _)| w.to_ascii_uppercase());
    let Some(verb) = upper(0) else {
        return not_understood(sql);
    };
    let mut i = 1;
    let mut or_replace = false;
    if upper(1).as_deref() == Some("OR") && upper(2).as_deref() == Some("REPLACE") {
        or_replace = true;
        i = 3;
    }
    if upper(i).as_deref() == Some("DEFINER") {
        // DEFINER = user[@host]: skip to the object keyword.
        while let Some(word) = upper(i) {
            if matches!(
                word.as_str(),
                "TRIGGER" | "FUNCTION" | "PROCEDURE" | "EVENT"
            ) {
                break;
            }
            i += 1;
        }
    }
    let kind = match upper(i).as_deref() {
        Some("TRIGGER") => ObjectKind::Trigger,
        Some("FUNCTION") => ObjectKind::Function,
        Some("PROCEDURE") if backend.dialect().procedures_apart() => ObjectKind::Procedure,
        Some("PROCEDURE") => ObjectKind::Function,
        _ => return not_understood(sql),
    };
    i += 1;
    let if_exists = upper(i).as_deref() == Some("IF");
    let Some((name, quote)) = words.get(i) else {
        return not_understood(sql);
    };
    let ident = Ident {
        value: name.clone(),
        quote_style: *quote,
        span: sqlparser::tokenizer::Span::empty(),
    };
    let name = simple_name(backend, kind.kind(), &ident);
    match verb.as_str() {
        "CREATE" if or_replace => unguarded(Unguarded::OrReplace, true),
        "CREATE" if if_exists => unguarded(Unguarded::IfExists, true),
        "CREATE" => Effect::CreateObject(kind, name),
        "DROP" if if_exists => unguarded(Unguarded::IfExists, true),
        "DROP" => Effect::DropObject(kind, vec![name]),
        _ => not_understood(sql),
    }
}

fn not_understood(sql: &str) -> Effect {
    let verb = sql
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let ddl = matches!(
        verb.as_str(),
        "CREATE" | "ALTER" | "DROP" | "RENAME" | "TRUNCATE"
    );
    unguarded(Unguarded::NotParsed, ddl)
}

fn unguarded(reason: Unguarded, changes_schema: bool) -> Effect {
    Effect::Unguarded {
        reason,
        changes_schema,
    }
}

fn simple_name(backend: Backend, kind: Kind, ident: &Ident) -> Name {
    Name {
        namespace: None,
        key: ident_key(backend, kind, ident),
        shown: ident.value.clone(),
    }
}

/// An identifier of a statement as the backend compares it (see [`Schema::ident`]).
fn ident_key(backend: Backend, kind: Kind, ident: &Ident) -> String {
    Schema::ident(backend, kind, &ident.value, ident.quote_style.is_some())
}

struct Reader {
    backend: Backend,
}

impl Reader {
    fn name(&self, kind: Kind, name: &ObjectName) -> Option<Name> {
        let idents: Vec<&Ident> = name
            .0
            .iter()
            .map(|part| match part {
                ObjectNamePart::Identifier(ident) => Some(ident),
                ObjectNamePart::Function(_) => None,
            })
            .collect::<Option<_>>()?;
        match idents.as_slice() {
            [ident] => Some(simple_name(self.backend, kind, ident)),
            [namespace, ident] => Some(Name {
                namespace: Some(ident_key(self.backend, Kind::Table, namespace)),
                key: ident_key(self.backend, kind, ident),
                shown: format!("{}.{}", namespace.value, ident.value),
            }),
            _ => None,
        }
    }

    /// A trigger's name as the catalog keys it: PostgreSQL's trigger names belong to
    /// their table (`posts.set_updated_at`), the others' to the schema.
    fn trigger(&self, name: Name, table: Option<&Name>) -> Name {
        match table {
            Some(table) if self.backend.dialect().triggers_per_table() => Name {
                key: format!("{}.{}", table.key, name.key),
                shown: format!("{} on {}", name.shown, table.shown),
                namespace: table.namespace.clone().or(name.namespace),
            },
            _ => name,
        }
    }

    fn ident(&self, kind: Kind, ident: &Ident) -> Name {
        simple_name(self.backend, kind, ident)
    }

    fn names(&self, kind: Kind, names: &[ObjectName]) -> Option<Vec<Name>> {
        names.iter().map(|n| self.name(kind, n)).collect()
    }

    fn column(&self, column: &ColumnDef) -> ColumnSpec {
        let not_null = column.options.iter().any(|o| {
            matches!(
                o.option,
                ColumnOption::NotNull | ColumnOption::PrimaryKey(_)
            )
        });
        ColumnSpec {
            key: ident_key(self.backend, Kind::Column, &column.name),
            name: column.name.value.clone(),
            data_type: normalize_type(&column.data_type.to_string()),
            nullable: !not_null,
        }
    }

    fn constraint_name(&self, constraint: &TableConstraint) -> Option<Name> {
        let name = match constraint {
            TableConstraint::Unique(c) => c.name.as_ref(),
            TableConstraint::PrimaryKey(c) => c.name.as_ref(),
            TableConstraint::ForeignKey(c) => c.name.as_ref(),
            TableConstraint::Check(c) => c.name.as_ref(),
            _ => None,
        }?;
        Some(self.ident(Kind::Constraint, name))
    }

    fn statement(&self, statement: &Statement) -> Effect {
        let guarded = self.guarded(statement);
        guarded.unwrap_or_else(|| match statement {
            Statement::Insert(_)
            | Statement::Update(_)
            | Statement::Delete(_)
            | Statement::Query(_)
            | Statement::Set(_) => unguarded(Unguarded::NotDdl, false),
            Statement::CreateSchema { .. } | Statement::Comment { .. } => {
                unguarded(Unguarded::NotModelled, false)
            }
            _ => unguarded(Unguarded::NotModelled, true),
        })
    }

    /// The effect of a statement guards know, or `None` for one they do not.
    fn guarded(&self, statement: &Statement) -> Option<Effect> {
        Some(match statement {
            Statement::CreateTable(CreateTable {
                name,
                columns,
                constraints,
                if_not_exists,
                or_replace,
                query,
                ..
            }) => {
                if *if_not_exists {
                    return Some(unguarded(Unguarded::IfExists, true));
                }
                if *or_replace || query.is_some() {
                    return None;
                }
                Effect::CreateTable {
                    table: self.name(Kind::Table, name)?,
                    columns: columns.iter().map(|c| self.column(c)).collect(),
                    constraints: constraints
                        .iter()
                        .filter_map(|c| self.constraint_name(c))
                        .collect(),
                }
            }
            Statement::AlterTable(alter) => {
                if alter.if_exists {
                    return Some(unguarded(Unguarded::IfExists, true));
                }
                let ops = alter
                    .operations
                    .iter()
                    .map(|op| self.alter_op(op))
                    .collect::<Option<Vec<_>>>();
                match ops {
                    Some(ops) => Effect::AlterTable {
                        table: self.name(Kind::Table, &alter.name)?,
                        ops,
                    },
                    None => unguarded(Unguarded::IfExists, true),
                }
            }
            Statement::RenameTable(renames) => Effect::RenameTables(
                renames
                    .iter()
                    .map(|r| {
                        Some((
                            self.name(Kind::Table, &r.old_name)?,
                            self.name(Kind::Table, &r.new_name)?,
                        ))
                    })
                    .collect::<Option<_>>()?,
            ),
            Statement::CreateIndex(index) => {
                if index.if_not_exists {
                    return Some(unguarded(Unguarded::IfExists, true));
                }
                Effect::CreateIndex {
                    index: self.name(Kind::Index, index.name.as_ref()?)?,
                    table: self.name(Kind::Table, &index.table_name)?,
                    columns: index
                        .columns
                        .iter()
                        .map(|c| match &c.column.expr {
                            sqlparser::ast::Expr::Identifier(ident) => {
                                ident_key(self.backend, Kind::Column, ident)
                            }
                            other => other.to_string(),
                        })
                        .collect(),
                    unique: index.unique,
                }
            }
            Statement::CreateView(view) => {
                if view.if_not_exists {
                    return Some(unguarded(Unguarded::IfExists, true));
                }
                if view.or_replace || view.or_alter {
                    return Some(unguarded(Unguarded::OrReplace, true));
                }
                Effect::CreateObject(ObjectKind::View, self.name(Kind::Table, &view.name)?)
            }
            Statement::CreateTrigger(trigger) => {
                if trigger.or_replace || trigger.or_alter {
                    return Some(unguarded(Unguarded::OrReplace, true));
                }
                let name = self.name(Kind::Trigger, &trigger.name)?;
                let table = self.name(Kind::Table, &trigger.table_name)?;
                Effect::CreateObject(ObjectKind::Trigger, self.trigger(name, Some(&table)))
            }
            Statement::CreateType { name, .. } => {
                Effect::CreateObject(ObjectKind::Type, self.name(Kind::Routine, name)?)
            }
            Statement::CreateFunction(function) => {
                if function.if_not_exists {
                    return Some(unguarded(Unguarded::IfExists, true));
                }
                if function.or_replace || function.or_alter {
                    return Some(unguarded(Unguarded::OrReplace, true));
                }
                Effect::CreateObject(
                    ObjectKind::Function,
                    self.name(Kind::Routine, &function.name)?,
                )
            }
            Statement::Drop {
                object_type,
                if_exists,
                names,
                table,
                ..
            } => {
                if *if_exists {
                    return Some(unguarded(Unguarded::IfExists, true));
                }
                match object_type {
                    ObjectType::Table => Effect::DropTable(self.names(Kind::Table, names)?),
                    ObjectType::Index => Effect::DropIndex {
                        indexes: self.names(Kind::Index, names)?,
                        table: match table {
                            Some(table) => Some(self.name(Kind::Table, table)?),
                            None => None,
                        },
                    },
                    ObjectType::View => {
                        Effect::DropObject(ObjectKind::View, self.names(Kind::Table, names)?)
                    }
                    ObjectType::Type => {
                        Effect::DropObject(ObjectKind::Type, self.names(Kind::Routine, names)?)
                    }
                    _ => return None,
                }
            }
            Statement::DropTrigger(drop) => {
                if drop.if_exists {
                    return Some(unguarded(Unguarded::IfExists, true));
                }
                let name = self.name(Kind::Trigger, &drop.trigger_name)?;
                let table = match &drop.table_name {
                    Some(table) => Some(self.name(Kind::Table, table)?),
                    None => None,
                };
                Effect::DropObject(
                    ObjectKind::Trigger,
                    vec![self.trigger(name, table.as_ref())],
                )
            }
            Statement::DropFunction(drop) => {
                if drop.if_exists {
                    return Some(unguarded(Unguarded::IfExists, true));
                }
                Effect::DropObject(
                    ObjectKind::Function,
                    drop.func_desc
                        .iter()
                        .map(|f| self.name(Kind::Routine, &f.name))
                        .collect::<Option<_>>()?,
                )
            }
            _ => return None,
        })
    }

    /// One `ALTER TABLE` operation; `None` when it carries its own `IF [NOT] EXISTS`.
    fn alter_op(&self, op: &AlterTableOperation) -> Option<AlterOp> {
        Some(match op {
            AlterTableOperation::AddColumn {
                if_not_exists,
                column_def,
                ..
            } => {
                if *if_not_exists {
                    return None;
                }
                AlterOp::AddColumn(self.column(column_def))
            }
            AlterTableOperation::DropColumn {
                column_names,
                if_exists,
                ..
            } => {
                if *if_exists {
                    return None;
                }
                match column_names.as_slice() {
                    [column] => AlterOp::DropColumn(self.ident(Kind::Column, column)),
                    _ => AlterOp::Other,
                }
            }
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => AlterOp::RenameColumn(
                self.ident(Kind::Column, old_column_name),
                self.ident(Kind::Column, new_column_name),
            ),
            AlterTableOperation::RenameTable { table_name } => {
                let (RenameTableNameKind::To(name) | RenameTableNameKind::As(name)) = table_name;
                match self.name(Kind::Table, name) {
                    Some(name) => AlterOp::RenameTable(name),
                    None => AlterOp::Other,
                }
            }
            AlterTableOperation::AddConstraint { constraint, .. } => {
                match (self.constraint_name(constraint), constraint) {
                    (Some(name), _) => AlterOp::AddConstraint(name),
                    // MySQL's `ADD UNIQUE KEY k (…)`: the key's constraint is named
                    // after its index.
                    (None, TableConstraint::Unique(unique)) => match &unique.index_name {
                        Some(name) => AlterOp::AddConstraint(self.ident(Kind::Constraint, name)),
                        None => AlterOp::Other,
                    },
                    (None, TableConstraint::Index(index)) => match &index.name {
                        Some(name) => AlterOp::AddIndex(self.ident(Kind::Index, name)),
                        None => AlterOp::Other,
                    },
                    (None, _) => AlterOp::Other,
                }
            }
            AlterTableOperation::DropConstraint {
                if_exists, name, ..
            } => {
                if *if_exists {
                    return None;
                }
                AlterOp::DropConstraint(self.ident(Kind::Constraint, name))
            }
            AlterTableOperation::DropForeignKey { name, .. } => {
                AlterOp::DropConstraint(self.ident(Kind::Constraint, name))
            }
            AlterTableOperation::DropIndex { name } => {
                AlterOp::DropIndex(self.ident(Kind::Index, name))
            }
            _ => AlterOp::Other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_drop_key_is_drop_index() {
        for sql in [
            "ALTER TABLE `nodes` DROP KEY `service`",
            "alter table nodes drop key service",
        ] {
            assert_eq!(nature(sql, Backend::Mysql), Nature::Decidable, "{sql}");
            let Effect::AlterTable { table, ops } = classify(sql, Backend::Mysql) else {
                panic!("{sql}: not read as ALTER TABLE");
            };
            assert_eq!(table.key, "nodes");
            assert!(
                matches!(ops.as_slice(), [AlterOp::DropIndex(index)] if index.key == "service"),
                "{sql}: {ops:?}"
            );
        }
        // A quoted `KEY` is a name, and only ALTER TABLE is rewritten.
        assert_eq!(
            drop_key_as_drop_index("ALTER TABLE t DROP `KEY` x", dialect(Backend::Mysql)),
            None
        );
        assert_eq!(
            drop_key_as_drop_index("SELECT 1 DROP KEY x", dialect(Backend::Mysql)),
            None
        );
    }
}
