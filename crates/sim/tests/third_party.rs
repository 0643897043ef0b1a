//! An unmodified, published Facebook client logs in against the emulator (issue 3,
//! acceptance 3): python-social-auth's `FacebookOAuth2` backend, pointed at the emulator by
//! configuration only. The client lives in `tests/third_party/` at the repository root; this
//! test starts an emulator and runs it there.
//!
//! Needs `python3` with the packages of `tests/third_party/requirements.txt`
//! (`FBGATE_TEST_PYTHON` names another interpreter, e.g. a virtualenv's). Without them the
//! test prints a notice and passes, unless `CI` is set, where it fails.

// Test helpers outside `#[test]` functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Stdio;
use std::time::Duration;

use fbgate_sim::{SimConfig, SimServer};
use tokio::process::Command;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/third_party/social_core_login.py"
);
const REQUIREMENTS: &str = "tests/third_party/requirements.txt";

fn python() -> String {
    std::env::var("FBGATE_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Whether the interpreter runs and can import the client library.
async fn client_installed(python: &str) -> bool {
    Command::new(python)
        .args(["-c", "import social_core.backends.facebook, requests"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok_and(|status| status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_social_auth_logs_in_and_sees_cancel() {
    let python = python();
    if !client_installed(&python).await {
        fbgate_testkit::unavailable::skip_or_fail(
            "third_party::python_social_auth",
            &format!("{python} with social-auth-core"),
            &format!("{python} -m pip install -r {REQUIREMENTS}"),
        );
        return;
    }
    let sim = SimServer::start(SimConfig::default()).await.unwrap();

    let run = Command::new(&python)
        .arg(SCRIPT)
        .arg(sim.url())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the client script did not finish within 120 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{SCRIPT} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    // Both scenarios ran (an early `exit 0` must not pass).
    assert!(stdout.contains("login: ok"), "{stdout}");
    assert!(stdout.contains("cancel: ok"), "{stdout}");
}
