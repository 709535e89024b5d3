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
pub(crate) struct Statement<'a> {
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
    pub(crate) fn leading_comments(&self) -> Vec<&'a str> {
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
    /// Whether a `;` of its own ends it: what follows `sql` in `source` is that `;`. The
    /// text alone cannot tell: an unterminated last statement may be followed by a
    /// comment that ends in `;` (`-- run by hand: UPDATE t SET x = 1;`).
    #[must_use]
    pub(crate) fn terminated(&self) -> bool {
        let Some(prefix) = self.prefix() else {
            return false;
        };
        self.source
            .get(prefix.len() + self.sql.len()..)
            .is_some_and(|rest| rest.trim() == ";")
    }

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
pub(crate) fn split(sql: &str, backend: Backend) -> Vec<Statement<'_>> {
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
pub(crate) fn unterminated(sql: &str, backend: Backend) -> Option<(usize, &'static str)> {
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

/// The first reference to a client variable in `sql` as `psql` reads it: a `:` outside
/// strings, quoted identifiers, comments and dollar-quoted bodies, directly followed by
/// a name not starting with a digit (`:name`), a quote (`:'name'`, `:"name"`) or `:{?name}`; not the `::` of a
/// cast. `psql` replaces it with the variable's value where one is set (`:USER` is its
/// user name), so a script holding one would not send the server the statement as
/// written. Returns the text from the `:` to the end of its name.
#[must_use]
pub(crate) fn client_variable(sql: &str, backend: Backend) -> Option<&str> {
    let bytes = sql.as_bytes();
    let mut lexer = Lexer::new(sql, backend);
    while let Some((at, token)) = lexer.next_token() {
        if token != Token::Punct(b':')
            || at.checked_sub(1).and_then(|i| bytes.get(i)) == Some(&b':')
        {
            continue;
        }
        let name = |byte: &u8| byte.is_ascii_alphanumeric() || *byte == b'_' || *byte >= 0x80;
        let end = match bytes.get(at + 1) {
            // A name of digits (`a[1:2]`) is no variable psql or a user sets.
            Some(byte) if name(byte) && !byte.is_ascii_digit() => {
                at + 1 + bytes.get(at + 1..)?.iter().take_while(|b| name(b)).count()
            }
            Some(b'\'' | b'"' | b'{') => at + 2,
            _ => continue,
        };
        // Whole characters: `end` may stop inside a multi-byte one.
        let end = (end..=sql.len()).find(|&e| sql.is_char_boundary(e))?;
        return sql.get(at..end);
    }
    None
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
    let compound = lexer.lexicon.compound_statements;
    loop {
        match head {
            Head::Plain => {}
            Head::Routine => blocks.feed(token, lexer.word(token)),
            _ => head = head.next(token, lexer.word(token), compound),
        }
        if head == Head::Compound {
            // `BEGIN NOT ATOMIC` opened the block its `END` closes.
            blocks.depth = 1;
            head = Head::Routine;
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

/// A backend's lexical rules, as far as they decide where a `;` can end a statement
/// (each [`crate::dialect::Dialect`] says which it follows).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Lexicon {
    /// `#` opens a line comment (MySQL).
    pub(crate) hash_comments: bool,
    /// `--` opens a comment only before whitespace or a control character, so that
    /// `1--1` is arithmetic (MySQL).
    pub(crate) dashes_need_space: bool,
    /// A backslash escapes the next character in `'…'` and `"…"` (MySQL).
    pub(crate) backslash_escapes: bool,
    /// `[…]` quotes an identifier (SQLite).
    pub(crate) bracket_identifiers: bool,
    /// `$tag$ … $tag$` quotes a string (PostgreSQL).
    pub(crate) dollar_quotes: bool,
    /// `@name` is a word, a variable or parameter: `@end` is not the keyword END
    /// (MySQL, SQLite).
    pub(crate) at_words: bool,
    /// A statement may be an anonymous compound statement, `BEGIN NOT ATOMIC … END`
    /// (MariaDB; the server refuses a label before it), whose body holds `;` like a
    /// routine's.
    pub(crate) compound_statements: bool,
    /// Block comments nest (PostgreSQL).
    pub(crate) nested_comments: bool,
    /// `E'…'` strings take backslash escapes (PostgreSQL).
    pub(crate) escape_strings: bool,
}

/// A file's tokens, read by one backend's [`Lexicon`].
struct Lexer<'a> {
    bytes: &'a [u8],
    pos: usize,
    lexicon: Lexicon,
    /// Where a comment or quoted run opened that the input ended inside, and what it was.
    open: Option<(usize, &'static str)>,
}

impl<'a> Lexer<'a> {
    fn new(sql: &'a str, backend: Backend) -> Self {
        Lexer {
            bytes: sql.as_bytes(),
            pos: 0,
            lexicon: backend.dialect().lexicon(),
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
                b'#' if self.lexicon.hash_comments => {
                    self.skip_line_comment();
                    continue;
                }
                b'/' if self.peek(1) == Some(b'*') => {
                    self.skip_block_comment();
                    continue;
                }
                b'\'' => {
                    self.pos += 1;
                    self.skip_quoted(b'\'', self.lexicon.backslash_escapes);
                    Token::Quoted
                }
                b'"' => {
                    self.pos += 1;
                    self.skip_quoted(b'"', self.lexicon.backslash_escapes);
                    Token::Quoted
                }
                b'`' => {
                    self.pos += 1;
                    self.skip_quoted(b'`', false);
                    Token::Quoted
                }
                b'[' if self.lexicon.bracket_identifiers => {
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
                b'$' if self.lexicon.dollar_quotes && self.skip_dollar_quoted() => Token::Quoted,
                // MySQL user variables and SQLite parameters: `@end` is not the keyword END.
                b'@' if self.lexicon.at_words => self.lex_word(),
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
        !self.lexicon.dashes_need_space
            || self.peek(2).is_none_or(|next| next <= b' ' || next == 0x7f)
    }

    /// Moves to the end of the line; the newline itself is whitespace.
    fn skip_line_comment(&mut self) {
        self.pos = find_byte(self.bytes, self.pos, b'\n');
    }

    /// Moves past `/* … */`, counting nested openers on Postgres only. MySQL's `/*! … */`
    /// holds code the server runs, but never a statement boundary a migration should use.
    fn skip_block_comment(&mut self) {
        let nested = self.lexicon.nested_comments;
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
        if self.lexicon.escape_strings && escape_prefix && self.peek(0) == Some(b'\'') {
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
/// Where the lexicon has compound statements, also how far they match MariaDB's
/// `BEGIN NOT ATOMIC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    Start,
    /// After a leading `BEGIN` (a transaction's, unless `NOT ATOMIC` follows).
    Begin,
    BeginNot,
    /// `BEGIN NOT ATOMIC` read: the statement is a block, already one level deep.
    Compound,
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
    fn next(self, token: Token, word: Option<&[u8]>, compound: bool) -> Head {
        let is = |keyword: &[u8]| word.is_some_and(|w| w.eq_ignore_ascii_case(keyword));
        match self {
            Head::Start if is(b"create") => Head::Create,
            Head::Start if compound && is(b"begin") => Head::Begin,
            Head::Begin if is(b"not") => Head::BeginNot,
            Head::BeginNot if is(b"atomic") => Head::Compound,
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
mod tests;
