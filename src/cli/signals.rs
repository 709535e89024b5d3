//! SIGINT and SIGTERM during a command that changes the database: the run stops between
//! two migrations ([`crate::interrupt`]), says so, and the process exits with the
//! shell's status for the signal (130, 143).
//!
//! During such a command SIGPIPE is left as Rust sets it, ignored: a write to a closed
//! pipe fails with EPIPE, which [`super::out`] notes, and the run goes on to its end
//! rather than dying between a commit and its record; the exit status is then 141, as
//! for a process SIGPIPE ended. Any other command ends at SIGPIPE, as `ls` does.

use std::sync::atomic::{AtomicI32, Ordering};

/// The first signal received, 0 for none.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

#[cfg(unix)]
extern "C" fn on_signal(signal: libc::c_int) {
    let first = RECEIVED
        .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok();
    crate::interrupt::request();
    // Only async-signal-safe calls here: atomics and write(2).
    const FIRST: &[u8] = b"\npelican: stopping after the migration under way (what is \
        reported applied stays applied)\n";
    const AGAIN: &[u8] = b"\npelican: still finishing the migration under way; kill -9 \
        stops at once, and the database then keeps only what it committed\n";
    let message = if first { FIRST } else { AGAIN };
    // SAFETY: write(2) on stderr with a static buffer and its length.
    unsafe {
        libc::write(2, message.as_ptr().cast(), message.len());
    }
}

/// SIGINT's and SIGTERM's handlers as they were before [`install`].
pub(super) struct Handlers {
    #[cfg(unix)]
    previous: Vec<(libc::c_int, libc::sigaction)>,
}

/// Catches SIGINT and SIGTERM: the first asks the run to stop at the next migration
/// boundary; another is told the run is finishing. None ends the process inside a
/// migration: on SQLite a run is one transaction, and dying in it would take back
/// migrations already reported applied; SIGKILL remains for who must stop at once.
#[cfg(unix)]
pub(super) fn install() -> Handlers {
    RECEIVED.store(0, Ordering::SeqCst);
    let mut previous = Vec::new();
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed sigaction is a valid value to fill in; the handler is an
        // `extern "C"` function that only does async-signal-safe work.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            // SA_RESTART: a driver blocked reading its socket goes on reading instead of
            // failing with EINTR.
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, &action, &mut old) == 0 {
                previous.push((signal, old));
            }
        }
    }
    Handlers { previous }
}

#[cfg(not(unix))]
pub(super) fn install() -> Handlers {
    Handlers {}
}

impl Handlers {
    /// Puts the handlers back as they were, then raises the signal received meanwhile
    /// (if one was) again, for them to answer: for an application that mounts the
    /// commands, the command ended at a migration boundary, and what the signal means
    /// beyond that is the application's to decide.
    pub(super) fn restore_and_raise_again(self) {
        #[cfg(unix)]
        {
            for (signal, old) in &self.previous {
                // SAFETY: putting back the disposition `sigaction` gave us.
                unsafe {
                    libc::sigaction(*signal, old, std::ptr::null_mut());
                }
            }
            let signal = RECEIVED.swap(0, Ordering::SeqCst);
            if signal != 0 {
                crate::interrupt::clear();
                // SAFETY: raising a signal in this process; its handler is the one the
                // process had before the command.
                unsafe {
                    libc::raise(signal);
                }
            }
        }
    }
}

/// For a command that changes nothing (`pending | head -1`): SIGPIPE back to its default,
/// so that the command ends at once and quietly when its reader goes, as `ls` and `grep`
/// do (a shell reports status 141). A command that changes the database keeps it
/// ignored, and goes on to its end.
#[cfg(unix)]
pub(super) fn default_sigpipe() {
    // SAFETY: setting a signal's disposition to its default, at the start of the
    // command, touches no Rust state.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
pub(super) fn default_sigpipe() {}

/// The signal received during the command, if one was: its name and the exit status a
/// shell gives a process it ended (128 + its number).
pub(super) fn received() -> Option<(&'static str, u8)> {
    let signal = RECEIVED.load(Ordering::SeqCst);
    #[cfg(unix)]
    {
        if signal == libc::SIGINT {
            return Some(("SIGINT", 130));
        }
        if signal == libc::SIGTERM {
            return Some(("SIGTERM", 143));
        }
    }
    let _ = signal;
    None
}
