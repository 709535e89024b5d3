//! A database URL's secrets, hidden: the URL shown with its password as `***`
//! ([`redact_url`]), and messages that quote the URL or its password scrubbed
//! ([`scrub`]). Below [`crate::error`], which scrubs the messages of the errors it
//! wraps, and [`crate::backend`], which parses URLs into errors: both use it, it uses
//! neither.

/// A URL with its password replaced by `***`, fit to print or log.
///
/// Both places a password can sit are covered: the user-info part
/// (`postgres://user:secret@host/db`) and a `password=` query parameter. A password
/// written with a raw `/`, `?` or `#` (which a URL should percent-encode) ends the
/// authority early as RFC 3986 reads it; such a URL is hidden up to its last `@`, so
/// whatever a driver makes of it, the password is not shown
/// (`mysql://root:hunter2@db:3306/app?password=hunter2` is
/// `mysql://root:***@db:3306/app?password=***`, `postgres://app:pa/ss@db/app` is
/// `postgres://app:***@db/app`).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (userinfo, after) = match userinfo_end(rest) {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let userinfo = match userinfo {
        Some(userinfo) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@"),
            None => format!("{userinfo}@"),
        },
        None => String::new(),
    };
    format!("{scheme}://{userinfo}{}", hide_query_passwords(after))
}

/// Every `password=` parameter of a URL's query hidden: after a `?` or `&`, its value up
/// to the next `&` or `#` (a raw `?` in the value, or a second `?` before the key, does
/// not end it).
fn hide_query_passwords(text: &str) -> String {
    const KEY: &str = "password=";
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (at, _) in lower.match_indices(KEY) {
        let start = at + KEY.len();
        if start <= copied || !matches!(text[..at].chars().next_back(), Some('?' | '&')) {
            continue;
        }
        let end = text[start..]
            .find(['&', '#'])
            .map_or(text.len(), |i| start + i);
        out.push_str(&text[copied..start]);
        out.push_str("***");
        copied = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Where the user-info of `rest` (a URL after its `scheme://`) ends, for hiding it: the
/// index of its `@`.
///
/// Where [`rfc_userinfo`] finds none but the authority holds a `:` and an `@` comes later
/// (`user:pa/ss@host`), that `@` is taken to end the user-info: for hiding a password,
/// hiding too much is the safe mistake.
fn userinfo_end(rest: &str) -> Option<usize> {
    let authority = authority(rest);
    match authority.rfind('@') {
        Some(at) => Some(at),
        // An authority starting with `[` is an IPv6 host, never a user name.
        None if authority.contains(':') && !authority.starts_with('[') => rest.rfind('@'),
        None => None,
    }
}

/// The authority as RFC 3986 reads it: up to the first `/`, `?` or `#`.
pub(crate) fn authority(rest: &str) -> &str {
    &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())]
}

/// The user-info as RFC 3986 reads it, as the `url` crate (so MySQL's driver) does: the
/// authority up to its last `@`.
pub(crate) fn rfc_userinfo(rest: &str) -> Option<&str> {
    let authority = authority(rest);
    authority.rfind('@').map(|at| &authority[..at])
}

/// The user-info as libpq reads it: up to the first `@`, unless a `/` comes first.
pub(crate) fn libpq_userinfo(rest: &str) -> Option<&str> {
    let end = rest.find(['@', '/'])?;
    (rest.as_bytes()[end] == b'@').then(|| &rest[..end])
}

/// The secrets a URL holds, each as written and percent-decoded: the user-info's
/// password and every `password=` query parameter's value, so that driver messages
/// quoting any of them can be scrubbed.
pub(crate) fn url_secrets(url: &str) -> Vec<String> {
    let Some((_, rest)) = url.split_once("://") else {
        return Vec::new();
    };
    let mut raw: Vec<&str> = Vec::new();
    // The password as each reading finds it: what a driver quotes depends on its own.
    let hidden = userinfo_end(rest).map(|at| &rest[..at]);
    for userinfo in [hidden, rfc_userinfo(rest), libpq_userinfo(rest)]
        .into_iter()
        .flatten()
    {
        if let Some((_, password)) = userinfo.split_once(':') {
            raw.push(password);
        }
    }
    // Every query part, wherever a `?` sits (a password may hold one, and a URL hidden
    // up to a late `@` may have its query inside the user-info).
    for (at, _) in rest.match_indices('?') {
        let query = &rest[at + 1..];
        for pair in query.split(['&', '#']) {
            if let Some((key, value)) = pair.split_once('=') {
                if key.eq_ignore_ascii_case("password") {
                    raw.push(value);
                }
            }
        }
    }
    let mut secrets: Vec<String> = Vec::new();
    for text in raw {
        for secret in [text.to_owned(), percent_decode(text)] {
            if !secret.is_empty() && !secrets.contains(&secret) {
                secrets.push(secret);
            }
        }
    }
    // Longest first, so a secret holding another is replaced whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
}

/// How long a password must be for its text to be hidden wherever it stands as a word
/// in a message, not only in a URL, a `password=` parameter or quotes.
const STANDING_MIN: usize = 8;

/// `message` with the URL's password hidden, by where it stands rather than by what it
/// says, so that a password that reads like the rest of the message (`postgres`, the user
/// name; `3306`, the port; `e`) neither garbles the message nor shows where it stands:
///
/// 1. In every URL the message holds (`scheme://user:password@…`), the password's span
///    is replaced by `***`, as [`redact_url`] does.
/// 2. Every `password=` parameter's value (a URL query, a libpq `key=value` string; up to
///    a space or `&`, or its closing quote) is replaced.
/// 3. The URL's secrets as written and percent-decoded (see [`url_secrets`]) are
///    replaced elsewhere only where they stand as a token of their own (no letter, digit
///    or `_` glued to a word character at their edges) and either open a quotation
///    (`"…`, `'…`, `` `… ``: where a driver or database quoting a value puts it) or are
///    [`STANDING_MIN`] characters or more (unlikely to be anything else). A password that
///    is part of what the URL shows anyway (its user, host, port or database) is not
///    looked for at all: replacing that text would tell the password, not hide it.
pub(crate) fn scrub(message: &str, url: &str) -> String {
    let mut message = hide_password_parameters(&hide_url_passwords(message));
    let shown = redact_url(url);
    for secret in url_secrets(url) {
        if !shown.contains(&secret) {
            message = hide_standing(&message, &secret);
        }
    }
    message
}

/// `message` with `url` shown as [`redact_url`] shows it, and the URL's secrets hidden
/// where they stand on their own (as [`scrub`] hides them), but no other URL's password
/// nor `password=` parameter touched: for text that is not an error message (a report,
/// a script), which must stay as it is but for what the command line was given.
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub(crate) fn scrub_only(message: &str, url: &str) -> String {
    let shown = redact_url(url);
    let mut message = message.replace(url, &shown);
    for secret in url_secrets(url) {
        if !shown.contains(&secret) {
            message = hide_standing(&message, &secret);
        }
    }
    message
}

/// Every URL in `message` (a scheme, `://`, up to the next space) with its password
/// replaced by `***` ([`redact_url`]).
fn hide_url_passwords(message: &str) -> String {
    let is_scheme = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.');
    let mut out = String::with_capacity(message.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = message[from..].find("://") {
        let separator = from + found;
        let start = message[..separator]
            .char_indices()
            .rev()
            .find(|&(_, c)| !is_scheme(c))
            .map_or(0, |(at, c)| at + c.len_utf8());
        let end = message[separator..]
            .find(char::is_whitespace)
            .map_or(message.len(), |at| separator + at);
        if start < separator && start >= copied {
            out.push_str(&message[copied..start]);
            out.push_str(&redact_url(&message[start..end]));
            copied = end;
        }
        from = end.max(separator + 3);
    }
    out.push_str(&message[copied..]);
    out
}

/// Every `password=VALUE` in `message` (the key in any case, not glued to a word before
/// it) as `password=***`: VALUE runs to its closing quote when it opens with one, else to
/// the next space or `&`.
fn hide_password_parameters(message: &str) -> String {
    const KEY: &str = "password=";
    // ASCII lower-casing keeps every byte where it was.
    let lower = message.to_ascii_lowercase();
    let mut out = String::with_capacity(message.len());
    let mut copied = 0;
    for (at, _) in lower.match_indices(KEY) {
        let glued = message[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        let start = at + KEY.len();
        if glued || start < copied {
            continue;
        }
        let value = &message[start..];
        let (start, end) = match value.chars().next() {
            Some(quote @ ('\'' | '"')) => {
                let inner = start + 1;
                let close = message[inner..]
                    .find(quote)
                    .map_or(message.len(), |i| inner + i);
                (inner, close)
            }
            _ => {
                let stop = value
                    .find(|c: char| c.is_whitespace() || c == '&')
                    .map_or(message.len(), |i| start + i);
                (start, stop)
            }
        };
        if start < end && &message[start..end] != "***" {
            out.push_str(&message[copied..start]);
            out.push_str("***");
            copied = end;
        }
    }
    out.push_str(&message[copied..]);
    out
}

/// `message` with `secret` replaced where it stands as a token opening a quotation, or,
/// if it is long enough, anywhere it stands as a token (see [`scrub`]).
fn hide_standing(message: &str, secret: &str) -> String {
    let long = secret.chars().count() >= STANDING_MIN;
    let word = |c: char| c.is_alphanumeric() || c == '_';
    // Like a regular expression's `\b`: a word character at the secret's edge must not
    // continue a word outside it.
    let starts_word = secret.chars().next().is_some_and(word);
    let ends_word = secret.chars().next_back().is_some_and(word);
    let mut out = String::with_capacity(message.len());
    let mut copied = 0;
    for (at, _) in message.match_indices(secret) {
        let before = message[..at].chars().next_back();
        let after = message[at + secret.len()..].chars().next();
        // A quote opening a quotation, not an apostrophe inside a word (`don't`).
        let opener = message[..at].char_indices().next_back().map(|(i, _)| i);
        let quoted = matches!(before, Some('"' | '\'' | '`'))
            && !opener
                .and_then(|i| message[..i].chars().next_back())
                .is_some_and(word);
        let glued = starts_word && before.is_some_and(word) || ends_word && after.is_some_and(word);
        if !glued && (long || quoted) {
            out.push_str(&message[copied..at]);
            out.push_str("***");
            copied = at + secret.len();
        }
    }
    out.push_str(&message[copied..]);
    out
}

/// `%XX` escapes decoded; anything else, a malformed escape included, kept as it is.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn both_places_of_a_password_are_hidden() {
        assert_eq!(
            redact_url("mysql://root:hunter2@db:3306/app?password=hunter2"),
            "mysql://root:***@db:3306/app?password=***"
        );
        assert_eq!(
            redact_url("postgres://app:pa/ss@db/app"),
            "postgres://app:***@db/app"
        );
    }

    #[test]
    fn every_form_of_password_is_hidden() {
        let cases = [
            ("postgres://app:s3cret@db/app", "postgres://app:***@db/app"),
            (
                "postgres://app@db/app?password=s3cret",
                "postgres://app@db/app?password=***",
            ),
            (
                "postgres://app:s3cret@db/app?sslmode=disable&PASSWORD=s3cret",
                "postgres://app:***@db/app?sslmode=disable&PASSWORD=***",
            ),
            (
                "postgres://app:s3%2Fcret@db/app",
                "postgres://app:***@db/app",
            ),
            // Raw characters a URL should have encoded: hidden up to the last `@`.
            ("postgres://app:s3/cret@db/app", "postgres://app:***@db/app"),
            (
                "postgres://app:s3?cr#et@db/app",
                "postgres://app:***@db/app",
            ),
            ("mysql://app:s3@cret@db/app", "mysql://app:***@db/app"),
            ("postgres://app:@db/app", "postgres://app:***@db/app"),
            // Nothing to hide.
            ("postgres://app@db/app", "postgres://app@db/app"),
            ("postgres://db:5432/app", "postgres://db:5432/app"),
            (
                "postgres://[::1]:5432/app?application_name=a@b",
                "postgres://[::1]:5432/app?application_name=a@b",
            ),
            ("app.db", "app.db"),
            ("file:app.db?mode=ro", "file:app.db?mode=ro"),
        ];
        for (url, redacted) in cases {
            assert_eq!(redact_url(url), redacted, "{url}");
        }
    }

    #[test]
    fn secrets_are_found_as_written_and_decoded() {
        assert_eq!(
            url_secrets("postgres://app:s3%40cret@db/app"),
            ["s3%40cret", "s3@cret"]
        );
        assert_eq!(
            url_secrets("postgres://app@db/app?a=1&password=p%2Fq"),
            ["p%2Fq", "p/q"]
        );
        assert_eq!(url_secrets("postgres://app:x/y@db/app"), ["x/y"]);
        assert!(url_secrets("postgres://app@db/app").is_empty());
        assert!(url_secrets("app.db").is_empty());
        assert_eq!(
            scrub(
                "token \"s3%zz\", 's3cret-long-1' and s3cret-long-1, decoded p/q-long-2.",
                "postgres://u:s3%zz@h/d?password=p%2Fq-long-2&password=s3cret-long-1"
            ),
            "token \"***\", '***' and ***, decoded ***."
        );
    }

    /// A password hidden by its text would show where it stands: as the user name, the
    /// port, every `e`.
    #[test]
    fn a_password_is_hidden_by_its_place_not_by_its_text() {
        let kept = [
            (
                "postgres://postgres:postgres@127.0.0.1:5432/app",
                "cannot connect to postgres://postgres:***@127.0.0.1:5432/app: connection to \
                 server at \"127.0.0.1\", port 5432 failed: FATAL:  password authentication \
                 failed for user \"postgres\"",
            ),
            (
                "mysql://root:3306@127.0.0.1:3306/app",
                "cannot connect to mysql://root:***@127.0.0.1:3306/app: Access denied for user \
                 'root'@'localhost' (using password: YES)",
            ),
            (
                "postgres://app:e@db/app",
                "cannot connect to postgres://app:***@db/app: FATAL:  database \"app\" does not \
                 exist",
            ),
            (
                "postgres://app:secret@db/app",
                "the secretary's table: secrets",
            ),
            ("postgres://app:t@db/app", "it isn't there, 'tis gone"),
        ];
        for (url, message) in kept {
            assert_eq!(scrub(message, url), message, "{url}");
        }
        let hidden = [
            // A URL in a driver's message, with the password as written.
            (
                "postgres://app:e@db/app",
                "failed for postgres://app:e@db/app?sslmode=disable: no",
                "failed for postgres://app:***@db/app?sslmode=disable: no",
            ),
            (
                "postgres://postgres:postgres@db/app",
                "see postgres://postgres:postgres@db/app",
                "see postgres://postgres:***@db/app",
            ),
            // A key=value parameter, quoted or not.
            (
                "postgres://app:e@db/app",
                "conninfo host=db password=e user=app password='e e' x",
                "conninfo host=db password=*** user=app password='***' x",
            ),
            // Quoted whole by a driver, however short.
            (
                "postgres://app:e%zz@db/app",
                "invalid percent-encoded token: \"e%zz\"",
                "invalid percent-encoded token: \"***\"",
            ),
            // Long enough, as a word of its own.
            (
                "postgres://app:Pw-long-secret-1@db/app",
                "table pelican.Pw-long-secret-1 and xPw-long-secret-1y",
                "table pelican.*** and xPw-long-secret-1y",
            ),
        ];
        for (url, message, scrubbed) in hidden {
            assert_eq!(scrub(message, url), scrubbed, "{url}");
        }
    }

    proptest! {
        /// A password of eight characters or more is hidden wherever it stands as a word
        /// of its own, quoted or not.
        #[test]
        fn a_long_password_is_hidden_where_it_stands_alone(
            password in "[A-Za-z0-9]{6,24}",
            before in "[ .:(]",
            after in "[ .,;)]",
        ) {
            let marker = format!("Zq{password}");
            let url = format!("postgres://app:{marker}@db.example:5432/app");
            let message = format!("relation{before}{marker}{after}does not exist");
            let scrubbed = scrub(&message, &url);
            prop_assert!(!scrubbed.contains(&marker), "{}", scrubbed);
            prop_assert_eq!(scrubbed, format!("relation{before}***{after}does not exist"));
        }
    }
}
