//! Cutting a migration file into the statements the database will run.
//!
//! pelican runs, guards and reports a migration one statement at a time, so it must
//! find statement boundaries the way the server's own lexer would: a `;` inside a
//! string, a quoted identifier, a comment, a Postgres dollar-quoted body or a
//! trigger/routine body does not end a statement. Everything else about SQL is left
//! to the database; a malformed file (say, an unterminated string) is still split,
//! and the server reports the error when the statement runs.
//!
//! The splitter is a single forward pass over bytes. Every delimiter it cares about
//! is ASCII and every non-ASCII byte is treated as part of an identifier, so the
//! offsets it slices at always fall on UTF-8 character boundaries.

use crate::backend::Backend;

/// One piece of a migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The whole piece: leading whitespace and comments, the statement, its terminating `;` (if any).
    /// Concatenating `source` of all pieces, in order, gives back the input exactly.
    pub source: &'a str,
    /// Byte offset of `source` in the input.
    pub offset: usize,
    /// The statement itself, the author's bytes: from its first token (after leading whitespace and comments)
    /// to just before the terminating `;` (trailing whitespace trimmed). Empty when the piece holds only
    /// whitespace and comments (e.g. the tail of a file); callers skip those.
    pub sql: &'a str,
    /// 1-based line number, in the input, of the first character of `sql` (of `source` when `sql` is empty).
    pub line: usize,
}

impl<'a> Statement<'a> {
    /// The comment lines directly above `sql` inside `source` (only `--` / `#` line comments, text after the
    /// marker, trimmed), nearest last; a blank line between a comment and the statement breaks "directly above".
    /// Used later for explicit guard directives such as `-- pelican: skip-if table users`.
    ///
    /// A comment only counts when it has its line to itself: one that trails the previous statement's `;`
    /// belongs to that line, and a block comment (or anything else) between the comment lines and the
    /// statement breaks the run. Block comments are read unnested here, since a `Statement` does not
    /// know its backend; the difference only shows for a nested Postgres comment that itself contains `--`.
    #[must_use]
    pub fn leading_comments(&self) -> Vec<&'a str> {
        let Some(prefix) = self.prefix() else {
            return Vec::new();
        };
        let bytes = prefix.as_bytes();
        let mut run = Vec::new();
        // Whether the current line already holds something other than whitespace. A piece
        // after the first starts right after the previous `;`, mid-line.
        let mut line_used = self.offset > 0;
        let mut pos = 0;
        while let Some(&byte) = bytes.get(pos) {
            match byte {
                b'\n' => {
                    if !line_used {
                        // A blank line: what is above is not directly above.
                        run.clear();
                    }
                    line_used = false;
                    pos += 1;
                }
                _ if is_space(byte) => pos += 1,
                b'-' | b'#' => {
                    let marker = if byte == b'#' { 1 } else { 2 };
                    let end = find_byte(bytes, pos, b'\n');
                    if line_used {
                        run.clear();
                    } else {
                        run.push(prefix.get(pos + marker..end).unwrap_or_default().trim());
                    }
                    line_used = true;
                    pos = end;
                }
                b'/' => {
                    // Only whitespace and comments precede `sql`, so this is `/*`.
                    pos = bytes
                        .get(pos + 2..)
                        .and_then(|rest| rest.windows(2).position(|w| w == b"*/"))
                        .map_or(bytes.len(), |at| pos + 2 + at + 2);
                    run.clear();
                    line_used = true;
                }
                _ => {
                    // Text the backend saw as a comment that the flat reading above did not
                    // (the rest of a nested Postgres comment): not a comment line.
                    run.clear();
                    line_used = true;
                    pos += 1;
                }
            }
        }
        if line_used {
            // Something sits between the comment lines and the statement on its own line.
            run.clear();
        }
        run
    }

    /// The part of `source` before `sql`, or `None` when there is no statement (or the fields
    /// were put together by hand and do not describe one piece).
    fn prefix(&self) -> Option<&'a str> {
        if self.sql.is_empty() {
            return None;
        }
        let start = (self.sql.as_ptr() as usize).checked_sub(self.source.as_ptr() as usize)?;
        let end = start.checked_add(self.sql.len())?;
        if self.source.get(start..end)? != self.sql {
            return None;
        }
        self.source.get(..start)
    }
}

/// Splits `sql` into statements at top-level `;`, in the given backend's lexical rules.
///
/// Every byte of the input lands in exactly one piece, so callers can report positions and
/// rebuild the file; pieces holding only whitespace and comments have an empty `sql`.
#[must_use]
pub fn split(sql: &str, backend: Backend) -> Vec<Statement<'_>> {
    let mut lexer = Lexer::new(sql, backend);
    let mut lines = LineCounter {
        bytes: sql.as_bytes(),
        pos: 0,
        line: 1,
    };
    let mut statements = Vec::new();
    let mut start = 0;
    while start < sql.len() {
        let piece = next_piece(&mut lexer);
        let (text, line) = match piece.sql {
            Some((from, to)) => (
                sql[from..to].trim_end_matches(|c| u8::try_from(c).is_ok_and(is_space)),
                lines.line_at(from),
            ),
            None => ("", lines.line_at(start)),
        };
        statements.push(Statement {
            source: &sql[start..piece.end],
            offset: start,
            sql: text,
            line,
        });
        start = piece.end;
    }
    statements
}

/// Where a file ends inside something that never closes: a block comment, a string, a
/// quoted identifier or a dollar-quoted body. Returns the line it opens on and what it
/// is. Such a file is refused before it runs: whatever is sent after it (the next
/// statement, a ledger row) would be swallowed.
#[must_use]
pub fn unterminated(sql: &str, backend: Backend) -> Option<(usize, &'static str)> {
    let mut lexer = Lexer::new(sql, backend);
    while lexer.next_token().is_some() {}
    let (at, what) = lexer.open?;
    let line = 1 + sql
        .as_bytes()
        .get(..at)
        .unwrap_or_default()
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    Some((line, what))
}

/// Where one piece ends, and where its statement lies (untrimmed), if it has one.
struct Piece {
    sql: Option<(usize, usize)>,
    end: usize,
}

/// Reads one piece from the lexer's position: up to and including the `;` that ends the
/// statement, or to the end of the input.
fn next_piece(lexer: &mut Lexer<'_>) -> Piece {
    let len = lexer.bytes.len();
    let Some((first, mut token)) = lexer.next_token() else {
        return Piece {
            sql: None,
            end: len,
        };
    };
    if token == Token::Semicolon {
        return Piece {
            sql: None,
            end: lexer.pos,
        };
    }
    let mut head = Head::Start;
    let mut blocks = Blocks::default();
    let mut token_start = first;
    loop {
        match head {
            Head::Plain => {}
            Head::Routine => blocks.feed(token, lexer.word(token)),
            _ => head = head.next(token, lexer.word(token)),
        }
        if token == Token::Semicolon && blocks.depth == 0 {
            return Piece {
                sql: Some((first, token_start)),
                end: lexer.pos,
            };
        }
        match lexer.next_token() {
            Some((at, next)) => {
                token_start = at;
                token = next;
            }
            None => {
                return Piece {
                    sql: Some((first, len)),
                    end: len,
                }
            }
        }
    }
}

/// A significant token: whitespace and comments are skipped by the lexer, and the
/// contents of strings and quoted identifiers do not matter to the splitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// A keyword, identifier, number or variable, as a byte range of the input.
    Word {
        start: usize,
        end: usize,
    },
    /// A string, quoted identifier or dollar-quoted body.
    Quoted,
    Semicolon,
    /// Any other single ASCII byte.
    Punct(u8),
}

/// The backend's lexical rules, as far as they decide where a `;` can end a statement.
struct Lexer<'a> {
    bytes: &'a [u8],
    pos: usize,
    backend: Backend,
    /// Where a comment or quoted run opened that the input ended inside, and what it was.
    open: Option<(usize, &'static str)>,
}

impl<'a> Lexer<'a> {
    fn new(sql: &'a str, backend: Backend) -> Self {
        Lexer {
            bytes: sql.as_bytes(),
            pos: 0,
            backend,
            open: None,
        }
    }

    /// Notes that the run opened at `start` reached the end of the input.
    fn unclosed(&mut self, start: usize, what: &'static str) {
        if self.open.is_none() {
            self.open = Some((start, what));
        }
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    /// The text of a word token, for keyword matching.
    fn word(&self, token: Token) -> Option<&'a [u8]> {
        match token {
            Token::Word { start, end } => self.bytes.get(start..end),
            _ => None,
        }
    }

    /// Skips whitespace and comments and returns the next token with its start offset.
    fn next_token(&mut self) -> Option<(usize, Token)> {
        loop {
            let start = self.pos;
            let byte = self.peek(0)?;
            let token = match byte {
                _ if is_space(byte) => {
                    self.pos += 1;
                    continue;
                }
                b'-' if self.peek(1) == Some(b'-') && self.dashes_open_comment() => {
                    self.skip_line_comment();
                    continue;
                }
                b'#' if self.backend == Backend::Mysql => {
                    self.skip_line_comment();
                    continue;
                }
                b'/' if self.peek(1) == Some(b'*') => {
                    self.skip_block_comment();
                    continue;
                }
                b'\'' => {
                    self.pos += 1;
                    self.skip_quoted(b'\'', self.backend == Backend::Mysql);
                    Token::Quoted
                }
                b'"' => {
                    self.pos += 1;
                    self.skip_quoted(b'"', self.backend == Backend::Mysql);
                    Token::Quoted
                }
                b'`' => {
                    self.pos += 1;
                    self.skip_quoted(b'`', false);
                    Token::Quoted
                }
                b'[' if self.backend == Backend::Sqlite => {
                    let end = find_byte(self.bytes, self.pos, b']');
                    if end == self.bytes.len() {
                        self.unclosed(start, "a [quoted identifier]");
                    }
                    self.pos = end.saturating_add(1).min(self.bytes.len());
                    Token::Quoted
                }
                b';' => {
                    self.pos += 1;
                    Token::Semicolon
                }
                b'$' if self.backend == Backend::Postgres && self.skip_dollar_quoted() => {
                    Token::Quoted
                }
                // MySQL user variables and SQLite parameters: `@end` is not the keyword END.
                b'@' if self.backend != Backend::Postgres => self.lex_word(),
                _ if is_ident_byte(byte) => self.lex_word(),
                _ => {
                    self.pos += 1;
                    Token::Punct(byte)
                }
            };
            return Some((start, token));
        }
    }

    /// Whether the `--` at the current position starts a comment. MySQL wants whitespace
    /// or a control character after it, so that `1--1` is arithmetic.
    fn dashes_open_comment(&self) -> bool {
        self.backend != Backend::Mysql
            || self.peek(2).is_none_or(|next| next <= b' ' || next == 0x7f)
    }

    /// Moves to the end of the line; the newline itself is whitespace.
    fn skip_line_comment(&mut self) {
        self.pos = find_byte(self.bytes, self.pos, b'\n');
    }

    /// Moves past `/* … */`, counting nested openers on Postgres only. MySQL's `/*! … */`
    /// holds code the server runs, but never a statement boundary a migration should use.
    fn skip_block_comment(&mut self) {
        let nested = self.backend == Backend::Postgres;
        let mut depth = 1_usize;
        let start = self.pos;
        self.pos += 2;
        while let Some(byte) = self.peek(0) {
            if byte == b'*' && self.peek(1) == Some(b'/') {
                self.pos += 2;
                depth -= 1;
                if depth == 0 {
                    return;
                }
            } else if nested && byte == b'/' && self.peek(1) == Some(b'*') {
                self.pos += 2;
                depth = depth.saturating_add(1);
            } else {
                self.pos += 1;
            }
        }
        self.unclosed(start, "a /* comment");
    }

    /// Moves past the closing `quote` of a quoted run whose opening quote is already
    /// consumed; a doubled quote stands for itself, and so does anything after a backslash
    /// when `backslash` is set. Unterminated runs end with the input.
    fn skip_quoted(&mut self, quote: u8, backslash: bool) {
        let start = self.pos.saturating_sub(1);
        while let Some(byte) = self.peek(0) {
            if backslash && byte == b'\\' {
                // May land inside a multi-byte character; only ASCII is compared from here on.
                self.pos = (self.pos + 2).min(self.bytes.len());
            } else if byte == quote {
                self.pos += 1;
                if self.peek(0) != Some(quote) {
                    return;
                }
                self.pos += 1;
            } else {
                self.pos += 1;
            }
        }
        self.unclosed(
            start,
            if quote == b'\'' {
                "a string"
            } else {
                "a quoted identifier"
            },
        );
    }

    /// Moves past a Postgres dollar-quoted body (`$$ … $$`, `$tag$ … $tag$`) if one starts
    /// here; returns false, consuming nothing, for a `$` that is a parameter such as `$1`.
    fn skip_dollar_quoted(&mut self) -> bool {
        let after = self.pos + 1;
        let rest = self.bytes.get(after..).unwrap_or_default();
        let tag_len = rest.iter().take_while(|&&b| is_tag_byte(b)).count();
        if rest.first().is_some_and(u8::is_ascii_digit) || rest.get(tag_len) != Some(&b'$') {
            return false;
        }
        let body = after + tag_len + 1;
        let start = self.pos;
        let delimiter = self.bytes.get(self.pos..body).unwrap_or_default();
        let end = self
            .bytes
            .get(body..)
            .and_then(|text| text.windows(delimiter.len()).position(|w| w == delimiter))
            .map(|at| body + at + delimiter.len());
        match end {
            Some(end) => self.pos = end,
            None => {
                self.pos = self.bytes.len();
                self.unclosed(start, "a dollar-quoted body");
            }
        }
        true
    }

    /// Lexes a word, or a Postgres `E'…'` string whose prefix turned out to be one.
    fn lex_word(&mut self) -> Token {
        let start = self.pos;
        while self.peek(0) == Some(b'@') {
            self.pos += 1;
        }
        while self.peek(0).is_some_and(is_ident_byte) {
            self.pos += 1;
        }
        let escape_prefix = matches!(self.bytes.get(start..self.pos), Some(b"e" | b"E"));
        if self.backend == Backend::Postgres && escape_prefix && self.peek(0) == Some(b'\'') {
            self.pos += 1;
            self.skip_quoted(b'\'', true);
            return Token::Quoted;
        }
        Token::Word {
            start,
            end: self.pos,
        }
    }
}

/// How far the statement's first tokens match `CREATE [OR REPLACE] [DEFINER = …]
/// [TEMP|TEMPORARY] TRIGGER|PROCEDURE|FUNCTION|EVENT`, the statements whose bodies may hold
/// `;` outside any quotes. Postgres's `CONSTRAINT TRIGGER` and MariaDB's `AGGREGATE FUNCTION`
/// are accepted too: treating a statement as a routine is harmless when it has no body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    Start,
    /// After `CREATE`, `OR REPLACE`, `TEMP` or a whole `DEFINER` clause.
    Create,
    Or,
    /// After `DEFINER`, expecting `=`.
    Definer,
    /// Expecting the user (a word such as `CURRENT_USER`, or a quoted name).
    DefinerUser,
    /// After the user: `@host`, `()` or the next keyword.
    DefinerAfterUser,
    DefinerHost,
    DefinerParen,
    Routine,
    Plain,
}

impl Head {
    fn next(self, token: Token, word: Option<&[u8]>) -> Head {
        let is = |keyword: &[u8]| word.is_some_and(|w| w.eq_ignore_ascii_case(keyword));
        match self {
            Head::Start if is(b"create") => Head::Create,
            Head::Create => match word {
                Some(word) => Head::after_create(word),
                None => Head::Plain,
            },
            Head::Or if is(b"replace") => Head::Create,
            Head::Definer if token == Token::Punct(b'=') => Head::DefinerUser,
            Head::DefinerUser if word.is_some() || token == Token::Quoted => Head::DefinerAfterUser,
            Head::DefinerHost if word.is_some() || token == Token::Quoted => Head::Create,
            Head::DefinerAfterUser => match (token, word) {
                (Token::Punct(b'@'), _) | (_, Some(b"@")) => Head::DefinerHost,
                // `user@host` unquoted: the host came as a MySQL variable-like word.
                (_, Some([b'@', ..])) => Head::Create,
                (Token::Punct(b'('), _) => Head::DefinerParen,
                (_, Some(word)) => Head::after_create(word),
                _ => Head::Plain,
            },
            Head::DefinerParen if token == Token::Punct(b')') => Head::Create,
            _ => Head::Plain,
        }
    }

    fn after_create(word: &[u8]) -> Head {
        const MODIFIERS: [&[u8]; 4] = [b"temp", b"temporary", b"constraint", b"aggregate"];
        const ROUTINES: [&[u8]; 4] = [b"trigger", b"procedure", b"function", b"event"];
        let is = |keyword: &&[u8]| word.eq_ignore_ascii_case(keyword);
        if word.eq_ignore_ascii_case(b"or") {
            Head::Or
        } else if word.eq_ignore_ascii_case(b"definer") {
            Head::Definer
        } else if MODIFIERS.iter().any(is) {
            Head::Create
        } else if ROUTINES.iter().any(is) {
            Head::Routine
        } else {
            Head::Plain
        }
    }
}

/// BEGIN/END nesting inside a trigger or routine body, where only a `;` at depth 0 ends
/// the statement.
#[derive(Debug, Default)]
struct Blocks {
    depth: usize,
    /// The last token was END; whether it closes a level depends on the next one.
    pending_end: bool,
    /// The last token was a BEGIN that opened a level, undone by `BEGIN TRANSACTION|WORK`.
    after_begin: bool,
    /// The last token was `.`, so a word now is a column such as `new.end`, not a keyword.
    after_dot: bool,
}

impl Blocks {
    fn feed(&mut self, token: Token, word: Option<&[u8]>) {
        let keyword = if self.after_dot { None } else { word };
        self.after_dot = token == Token::Punct(b'.');
        let is = |expected: &[u8]| keyword.is_some_and(|w| w.eq_ignore_ascii_case(expected));
        if std::mem::take(&mut self.pending_end) {
            const NOT_BLOCKS: [&[u8]; 5] = [b"if", b"loop", b"while", b"repeat", b"for"];
            if NOT_BLOCKS.into_iter().any(is) {
                return;
            }
            self.depth = self.depth.saturating_sub(1);
            if is(b"case") {
                return;
            }
        }
        if std::mem::take(&mut self.after_begin) && (is(b"transaction") || is(b"work")) {
            self.depth = self.depth.saturating_sub(1);
            return;
        }
        if is(b"begin") {
            self.depth = self.depth.saturating_add(1);
            self.after_begin = true;
        } else if is(b"case") {
            self.depth = self.depth.saturating_add(1);
        } else if is(b"end") {
            self.pending_end = true;
        }
    }
}

/// Line numbers for increasing offsets, counting each newline once.
struct LineCounter<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl LineCounter<'_> {
    fn line_at(&mut self, at: usize) -> usize {
        if at < self.pos {
            self.pos = 0;
            self.line = 1;
        }
        let newlines = self
            .bytes
            .get(self.pos..at)
            .unwrap_or_default()
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.line += newlines;
        self.pos = at;
        self.line
    }
}

/// SQL whitespace as the servers lex it (ASCII only).
fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Bytes that continue an identifier; non-ASCII bytes count so that multi-byte
/// characters are never split and `éend` is not END.
fn is_ident_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$' || byte >= 0x80
}

/// Bytes of a dollar-quote tag: identifier bytes without `$`.
fn is_tag_byte(byte: u8) -> bool {
    byte != b'$' && is_ident_byte(byte)
}

/// The offset of the first `needle` at or after `from`, or the end of `bytes`.
fn find_byte(bytes: &[u8], from: usize, needle: u8) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| b == needle))
        .map_or(bytes.len(), |at| from + at)
}

#[cfg(test)]
mod unterminated_tests {
    use super::*;

    #[test]
    fn a_file_ending_inside_a_comment_string_or_quote_is_found() {
        type Case = (&'static str, Backend, Option<(usize, &'static str)>);
        let cases: [Case; 9] = [
            (
                "SELECT 1;\n/* note",
                Backend::Sqlite,
                Some((2, "a /* comment")),
            ),
            ("SELECT 'a;\n", Backend::Postgres, Some((1, "a string"))),
            (
                "SELECT \"a;\n",
                Backend::Postgres,
                Some((1, "a quoted identifier")),
            ),
            (
                "SELECT `a;\n",
                Backend::Mysql,
                Some((1, "a quoted identifier")),
            ),
            (
                "\nSELECT $$ a;",
                Backend::Postgres,
                Some((2, "a dollar-quoted body")),
            ),
            (
                "SELECT [a;",
                Backend::Sqlite,
                Some((1, "a [quoted identifier]")),
            ),
            (
                "SELECT 1 -- a line comment at the end",
                Backend::Postgres,
                None,
            ),
            ("SELECT 1 # MySQL's line comment", Backend::Mysql, None),
            (
                "/* a /* nested */ comment */ SELECT 1;",
                Backend::Postgres,
                None,
            ),
        ];
        for (sql, backend, expected) in cases {
            assert_eq!(unterminated(sql, backend), expected, "{sql}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALL: [Backend; 3] = [Backend::Sqlite, Backend::Postgres, Backend::Mysql];

    /// The non-empty statements, which is what callers run.
    fn sqls(input: &str, backend: Backend) -> Vec<&str> {
        split(input, backend)
            .into_iter()
            .map(|s| s.sql)
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// The checks every split must pass, whatever the input.
    fn assert_lossless(input: &str, backend: Backend) {
        let pieces = split(input, backend);
        let mut offset = 0;
        for piece in &pieces {
            assert_eq!(piece.offset, offset, "{backend}: {input:?}");
            assert_eq!(&input[offset..offset + piece.source.len()], piece.source);
            assert!(!piece.source.is_empty());
            let sql_at = if piece.sql.is_empty() {
                offset
            } else {
                let within = piece.sql.as_ptr() as usize - piece.source.as_ptr() as usize;
                assert!(within + piece.sql.len() <= piece.source.len());
                assert_eq!(
                    piece.sql,
                    piece
                        .sql
                        .trim_matches(|c| c == ' ' || c == '\n' || c == '\t' || c == '\r')
                );
                offset + within
            };
            assert_eq!(piece.line, 1 + input[..sql_at].matches('\n').count());
            offset += piece.source.len();
        }
        assert_eq!(offset, input.len());
        assert_eq!(pieces.iter().map(|p| p.source).collect::<String>(), input);
    }

    #[test]
    fn empty_input_gives_no_pieces() {
        for backend in ALL {
            assert!(split("", backend).is_empty());
        }
    }

    #[test]
    fn splits_at_semicolons_outside_strings() {
        let input =
            "CREATE TABLE a (x TEXT DEFAULT 'a;b');\nINSERT INTO a VALUES ('it''s; fine');\n";
        for backend in ALL {
            assert_eq!(
                sqls(input, backend),
                [
                    "CREATE TABLE a (x TEXT DEFAULT 'a;b')",
                    "INSERT INTO a VALUES ('it''s; fine')"
                ]
            );
        }
    }

    #[test]
    fn source_keeps_leading_comments_and_terminator() {
        let input = "SELECT 1;\n-- two\nSELECT 2 ;";
        let pieces = split(input, Backend::Sqlite);
        assert_eq!(
            pieces,
            [
                Statement {
                    source: "SELECT 1;",
                    offset: 0,
                    sql: "SELECT 1",
                    line: 1
                },
                Statement {
                    source: "\n-- two\nSELECT 2 ;",
                    offset: 9,
                    sql: "SELECT 2",
                    line: 3
                },
            ]
        );
    }

    #[test]
    fn final_statement_without_semicolon_is_kept() {
        for backend in ALL {
            let pieces = split("SELECT 1; SELECT 2  \n", backend);
            assert_eq!(pieces.len(), 2);
            assert_eq!(pieces[1].sql, "SELECT 2");
            assert_eq!(pieces[1].source, " SELECT 2  \n");
        }
    }

    #[test]
    fn trailing_whitespace_and_comments_form_an_empty_tail_piece() {
        let pieces = split("SELECT 1;\n-- done\n/* really */\n", Backend::Postgres);
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[1].sql, "");
        assert_eq!(pieces[1].source, "\n-- done\n/* really */\n");
        assert_eq!(pieces[1].offset, 9);
        assert_eq!(pieces[1].line, 1);
    }

    #[test]
    fn empty_statement_between_semicolons_is_an_empty_piece() {
        let pieces = split("SELECT 1;; /* c */ ;SELECT 2;", Backend::Sqlite);
        let got: Vec<_> = pieces.iter().map(|p| (p.source, p.sql)).collect();
        assert_eq!(
            got,
            [
                ("SELECT 1;", "SELECT 1"),
                (";", ""),
                (" /* c */ ;", ""),
                ("SELECT 2;", "SELECT 2")
            ]
        );
    }

    #[test]
    fn keeps_semicolon_inside_double_quoted_identifier() {
        for backend in ALL {
            assert_eq!(
                sqls(r#"SELECT "a;""b" FROM t; SELECT 2"#, backend),
                [r#"SELECT "a;""b" FROM t"#, "SELECT 2"]
            );
        }
    }

    #[test]
    fn keeps_semicolon_inside_backticks() {
        for backend in ALL {
            assert_eq!(
                sqls("SELECT `a;``b`; SELECT 2", backend),
                ["SELECT `a;``b`", "SELECT 2"]
            );
        }
    }

    #[test]
    fn sqlite_brackets_quote_identifiers() {
        assert_eq!(
            sqls("SELECT [a;b]; SELECT 2", Backend::Sqlite),
            ["SELECT [a;b]", "SELECT 2"]
        );
    }

    #[test]
    fn postgres_brackets_are_subscripts() {
        assert_eq!(
            sqls("SELECT a[1]; SELECT '[';", Backend::Postgres),
            ["SELECT a[1]", "SELECT '['"]
        );
        assert_eq!(
            sqls("SELECT [a; SELECT 2", Backend::Postgres),
            ["SELECT [a", "SELECT 2"]
        );
    }

    #[test]
    fn mysql_backslash_escapes_quotes_in_strings() {
        let input = r#"SELECT 'it\'s;', "say \"hi;\"", 'a\\'; SELECT 2"#;
        assert_eq!(
            sqls(input, Backend::Mysql),
            [r#"SELECT 'it\'s;', "say \"hi;\"", 'a\\'"#, "SELECT 2"]
        );
    }

    #[test]
    fn backslash_is_ordinary_in_sqlite_and_postgres_strings() {
        let input = r"SELECT 'a\'; SELECT 2; SELECT '\'";
        for backend in [Backend::Sqlite, Backend::Postgres] {
            assert_eq!(
                sqls(input, backend),
                [r"SELECT 'a\'", "SELECT 2", r"SELECT '\'"]
            );
        }
        // On MySQL the quote is escaped, so the string runs to the end.
        assert_eq!(sqls(input, Backend::Mysql), [input]);
    }

    #[test]
    fn postgres_escape_strings_honour_backslashes() {
        let input = r"SELECT E'it\'s;', e'\\'; SELECT 2";
        assert_eq!(
            sqls(input, Backend::Postgres),
            [r"SELECT E'it\'s;', e'\\'", "SELECT 2"]
        );
        // A word that merely ends in e is not a prefix.
        assert_eq!(
            sqls(r"SELECT note'\'; SELECT 2", Backend::Postgres),
            [r"SELECT note'\'", "SELECT 2"]
        );
    }

    #[test]
    fn line_comment_hides_semicolon() {
        for backend in ALL {
            assert_eq!(
                sqls("SELECT 1 -- not; here\n, 2; SELECT 3", backend),
                ["SELECT 1 -- not; here\n, 2", "SELECT 3"]
            );
        }
    }

    #[test]
    fn mysql_double_dash_needs_whitespace_to_comment() {
        let input = "SELECT 1 --1;\nSELECT 2";
        assert_eq!(sqls(input, Backend::Mysql), ["SELECT 1 --1", "SELECT 2"]);
        assert_eq!(sqls(input, Backend::Sqlite), [input]);
        assert_eq!(sqls(input, Backend::Postgres), [input]);
        assert_eq!(
            sqls("SELECT 1 --\t;\nSELECT 2; SELECT 3 --", Backend::Mysql),
            ["SELECT 1 --\t;\nSELECT 2", "SELECT 3 --"]
        );
    }

    #[test]
    fn mysql_hash_comment_hides_semicolon() {
        let input = "SELECT 1 # not; here\n; SELECT 2";
        assert_eq!(
            sqls(input, Backend::Mysql),
            ["SELECT 1 # not; here", "SELECT 2"]
        );
    }

    #[test]
    fn hash_is_an_operator_outside_mysql() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            assert_eq!(
                sqls("SELECT 1 # 2; SELECT 3", backend),
                ["SELECT 1 # 2", "SELECT 3"]
            );
        }
    }

    #[test]
    fn block_comment_hides_semicolon() {
        for backend in ALL {
            assert_eq!(
                sqls("SELECT /* a; b */ 1; /**/SELECT /*/;*/ 2", backend),
                ["SELECT /* a; b */ 1", "SELECT /*/;*/ 2"]
            );
        }
    }

    #[test]
    fn postgres_block_comments_nest() {
        let input = "SELECT /* a /* b */ still; */ 1; SELECT 2";
        assert_eq!(
            sqls(input, Backend::Postgres),
            ["SELECT /* a /* b */ still; */ 1", "SELECT 2"]
        );
        assert_eq!(
            sqls(input, Backend::Sqlite),
            ["SELECT /* a /* b */ still", "*/ 1", "SELECT 2"]
        );
    }

    #[test]
    fn mysql_executable_comment_is_a_comment() {
        assert_eq!(
            sqls("SELECT 1 /*!50100 ; */; SELECT 2", Backend::Mysql),
            ["SELECT 1 /*!50100 ; */", "SELECT 2"]
        );
    }

    #[test]
    fn unterminated_quotes_and_comments_run_to_end_of_input() {
        let inputs = [
            "SELECT 'abc; SELECT 2;",
            "SELECT \"abc; SELECT 2;",
            "SELECT `abc; SELECT 2;",
            "SELECT /* abc; SELECT 2;",
            "SELECT 1 -- abc; SELECT 2;",
            "SELECT 'abc\\",
        ];
        for backend in ALL {
            for input in inputs {
                assert_eq!(sqls(input, backend), [input], "{backend}: {input}");
                assert_lossless(input, backend);
            }
        }
        assert_eq!(sqls("SELECT [a; b", Backend::Sqlite), ["SELECT [a; b"]);
        assert_eq!(
            sqls("SELECT $x$ a; b", Backend::Postgres),
            ["SELECT $x$ a; b"]
        );
        assert_eq!(
            sqls("SELECT /* /* */ a; b", Backend::Postgres),
            ["SELECT /* /* */ a; b"]
        );
        assert_eq!(sqls("SELECT E'\\", Backend::Postgres), ["SELECT E'\\"]);
    }

    #[test]
    fn keeps_semicolon_inside_dollar_quoted_body() {
        let input = "DO $$ BEGIN PERFORM 1; END $$; DO $fn$ SELECT '$$;'; $fn$; SELECT 3";
        assert_eq!(
            sqls(input, Backend::Postgres),
            [
                "DO $$ BEGIN PERFORM 1; END $$",
                "DO $fn$ SELECT '$$;'; $fn$",
                "SELECT 3"
            ]
        );
    }

    #[test]
    fn dollar_in_identifier_or_parameter_is_not_a_dollar_quote() {
        assert_eq!(
            sqls(
                "SELECT a$x$ FROM t; SELECT $1, $2; SELECT 3",
                Backend::Postgres
            ),
            ["SELECT a$x$ FROM t", "SELECT $1, $2", "SELECT 3"]
        );
        // The tag may not start with a digit.
        assert_eq!(
            sqls("SELECT $1$; SELECT 2", Backend::Postgres),
            ["SELECT $1$", "SELECT 2"]
        );
    }

    #[test]
    fn dollar_quotes_are_postgres_only() {
        for backend in [Backend::Sqlite, Backend::Mysql] {
            assert_eq!(
                sqls("SELECT $$; SELECT $$", backend),
                ["SELECT $$", "SELECT $$"]
            );
        }
    }

    #[test]
    fn sqlite_trigger_body_with_case_is_one_statement() {
        let trigger = "CREATE TRIGGER trg AFTER INSERT ON t BEGIN UPDATE t SET x = CASE WHEN new.a THEN 1 ELSE 2 END; INSERT INTO log VALUES (1); END";
        let input = format!("{trigger};\nSELECT 1;");
        assert_eq!(sqls(&input, Backend::Sqlite), [trigger, "SELECT 1"]);
    }

    #[test]
    fn sqlite_temp_trigger_with_comments_before_keywords() {
        let trigger = "create /* c */ temp\n-- c\ntrigger if not exists trg after delete on t begin delete from u; end";
        let input = format!("{trigger}; select 1");
        assert_eq!(sqls(&input, Backend::Sqlite), [trigger, "select 1"]);
    }

    #[test]
    fn trigger_keywords_match_whole_words_only() {
        let trigger = "CREATE TRIGGER trg AFTER INSERT ON t BEGIN UPDATE t SET end_at = new.begin_at, x = new.end, y = \"end\", z = 'case'; END";
        let input = format!("{trigger}; SELECT 1");
        assert_eq!(sqls(&input, Backend::Sqlite), [trigger, "SELECT 1"]);
    }

    #[test]
    fn mysql_trigger_with_end_if_is_one_statement() {
        let trigger = "CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW BEGIN IF NEW.a < 0 THEN SET NEW.a = 0; END IF; END";
        let input = format!("{trigger};\nINSERT INTO t VALUES (1);");
        assert_eq!(
            sqls(&input, Backend::Mysql),
            [trigger, "INSERT INTO t VALUES (1)"]
        );
    }

    #[test]
    fn mysql_procedure_with_definer_loops_case_and_labels() {
        let procedure = "CREATE OR REPLACE DEFINER = `admin`@`localhost` PROCEDURE p(IN n INT)\n\
            body: BEGIN\n\
              DECLARE i INT DEFAULT 0;\n\
              WHILE i < n DO SET i = i + 1; END WHILE;\n\
              l: LOOP LEAVE l; END LOOP l;\n\
              REPEAT SET i = i - 1; UNTIL i = 0 END REPEAT;\n\
              CASE n WHEN 1 THEN SELECT 1; ELSE SELECT 2; END CASE;\n\
              BEGIN SELECT @end; END;\n\
            END body";
        let input = format!("{procedure};\nCALL p(1);");
        assert_eq!(sqls(&input, Backend::Mysql), [procedure, "CALL p(1)"]);
    }

    #[test]
    fn mysql_definer_forms_are_recognised() {
        for definer in [
            "'root'@'%'",
            "root@localhost",
            "CURRENT_USER",
            "CURRENT_USER()",
            "`u`@`h`",
        ] {
            let event = format!("CREATE DEFINER={definer} EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; END");
            let input = format!("{event}; SELECT 1");
            assert_eq!(
                sqls(&input, Backend::Mysql),
                [event.as_str(), "SELECT 1"],
                "{definer}"
            );
        }
    }

    #[test]
    fn postgres_function_with_dollar_body_ends_at_its_semicolon() {
        let function = "CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN NEW.x := 1; RETURN NEW; END; $body$ LANGUAGE plpgsql";
        let plain = "CREATE OR REPLACE FUNCTION g() RETURNS int AS $$ select 1 $$ LANGUAGE sql";
        let input = format!("{function};\n{plain};\nSELECT 1;");
        assert_eq!(
            sqls(&input, Backend::Postgres),
            [function, plain, "SELECT 1"]
        );
    }

    #[test]
    fn postgres_begin_atomic_body_is_one_statement() {
        let function = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END";
        let input = format!("{function}; SELECT 3");
        assert_eq!(sqls(&input, Backend::Postgres), [function, "SELECT 3"]);
    }

    #[test]
    fn begin_and_end_outside_routines_split_normally() {
        for backend in ALL {
            assert_eq!(
                sqls(
                    "BEGIN; CREATE TABLE begin_end (x INT); END; SELECT CASE WHEN 1 THEN 2 END;",
                    backend
                ),
                [
                    "BEGIN",
                    "CREATE TABLE begin_end (x INT)",
                    "END",
                    "SELECT CASE WHEN 1 THEN 2 END"
                ]
            );
        }
    }

    #[test]
    fn begin_transaction_does_not_open_a_block() {
        let input = "CREATE TRIGGER trg AFTER INSERT ON t BEGIN TRANSACTION; SELECT 1";
        assert_eq!(
            sqls(input, Backend::Sqlite),
            [
                "CREATE TRIGGER trg AFTER INSERT ON t BEGIN TRANSACTION",
                "SELECT 1"
            ]
        );
    }

    #[test]
    fn line_numbers_point_at_first_token() {
        let input = "-- header\n\nCREATE TABLE a (x INT);\r\n/* two\nlines */ SELECT\n1;\n\n";
        let pieces = split(input, Backend::Sqlite);
        let got: Vec<_> = pieces.iter().map(|p| (p.line, p.sql)).collect();
        assert_eq!(
            got,
            [(3, "CREATE TABLE a (x INT)"), (5, "SELECT\n1"), (6, "")]
        );
    }

    #[test]
    fn offsets_locate_each_piece() {
        let input = "SELECT 'é';SELECT '日本'; ";
        let pieces = split(input, Backend::Postgres);
        let offsets: Vec<_> = pieces.iter().map(|p| p.offset).collect();
        assert_eq!(offsets, [0, 12, 28]);
        for piece in &pieces {
            assert_eq!(
                &input[piece.offset..piece.offset + piece.source.len()],
                piece.source
            );
        }
    }

    #[test]
    fn non_ascii_text_is_never_cut() {
        let input = "INSERT INTO «t» VALUES ('ü;ß'); SELECT é‿end FROM 表;";
        for backend in ALL {
            assert_eq!(
                sqls(input, backend),
                ["INSERT INTO «t» VALUES ('ü;ß')", "SELECT é‿end FROM 表"]
            );
            assert_lossless(input, backend);
        }
    }

    #[test]
    fn leading_comments_directly_above_statement() {
        let input = "SELECT 1;\n-- unrelated\n\n-- pelican: skip-if table users\n--   second  \nCREATE TABLE users (id INT);";
        let pieces = split(input, Backend::Sqlite);
        assert_eq!(pieces[0].leading_comments(), Vec::<&str>::new());
        assert_eq!(
            pieces[1].leading_comments(),
            ["pelican: skip-if table users", "second"]
        );
    }

    #[test]
    fn leading_comments_include_mysql_hash_comments() {
        let pieces = split("# one\n-- two\nSELECT 1", Backend::Mysql);
        assert_eq!(pieces[0].leading_comments(), ["one", "two"]);
    }

    #[test]
    fn leading_comments_stop_at_block_comments_and_blank_lines() {
        let cases = [
            "-- a\n/* b */\nSELECT 1",
            "-- a\n\nSELECT 1",
            "-- a\n   \t\nSELECT 1",
            "-- a\n/* b */ SELECT 1",
            "/* x\n-- inside */\nSELECT 1",
        ];
        for input in cases {
            let pieces = split(input, Backend::Postgres);
            assert_eq!(
                pieces[0].leading_comments(),
                Vec::<&str>::new(),
                "{input:?}"
            );
        }
        let pieces = split("/* a */\n-- b\n  SELECT 1", Backend::Postgres);
        assert_eq!(pieces[0].leading_comments(), ["b"]);
    }

    #[test]
    fn leading_comments_ignore_comment_trailing_previous_statement() {
        let pieces = split(
            "SELECT 1; -- about one\nSELECT 2;\n-- about three\nSELECT 3",
            Backend::Sqlite,
        );
        assert_eq!(pieces[1].leading_comments(), Vec::<&str>::new());
        assert_eq!(pieces[2].leading_comments(), ["about three"]);
    }

    #[test]
    fn leading_comments_of_empty_piece_are_empty() {
        let pieces = split("SELECT 1;\n-- tail\n", Backend::Sqlite);
        assert!(pieces[1].leading_comments().is_empty());
    }

    #[test]
    fn leading_comments_never_panic_on_hand_built_statements() {
        let statement = Statement {
            source: "-x",
            offset: 0,
            sql: "zz",
            line: 1,
        };
        assert!(statement.leading_comments().is_empty());
        // Not a piece `split` could produce: the marker is cut short mid-character.
        let source = "-é\n--";
        let statement = Statement {
            source,
            offset: 0,
            sql: &source[4..],
            line: 1,
        };
        let _ = statement.leading_comments();
    }

    fn backend() -> impl Strategy<Value = Backend> {
        prop_oneof![
            Just(Backend::Sqlite),
            Just(Backend::Postgres),
            Just(Backend::Mysql)
        ]
    }

    /// Text that exercises every lexical form, including broken ones.
    fn sqlish() -> impl Strategy<Value = String> {
        let fragment = prop_oneof![
            prop::sample::select(vec![
                "select", "create", "trigger", "function", "or", "replace", "definer", "=", "@",
                "begin", "end", "case", "if", "work", ";", ";", "'", "''", "\"", "`", "[", "]",
                "--", "-", "#", "/*", "*/", "/", "*", "$$", "$a$", "$", "$1", "e'", "E", "\\",
                "\n", "\r\n", " ", "\t", ".", "(", ")", "é", "日本", "\u{0}", "\u{7f}",
            ])
            .prop_map(String::from),
            "\\PC{0,3}",
        ];
        prop::collection::vec(fragment, 0..40).prop_map(|parts| parts.concat())
    }

    /// A statement with no top-level `;`, whose `;`s all sit inside quotes, comments or
    /// bodies. `block_words` allows stray BEGIN/END, which only plain statements can hold.
    fn safe_statement(backend: Backend, block_words: bool) -> impl Strategy<Value = String> {
        let mut fragments = vec![
            "x",
            "t1",
            "42",
            "select",
            "from",
            "'a;b'",
            "'it''s;'",
            "''",
            "\"c;d\"",
            "`e;f`",
            "(",
            ")",
            ",",
            "=",
            "é",
            "'日;本'",
            "a$b",
            "-1",
            "/* ; */",
        ];
        fragments.extend(["\"q\"\"u;\"", "/* -- ; */", "-- c; 'x\n"]);
        if block_words {
            fragments.extend(["end", "begin", "case"]);
        }
        match backend {
            Backend::Postgres => fragments.extend([
                "$$ ; $$",
                "$t$ ; $$ ; $t$",
                "E'\\';'",
                "e'\\\\'",
                "/* /* ; */ ; */",
                "$1",
                "a[1]",
            ]),
            Backend::Mysql => {
                fragments.extend(["'\\';'", "\"\\\";\"", "# ; \n", "--\t;\n", "/*! ; */", "@v"])
            }
            Backend::Sqlite => fragments.extend(["[g;h]", "'\\'", "$v", "@v", ":v"]),
        }
        let words = prop::sample::select(vec!["select", "insert", "update", "drop", "x"]);
        let middle = prop::collection::vec(prop::sample::select(fragments), 0..12);
        (words.clone(), middle, words).prop_map(|(first, middle, last)| {
            let mut statement = String::from(first);
            for fragment in middle {
                statement.push(' ');
                statement.push_str(fragment);
            }
            statement.push(' ');
            statement.push_str(last);
            statement
        })
    }

    /// A trigger or function whose body holds top-level `;`s, in the backend's own form.
    fn routine(backend: Backend) -> impl Strategy<Value = String> {
        let body = prop::collection::vec(safe_statement(backend, false), 1..4);
        body.prop_map(move |body| {
            let body = body.join("; ");
            match backend {
                Backend::Sqlite => format!(
                    "CREATE TRIGGER trg AFTER INSERT ON t BEGIN {body}; SELECT CASE WHEN 1 THEN 2 END; END"
                ),
                Backend::Mysql => format!(
                    "CREATE DEFINER = 'u'@'%' PROCEDURE p() BEGIN IF 1 THEN {body}; END IF; {body}; END"
                ),
                Backend::Postgres => format!(
                    "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC {body}; END"
                ),
            }
        })
    }

    fn statements() -> impl Strategy<Value = (Backend, Vec<String>)> {
        backend().prop_flat_map(|backend| {
            let statement = prop_oneof![3 => safe_statement(backend, true), 1 => routine(backend)];
            (Just(backend), prop::collection::vec(statement, 1..8))
        })
    }

    /// Arbitrary bytes read as UTF-8 (invalid sequences become U+FFFD): as close to raw
    /// input as a `&str` gets.
    fn bytes_as_text() -> impl Strategy<Value = String> {
        prop::collection::vec(any::<u8>(), 0..256)
            .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Bytes drawn mostly from the ones the lexer acts on, so quotes, comments, dollar
    /// tags and block words meet in every order, with a few multi-byte characters.
    fn delimiter_soup() -> impl Strategy<Value = String> {
        let alphabet = b"';\"`$-#/*\\[]\n\r\t eEbBgGiInNdDcCaAsStTrRuU0_(){}@.".to_vec();
        let byte = prop_oneof![
            8 => prop::sample::select(alphabet).prop_map(|b| vec![b]),
            1 => prop::sample::select(vec!["é", "日本", "\u{0}", "\u{feff}", "\u{1F600}"])
                .prop_map(|s| s.as_bytes().to_vec()),
        ];
        prop::collection::vec(byte, 0..96)
            .prop_map(|parts| String::from_utf8_lossy(&parts.concat()).into_owned())
    }

    /// What the splitter is fuzzed with.
    fn fuzz_input() -> impl Strategy<Value = String> {
        prop_oneof![bytes_as_text(), delimiter_soup(), sqlish(), "\\PC{0,64}"]
    }

    /// The fuzz target: on every backend, the split never panics, loses or adds no
    /// byte, reports true offsets and lines, and reading its comments never panics.
    fn fuzz_one(input: &str) {
        for backend in ALL {
            assert_lossless(input, backend);
            for piece in split(input, backend) {
                let _ = piece.leading_comments();
            }
        }
    }

    /// Inputs the fuzzer once stopped on, kept as regression tests.
    #[test]
    fn fuzz_regressions() {
        for input in [
            "", "\u{feff}", "$", "$$", "$a", "$a$", "-", "--", "/*", "*/", "/", "\\", "'\\",
            "e'\\", "E'", "[", "`", "#", "\r", "\r\n",
        ] {
            fuzz_one(input);
        }
    }

    /// The long fuzz run: ten million inputs (or `PROPTEST_CASES`), each split on all
    /// three backends. `cargo test --release --lib split -- --ignored --nocapture`.
    #[test]
    #[ignore = "ten million inputs: run on purpose, in release mode"]
    fn fuzz_ten_million_inputs() {
        use proptest::test_runner::{Config, TestRunner};
        let cases = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(10_000_000);
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let started = std::time::Instant::now();
        let result = runner.run(&fuzz_input(), |input| {
            fuzz_one(&input);
            Ok(())
        });
        println!(
            "split fuzz: {cases} inputs x 3 backends in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        if let Err(failure) = result {
            panic!("{failure}");
        }
    }

    proptest! {
        #[test]
        fn fuzz_target_never_panics(input in fuzz_input()) {
            fuzz_one(&input);
        }

        #[test]
        fn any_text_round_trips(input in "\\PC*", backend in backend()) {
            assert_lossless(&input, backend);
        }

        #[test]
        fn sqlish_text_round_trips(input in sqlish(), backend in backend()) {
            assert_lossless(&input, backend);
            for piece in split(&input, backend) {
                let _ = piece.leading_comments();
            }
        }

        #[test]
        fn splits_exactly_between_generated_statements((backend, statements) in statements(), tail in any::<bool>()) {
            let mut input = statements.join(";\n");
            if tail {
                input.push_str(";\n");
            }
            prop_assert_eq!(sqls(&input, backend), statements.iter().map(String::as_str).collect::<Vec<_>>());
            assert_lossless(&input, backend);
        }
    }
}
