//! Databases prepared ahead, in the background, for a test to take ready.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::template::Template;
use super::{lock, TestDatabase};

/// Starts preparing databases in the background until `ahead` are ready or on the way.
pub(super) fn refill(template: &Arc<Template>, ahead: usize) {
    loop {
        let ready = lock(&template.pool).len();
        let preparing = template.preparing.load(Ordering::SeqCst);
        if ready + preparing >= ahead {
            return;
        }
        if template
            .preparing
            .compare_exchange(preparing, preparing + 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            continue;
        }
        let template = Arc::clone(template);
        std::thread::spawn(move || {
            // A failure here is found again, and reported, by the next test's own clone.
            if let Ok(database) = TestDatabase::from_template(Arc::clone(&template), false) {
                lock(&template.pool).push(database);
            }
            template.preparing.fetch_sub(1, Ordering::SeqCst);
        });
    }
}
