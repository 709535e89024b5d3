//! Boolean flags, as `AUTO_MIGRATE` is read from the environment.

use crate::{Error, Result};

/// Reads a boolean flag from the environment, as the `AUTO_MIGRATE` of `pelican boot`:
/// `1`, `true`, `yes`, `on` are true; `0`, `false`, `no`, `off`, empty or unset are
/// false (any case, spaces trimmed); anything else is an error naming the variable and
/// its value.
///
/// ```
/// std::env::set_var("MYAPP_AUTO_MIGRATE", " Yes ");
/// assert!(pelican::env_flag("MYAPP_AUTO_MIGRATE")?);
/// std::env::set_var("MYAPP_AUTO_MIGRATE", "maybe");
/// assert!(pelican::env_flag("MYAPP_AUTO_MIGRATE").is_err());
/// # Ok::<(), pelican::Error>(())
/// ```
pub fn env_flag(name: &str) -> Result<bool> {
    match std::env::var(name) {
        Ok(value) => parse_flag(name, &value),
        Err(std::env::VarError::NotPresent) => Ok(false),
        Err(std::env::VarError::NotUnicode(value)) => Err(Error::BadFlag {
            name: name.to_owned(),
            value: value.to_string_lossy().into_owned(),
        }),
    }
}

/// [`env_flag`]'s reading of a value, for flags that come from elsewhere.
pub(super) fn parse_flag(name: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "" | "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(Error::BadFlag {
            name: name.to_owned(),
            value: value.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_as_booleans() {
        for yes in ["1", "true", "TRUE", " yes ", "On"] {
            assert!(parse_flag("F", yes).unwrap(), "{yes}");
        }
        for no in ["", " ", "0", "false", "No", "OFF"] {
            assert!(!parse_flag("F", no).unwrap(), "{no}");
        }
        let error = parse_flag("AUTO_MIGRATE", "maybe").unwrap_err().to_string();
        assert!(
            error.starts_with("AUTO_MIGRATE=\"maybe\" is not a boolean"),
            "{error}"
        );
    }

    #[test]
    fn an_unset_flag_is_false() {
        assert!(!env_flag("PELICAN_TEST_FLAG_THAT_IS_NEVER_SET").unwrap());
    }
}
