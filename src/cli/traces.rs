//! `-v` with the `tracing` feature: pelican's spans and events (`docs/tracing.md`) as
//! lines on stderr, beside what `-v` prints without it. Without the feature, nothing
//! here does anything and `-v` prints what it always has.

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether spans and events are printed on stderr in this process.
static PRINTING: AtomicBool = AtomicBool::new(false);

/// Under `-v`, prints pelican's spans (as each closes, with its fields) and events on
/// stderr for the rest of the process: `RUST_LOG` chooses which, when set (`RUST_LOG=off`
/// prints none, `RUST_LOG=pelican::lock=info` the lock's alone), else all of pelican's,
/// from `DEBUG` up. The binary's alone: an application that mounts pelican's commands
/// has its own subscriber.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(super) fn print_under_verbose(verbose: bool) {
    #[cfg(feature = "tracing")]
    if verbose {
        use tracing_subscriber::filter::Targets;
        use tracing_subscriber::fmt::format::FmtSpan;
        use tracing_subscriber::prelude::*;

        // An unreadable RUST_LOG is not the command's failure: pelican's own then.
        let filter = std::env::var("RUST_LOG")
            .ok()
            .and_then(|directives| directives.parse::<Targets>().ok())
            .unwrap_or_else(|| Targets::new().with_target("pelican", tracing::Level::DEBUG));
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .with_span_events(FmtSpan::CLOSE)
            // A line stderr cannot take is dropped, as the command line's own are.
            .log_internal_errors(false)
            .with_filter(filter);
        let subscriber = tracing_subscriber::registry().with(layer);
        if tracing::subscriber::set_global_default(subscriber).is_ok() {
            PRINTING.store(true, Ordering::Relaxed);
        }
    }
}

/// Whether spans and events are printed on stderr: a progress bar there would be torn
/// by them, and plain lines are printed instead.
pub(super) fn printing() -> bool {
    PRINTING.load(Ordering::Relaxed)
}
