//! What a test does when an outside program it drives (Chromium, a Python library) is not
//! installed: in CI (`CI` set) that is a broken machine and the test fails; on a developer's
//! machine the test says so loudly and passes, so the rest of the suite still runs.

use std::io::Write;

/// Reports that `what` is missing. Panics when `CI` is set; otherwise prints a notice that
/// tells how to install it, and the caller returns early.
pub fn skip_or_fail(test: &str, what: &str, install: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {what} is not available, and CI is set. Install it: {install}");
    }
    // Written to the stderr handle rather than with `eprintln!`, which the test harness
    // captures and hides for passing tests.
    let notice = format!(
        "\n{bar}\n** SKIPPED {test}: {what} is not available.\n\
         ** Install it to run this test: {install}\n\
         ** (With CI set, this test fails instead of skipping.)\n{bar}\n",
        bar = "*".repeat(72)
    );
    let _ = std::io::stderr().lock().write_all(notice.as_bytes());
}
