//! Text quoted in messages: long words clipped, long lists cut short.

/// Text from a file quoted in a message (a value or key of `metadata.toml`), each word
/// longer than [`CLIPPED_WORD`] characters cut to its start and its length: a 50 MB value
/// is named, not printed.
pub(crate) fn clipped(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(1024));
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (word, after) = rest.split_at(end);
        let count = word.chars().count();
        if count > CLIPPED_WORD {
            out.extend(word.chars().take(CLIPPED_KEPT));
            out.push_str(&format!("… ({count} characters)"));
        } else {
            out.push_str(word);
        }
        let spaces = after.len() - after.trim_start().len();
        out.push_str(&after[..spaces]);
        rest = &after[spaces..];
    }
    out
}

/// How long a word of a message may be before [`clipped`] cuts it.
const CLIPPED_WORD: usize = 120;
/// How much of a cut word [`clipped`] keeps.
const CLIPPED_KEPT: usize = 40;

/// The first few names of a list, for a message.
pub(super) fn list_some(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_words_are_clipped() {
        let value = "x".repeat(50_000);
        let message = format!("invalid type: string \"{value}\", expected a boolean");
        assert_eq!(
            clipped(&message),
            format!(
                "invalid type: string \"{}… (50003 characters) expected a boolean",
                "x".repeat(39)
            )
        );
        assert_eq!(clipped("a  short\nmessage "), "a  short\nmessage ");
    }
}
