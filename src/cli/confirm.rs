//! Confirmation of destructive commands (`reset`): a flag for scripts, a question for
//! people at a terminal.
//!
//! The decision is kept apart from the terminal so that it can be tested without one:
//! [`confirmation`] says what to do from the flag and whether stdin is a terminal,
//! [`ask`] puts the question to any reader and writer.

use std::io::{BufRead, Write};

/// What a destructive command does about confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Confirmation {
    /// `--yes` was given: go ahead.
    Given,
    /// No `--yes`, and stdin is a terminal: ask, and go ahead only on a yes.
    Ask,
    /// No `--yes`, and nobody to ask (a script, a pipe, a container): refuse. A script
    /// must say `--yes`; it never gets a prompt it cannot answer, nor a yes piped in
    /// by accident.
    Refuse,
}

/// What to do, from `--yes` and whether stdin is a terminal.
pub(crate) fn confirmation(yes: bool, stdin_is_terminal: bool) -> Confirmation {
    match (yes, stdin_is_terminal) {
        (true, _) => Confirmation::Given,
        (false, true) => Confirmation::Ask,
        (false, false) => Confirmation::Refuse,
    }
}

/// Whether an answer to a `[y/N]` question is a yes: `y` or `yes`, in any case, spaces
/// around ignored. Anything else, an empty line included, is the default: no.
pub(crate) fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// Writes `question` and ` [y/N] ` to `output`, reads one line from `input`, and says
/// whether it was a yes. End of input is a no.
pub(crate) fn ask(
    question: &str,
    input: &mut impl BufRead,
    output: &mut impl Write,
) -> std::io::Result<bool> {
    write!(output, "{question} [y/N] ")?;
    output.flush()?;
    let mut answer = String::new();
    input.read_line(&mut answer)?;
    Ok(is_yes(&answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_goes_ahead_a_terminal_is_asked_and_a_script_is_refused() {
        assert_eq!(confirmation(true, false), Confirmation::Given);
        assert_eq!(confirmation(true, true), Confirmation::Given);
        assert_eq!(confirmation(false, true), Confirmation::Ask);
        assert_eq!(confirmation(false, false), Confirmation::Refuse);
    }

    #[test]
    fn only_y_or_yes_is_a_yes() {
        for yes in ["y", "Y", "yes", "YES", " yes \n", "y\r\n"] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in ["", "\n", "n", "no", "N", "yess", "sure", "y y", "1"] {
            assert!(!is_yes(no), "{no:?}");
        }
    }

    #[test]
    fn the_question_goes_to_the_output_and_one_line_is_read() {
        let mut output = Vec::new();
        let mut input = std::io::Cursor::new("y\nmore\n");
        assert!(ask("Drop it all?", &mut input, &mut output).unwrap());
        assert_eq!(String::from_utf8(output).unwrap(), "Drop it all? [y/N] ");

        let mut input = std::io::Cursor::new("");
        assert!(!ask("Drop it all?", &mut input, &mut Vec::new()).unwrap());
        let mut input = std::io::Cursor::new("nope\ny\n");
        assert!(!ask("Drop it all?", &mut input, &mut Vec::new()).unwrap());
    }
}
