//! The names of temporary databases: unique to a process and its machine, so that what
//! a killed process left behind is recognised ([`owner_gone`]).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// Tells apart the databases (and files) one process makes.
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The next number of this process's counter.
pub(crate) fn next() -> usize {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// A name for a database of this process's: [`owner_prefix`], then (when `timed`) the
/// time in microseconds, base 36, so that a process that gets the id of one killed
/// earlier makes other names than it, then a counter:
/// `pelican_scratch_<pid>_<host>_<microseconds>_<n>`, `pelican_test_<pid>_<host>_<n>`.
/// Unique across processes and machines, lower case (PostgreSQL folds unquoted names)
/// and, for pelican's prefixes, under 64 characters.
pub(crate) fn unique_name(prefix: &str, timed: bool) -> String {
    let n = next();
    let owner = owner_prefix(prefix);
    if !timed {
        return format!("{owner}{n}");
    }
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    format!("{owner}{}_{n}", base36(micros))
}

/// `prefix`, this process's id and this machine's tag, as a temporary database's name
/// starts: `pelican_scratch_<pid>_<host>_`.
pub fn owner_prefix(prefix: &str) -> String {
    format!("{prefix}{}_{}_", std::process::id(), host_tag())
}

/// This machine in a name: 8 hex digits of a SHA-256 of its host name (so the name stays
/// short, lower case, and a valid identifier whatever the host is called).
fn host_tag() -> String {
    static TAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TAG.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_default();
        Sha256::digest(host.trim().as_bytes())[..4]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    })
    .clone()
}

/// Whether `name` is a temporary database (or file) that `prefix` starts and
/// [`owner_prefix`] named, made on this machine by a process that is gone. `false`
/// whenever that cannot be told: another machine's, a name of another form, or a
/// system without `/proc` to look for the process in.
pub(crate) fn owner_gone(name: &str, prefix: &str) -> bool {
    let Some(rest) = name.strip_prefix(prefix) else {
        return false;
    };
    let mut parts = rest.split('_');
    let (Some(pid), Some(host)) = (parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    let proc = Path::new("/proc");
    host == host_tag()
        && proc.join("self").exists()
        && pid != std::process::id()
        && !proc.join(pid.to_string()).exists()
}

fn base36(mut n: u128) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lower_case_and_short() {
        for timed in [true, false] {
            let a = unique_name("pelican_scratch_", timed);
            let b = unique_name("pelican_scratch_", timed);
            assert_ne!(a, b);
            assert!(a.starts_with(&owner_prefix("pelican_scratch_")));
            assert!(a.len() < 64, "{a}");
            assert_eq!(a, a.to_lowercase());
        }
    }

    #[test]
    fn a_leftover_is_one_of_this_machine_whose_process_is_gone() {
        let prefix = "pelican_scratch_";
        let mine = unique_name(prefix, true);
        assert!(!owner_gone(&mine, prefix), "this process is alive");
        // The highest pid Linux hands out is below 2^22.
        let gone = format!("{prefix}4294967295_{}_x_0", host_tag());
        assert_eq!(owner_gone(&gone, prefix), Path::new("/proc/self").exists());
        let elsewhere = format!("{prefix}4294967295_00000000_x_0");
        assert!(!owner_gone(&elsewhere, prefix), "another machine's");
        assert!(!owner_gone("pelican_scratch_x_y", prefix));
        assert!(!owner_gone(&gone, "pelican_test_"));
    }
}
