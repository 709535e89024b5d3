//! The two streams the command line writes to, written to without ever panicking.
//!
//! `println!` panics when stdout is a closed pipe or a full disk, and so do `eprintln!`
//! and anstream's macros on stderr: a panic half-way through a run leaves it stopped
//! between a migration that committed and the report that says so. Every write of the
//! command line goes through [`Stdout`] and [`Stderr`] instead: a failed write is
//! remembered (stdout's decides the exit code, see [`stdout_failure`]) and the command
//! goes on to its end, as if its output had been delivered.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU8, Ordering};

/// What happened to stdout: [`FINE`], [`BROKEN_PIPE`] or [`FAILED`].
static STDOUT: AtomicU8 = AtomicU8::new(FINE);
const FINE: u8 = 0;
const BROKEN_PIPE: u8 = 1;
const FAILED: u8 = 2;

/// How writing to stdout failed, when it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Failure {
    /// The reader went away (`pelican migrate | head -1`).
    BrokenPipe,
    /// Another error: a full disk (`> /dev/full`), a closed descriptor.
    Other,
}

/// Whether a write to stdout failed during this process, and how.
pub(super) fn stdout_failure() -> Option<Failure> {
    match STDOUT.load(Ordering::Relaxed) {
        FINE => None,
        BROKEN_PIPE => Some(Failure::BrokenPipe),
        _ => Some(Failure::Other),
    }
}

fn note_stdout<T>(result: io::Result<T>) -> io::Result<T> {
    if let Err(error) = &result {
        let state = match error.kind() {
            io::ErrorKind::BrokenPipe => BROKEN_PIPE,
            _ => FAILED,
        };
        // The first failure is the one that counts.
        let _ = STDOUT.compare_exchange(FINE, state, Ordering::Relaxed, Ordering::Relaxed);
    }
    result
}

/// stdout, locked, styles kept on a terminal (as `--color` says) and stripped
/// elsewhere; every write flushed, so that a reader sees each line as it happens and a
/// failure is seen at once.
pub(super) struct Stdout(anstream::AutoStream<io::StdoutLock<'static>>);

impl Stdout {
    /// stdout, for as long as the value lives.
    pub(super) fn lock() -> Stdout {
        Stdout(anstream::stdout().lock())
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // After a failure nothing more can arrive: the rest is dropped rather than
        // failing again at every line.
        if stdout_failure().is_some() {
            return Ok(buf.len());
        }
        note_stdout(self.0.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        if stdout_failure().is_some() {
            return Ok(());
        }
        note_stdout(self.0.flush())
    }
}

impl Drop for Stdout {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// stderr, locked, styles kept as for [`Stdout`]; a failed write is dropped (there is
/// nowhere left to say so).
pub(super) struct Stderr(anstream::AutoStream<io::StderrLock<'static>>);

impl Stderr {
    /// stderr, for as long as the value lives.
    pub(super) fn lock() -> Stderr {
        Stderr(anstream::stderr().lock())
    }
}

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.0.write(buf) {
            Ok(n) => Ok(n),
            // Reported as written: the caller has nothing better to do with it.
            Err(_) => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        let _ = self.0.flush();
        Ok(())
    }
}

/// Writes raw bytes (a document, a script) to stdout, unstyled.
pub(super) fn stdout_bytes(bytes: &[u8]) -> io::Result<()> {
    if stdout_failure().is_some() {
        return Ok(());
    }
    let mut stdout = io::stdout().lock();
    note_stdout(stdout.write_all(bytes).and_then(|()| stdout.flush()))
}

/// The arguments of this process that may hold a secret: those holding a URL or a
/// `password=`, wherever they stand (a URL given as another option's value, or as a
/// positional argument, is echoed by what refuses or uses it), and the value of each
/// `--option=VALUE` among them.
pub(super) fn secret_args() -> &'static [String] {
    static ARGS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    ARGS.get_or_init(|| {
        std::env::args_os()
            .skip(1)
            .map(|arg| arg.to_string_lossy().into_owned())
            .filter(|arg| arg.contains("://") || arg.to_ascii_lowercase().contains("password="))
            .flat_map(|arg| {
                let value = arg
                    .split_once('=')
                    .filter(|(flag, _)| flag.starts_with('-'))
                    .map(|(_, value)| value.to_owned());
                std::iter::once(arg).chain(value)
            })
            .collect()
    })
}

/// `text` with the secrets of the command line's arguments hidden (see
/// [`secret_args`]), and nothing else changed.
pub(super) fn scrub(text: String) -> String {
    secret_args()
        .iter()
        .fold(text, |text, arg| crate::url_secret::scrub_only(&text, arg))
}

/// `println!` that cannot panic: a line on stdout through [`Stdout`].
macro_rules! outln {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let text = $crate::cli::out::scrub(format!($($arg)*));
        let _ = writeln!($crate::cli::out::Stdout::lock(), "{text}");
    }};
}

/// `print!` that cannot panic.
macro_rules! out {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let text = $crate::cli::out::scrub(format!($($arg)*));
        let _ = write!($crate::cli::out::Stdout::lock(), "{text}");
    }};
}

/// `eprintln!` that cannot panic: a line on stderr through [`Stderr`].
macro_rules! errln {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let text = $crate::cli::out::scrub(format!($($arg)*));
        let _ = writeln!($crate::cli::out::Stderr::lock(), "{text}");
    }};
}

pub(super) use {errln, out, outln};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pipe_is_told_apart_from_other_failures() {
        let broken: io::Result<()> = Err(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(note_stdout(broken).is_err());
        assert_eq!(stdout_failure(), Some(Failure::BrokenPipe));
        // A later failure of another kind does not change what is reported.
        let full: io::Result<()> = Err(io::Error::from(io::ErrorKind::StorageFull));
        assert!(note_stdout(full).is_err());
        assert_eq!(stdout_failure(), Some(Failure::BrokenPipe));
        STDOUT.store(FINE, Ordering::Relaxed);
    }
}

/// Text from a file or the database (a migration's folder name, a message quoting one)
/// as a terminal may be given it: each control character written as an escape (`\n`,
/// `\t`, `\r`, `\x1b`, `\u{9b}`), so that a folder name cannot move the cursor, retitle
/// the window or hide a line. JSON keeps the exact text (it escapes them itself).
pub(super) fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    escape(text, false)
}

/// [`shown`] for a message of several lines: its newlines kept, every other control
/// character escaped.
pub(super) fn shown_lines(text: &str) -> std::borrow::Cow<'_, str> {
    escape(text, true)
}

fn escape(text: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    let kept = |c: char| !c.is_control() || (keep_newlines && c == '\n');
    if text.chars().all(kept) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if kept(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod escape_tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            shown("2024_a\x1b]0;owned\x07\n\r\t\u{9b}b"),
            "2024_a\\x1b]0;owned\\x07\\n\\r\\t\\u{9b}b"
        );
        assert_eq!(shown_lines("a\nb\x1b[2J"), "a\nb\\x1b[2J");
        assert!(matches!(
            shown("plain ünïcode"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
