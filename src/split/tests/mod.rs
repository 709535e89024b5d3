use super::*;

mod fuzz;

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
    let input = "CREATE TABLE a (x TEXT DEFAULT 'a;b');\nINSERT INTO a VALUES ('it''s; fine');\n";
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
        let event = format!(
            "CREATE DEFINER={definer} EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; END"
        );
        let input = format!("{event}; SELECT 1");
        assert_eq!(
            sqls(&input, Backend::Mysql),
            [event.as_str(), "SELECT 1"],
            "{definer}"
        );
    }
}

#[test]
fn mariadb_begin_not_atomic_with_nested_blocks_is_one_statement() {
    let block = "BEGIN NOT ATOMIC\n\
          DECLARE i INT DEFAULT 0;\n\
          IF (SELECT COUNT(*) FROM t) = 0 THEN INSERT INTO t VALUES (IF(i > 0, 1, 2)); END IF;\n\
          l: LOOP SET i = i + 1; IF i > 2 THEN LEAVE l; END IF; END LOOP l;\n\
          WHILE i > 0 DO SET i = i - 1; END WHILE;\n\
          REPEAT SET i = i + 1; UNTIL i = 3 END REPEAT;\n\
          FOR j IN 1..2 DO INSERT INTO t VALUES (j); END FOR;\n\
          CASE i WHEN 3 THEN SELECT 1; ELSE SELECT CASE WHEN 1 THEN 2 END; END CASE;\n\
          inner_block: BEGIN SELECT @end; END inner_block;\n\
          BEGIN NOT ATOMIC SELECT 2; END;\n\
        END";
    let input = format!("{block};\nINSERT INTO t VALUES (9);");
    assert_eq!(
        sqls(&input, Backend::Mysql),
        [block, "INSERT INTO t VALUES (9)"]
    );
}

#[test]
fn mariadb_begin_not_atomic_in_any_case_is_one_statement() {
    let block = "begin not atomic SELECT 1; end";
    let input = format!("{block}; SELECT 2");
    assert_eq!(sqls(&input, Backend::Mysql), [block, "SELECT 2"]);
}

#[test]
fn mysql_begin_without_not_atomic_is_a_transaction() {
    assert_eq!(
        sqls(
            "BEGIN; INSERT INTO t VALUES (1); COMMIT; BEGIN WORK; SELECT 1; END; lbl: SELECT 1;",
            Backend::Mysql
        ),
        [
            "BEGIN",
            "INSERT INTO t VALUES (1)",
            "COMMIT",
            "BEGIN WORK",
            "SELECT 1",
            "END",
            "lbl: SELECT 1"
        ]
    );
}

#[test]
fn begin_not_atomic_is_mariadb_only() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        assert_eq!(
            sqls("BEGIN NOT ATOMIC SELECT 1; END;", backend),
            ["BEGIN NOT ATOMIC SELECT 1", "END"],
            "{backend:?}"
        );
    }
}

#[test]
fn mysql_routines_with_nested_blocks_are_one_statement() {
    let body = "BEGIN\n\
          DECLARE i INT DEFAULT 0;\n\
          IF i = 0 THEN BEGIN SET i = 1; END; ELSEIF i = 1 THEN SET i = 2; ELSE SET i = 3; END IF;\n\
          l: LOOP IF i > 5 THEN LEAVE l; END IF; SET i = i + 1; END LOOP l;\n\
          CASE WHEN i > 0 THEN SET i = 0; END CASE;\n\
          BEGIN NOT ATOMIC SET i = 4; END;\n\
        END";
    for head in [
        "CREATE PROCEDURE p()",
        "CREATE FUNCTION f() RETURNS INT DETERMINISTIC",
        "CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW",
        "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO",
    ] {
        let routine = format!("{head}\n{body}");
        let input = format!("{routine};\nSELECT 1;");
        assert_eq!(
            sqls(&input, Backend::Mysql),
            [routine.as_str(), "SELECT 1"],
            "{head}"
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

#[test]
fn psql_variables_are_found_outside_quotes_comments_and_bodies_only() {
    let found = |sql| client_variable(sql, Backend::Postgres);
    assert_eq!(found("SELECT (ARRAY[1, 2])[1:USER]"), Some(":USER"));
    assert_eq!(found("SELECT :'name', 1"), Some(":'"));
    assert_eq!(found("SELECT :\"name\""), Some(":\""));
    assert_eq!(found("SELECT :{?name}"), Some(":{"));
    assert_eq!(found("SELECT x[1:é]"), Some(":é"));
    for sql in [
        "SELECT 1::text, 'a:b', \"c:d\", $$ :USER $$, $t$:x$t$",
        "SELECT 1 -- :USER\n",
        "SELECT 1 /* :USER */",
        "SELECT (ARRAY[1, 2])[1:2], (ARRAY[1, 2])[1 : 2]",
        "SELECT f(a := 1), E'\\':USER'",
    ] {
        assert_eq!(found(sql), None, "{sql}");
    }
}
