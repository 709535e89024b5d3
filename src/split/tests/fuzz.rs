//! Property and fuzz tests: whatever the input, a split loses or adds no byte and
//! never panics.

use super::*;
use proptest::prelude::*;

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
            "begin", "end", "case", "if", "work", ";", ";", "'", "''", "\"", "`", "[", "]", "--",
            "-", "#", "/*", "*/", "/", "*", "$$", "$a$", "$", "$1", "e'", "E", "\\", "\n", "\r\n",
            " ", "\t", ".", "(", ")", "é", "日本", "\u{0}", "\u{7f}",
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
        "", "\u{feff}", "$", "$$", "$a", "$a$", "-", "--", "/*", "*/", "/", "\\", "'\\", "e'\\",
        "E'", "[", "`", "#", "\r", "\r\n",
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
