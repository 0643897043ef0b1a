//! The `fbgate` binary as an operator uses it.

use std::path::Path;
use std::process::{Command, Output};

fn fbgate(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fbgate"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env(
            "FBGATE_DATABASE_URL",
            format!("sqlite://{}", dir.join("cli.db").display()),
        )
        .envs(vars.iter().copied())
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn generate_key(dir: &Path) -> String {
    let output = fbgate(dir, &["keys", "generate"], &[]);
    assert!(output.status.success());
    let key = stdout(&output).trim().to_owned();
    assert_eq!(key.len(), 44, "base64 of 32 bytes: {key}");
    key
}

#[test]
fn serve_refuses_to_start_without_a_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = fbgate(dir.path(), &["serve"], &[("FBGATE_LISTEN", "127.0.0.1:0")]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("no master key"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn serve_with_no_migrate_names_the_pending_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let key = generate_key(dir.path());
    let output = fbgate(
        dir.path(),
        &["serve", "--no-migrate"],
        &[
            ("FBGATE_LISTEN", "127.0.0.1:0"),
            ("FBGATE_MASTER_KEY", &key),
        ],
    );
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains("pending") && err.contains("environments and keys"),
        "{err}"
    );
}

#[test]
fn a_bad_setting_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    for (name, value) in [
        ("FBGATE_LISTEN", "not-an-address"),
        ("FBGATE_PUBLIC_URL", "ftp://example.com"),
        ("FBGATE_MASTER_KEY", "c2hvcnQ="),
        ("FBGATE_LOG_FORMAT", "yaml"),
        ("FBGATE_BODY_LIMIT_BYTES", "lots"),
    ] {
        let output = fbgate(dir.path(), &["migrate"], &[(name, value)]);
        assert!(!output.status.success(), "{name}={value} was accepted");
        assert!(
            stderr(&output).contains(name),
            "{name}: {}",
            stderr(&output)
        );
    }
    std::fs::write(
        dir.path().join("fbgate.toml"),
        "listen = 8080\nlisten_typo = 1\n",
    )
    .unwrap();
    let output = fbgate(dir.path(), &["migrate"], &[]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("listen"), "{}", stderr(&output));
}

#[test]
fn secrets_can_come_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let key = generate_key(dir.path());
    let key_file = dir.path().join("master.key");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    let output = fbgate(
        dir.path(),
        &["env", "create", "--slug", "from-file"],
        &[("FBGATE_MASTER_KEY_FILE", key_file.to_str().unwrap())],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let both = fbgate(
        dir.path(),
        &["migrate"],
        &[
            ("FBGATE_MASTER_KEY_FILE", key_file.to_str().unwrap()),
            ("FBGATE_MASTER_KEY", &key),
        ],
    );
    assert!(!both.status.success());
    assert!(
        stderr(&both).contains("FBGATE_MASTER_KEY"),
        "{}",
        stderr(&both)
    );
}

#[test]
fn environments_are_created_and_the_master_key_rotated_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let old = generate_key(dir.path());
    let created = fbgate(
        dir.path(),
        &["env", "create", "--slug", "cli", "--mode", "test"],
        &[("FBGATE_MASTER_KEY", &old)],
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let out = stdout(&created);
    assert!(
        out.contains("sk_test_") && out.contains("pk_test_"),
        "{out}"
    );
    let again = fbgate(
        dir.path(),
        &["env", "create", "--slug", "cli"],
        &[("FBGATE_MASTER_KEY", &old)],
    );
    assert!(!again.status.success());
    assert!(stderr(&again).contains("already exists"));

    let new = generate_key(dir.path());
    let new_file = dir.path().join("new.key");
    std::fs::write(&new_file, &new).unwrap();
    let rotate = |current: &str| {
        fbgate(
            dir.path(),
            &[
                "keys",
                "rotate",
                "--new-master-key-file",
                new_file.to_str().unwrap(),
            ],
            &[("FBGATE_MASTER_KEY", current)],
        )
    };
    let first = rotate(&old);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("1 resealed"), "{}", stdout(&first));
    // Running it again, even after switching the configured key, is harmless.
    let second = rotate(&new);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        stdout(&second).contains("0 resealed"),
        "{}",
        stdout(&second)
    );
    // The old key can no longer open the environment: creating a key for it needs the new one.
    let with_new = fbgate(
        dir.path(),
        &["env", "create", "--slug", "after"],
        &[("FBGATE_MASTER_KEY", &new)],
    );
    assert!(with_new.status.success(), "{}", stderr(&with_new));
}
