//! `GoCheck::from_env` reads `PARKWAY_GO_CHECK`.
//!
//! The environment is never mutated in this process: each case re-runs this
//! test binary as a child process with the variable set, running only the
//! ignored `child_reports_from_env` test, which prints what it read.

use std::process::Command;

use parkway_go_check::{GoCheck, ENV_VAR};

const CHILD_MARKER: &str = "PARKWAY_GO_CHECK_TEST_CHILD";

/// Runs the child test with `PARKWAY_GO_CHECK` set to `value` (or unset),
/// returning the mode it printed and its stderr.
fn run_child(value: Option<&str>) -> (String, String) {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new(exe);
    cmd.args([
        "child_reports_from_env",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_MARKER, "1");
    match value {
        Some(v) => cmd.env(ENV_VAR, v),
        None => cmd.env_remove(ENV_VAR),
    };
    let out = cmd.output().expect("run child test");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    let mode = stdout
        .lines()
        .find_map(|l| l.split_once("child-mode=").map(|(_, m)| m.trim()))
        .unwrap_or_else(|| panic!("child printed no mode:\n{stdout}\n{stderr}"))
        .to_owned();
    (mode, stderr)
}

/// Not a test of its own: the body the parent runs in a child process.
#[test]
#[ignore = "run by the other tests in a child process with PARKWAY_GO_CHECK set"]
fn child_reports_from_env() {
    assert!(
        std::env::var_os(CHILD_MARKER).is_some(),
        "run only as a child of the env tests"
    );
    // Read twice: an unknown value must warn once, not twice.
    let first = GoCheck::from_env();
    let second = GoCheck::default();
    assert_eq!(first, second);
    // The harness prints "test … " on the same line, so mark the value.
    println!("\nchild-mode={first}");
}

#[test]
fn valid_values_set_the_mode() {
    for (value, mode) in [
        ("off", GoCheck::Off),
        ("WARN", GoCheck::Warn),
        (" strict ", GoCheck::Strict),
    ] {
        let (got, stderr) = run_child(Some(value));
        assert_eq!(got, mode.as_str(), "for {value:?}");
        assert!(!stderr.contains("warning"), "unexpected warning: {stderr}");
    }
}

#[test]
fn unset_or_empty_gives_the_build_default_silently() {
    for value in [None, Some(""), Some("  ")] {
        let (got, stderr) = run_child(value);
        assert_eq!(got, GoCheck::build_default().as_str(), "for {value:?}");
        assert!(!stderr.contains("warning"), "unexpected warning: {stderr}");
    }
}

#[test]
fn unknown_value_warns_once_and_keeps_the_default() {
    let (got, stderr) = run_child(Some("loud"));
    let default = GoCheck::build_default();
    assert_eq!(got, default.as_str());
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "expected one warning, got:\n{stderr}");
    assert!(warnings[0].contains("\"loud\""), "{}", warnings[0]);
    assert!(warnings[0].contains(ENV_VAR), "{}", warnings[0]);
    assert!(
        warnings[0].contains(&format!("`{default}`")),
        "{}",
        warnings[0]
    );
}
