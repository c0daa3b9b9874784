//! The deployment kit as an operator meets it: the systemd unit, the license, the example
//! settings read by the real binary.

use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn the_systemd_unit_passes_systemds_own_check_and_outlasts_the_graceful_stop() {
    let unit = std::fs::read_to_string(format!("{ROOT}/ops/warung.service")).unwrap();
    for line in ["User=warung", "StateDirectory=warung", "Restart=on-failure", "TimeoutStopSec=45"] {
        assert!(unit.lines().any(|l| l == line), "the unit has {line}");
    }
    // The unit names the installed binary; the check needs one that exists here.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("warung.service");
    std::fs::write(&copy, unit.replace("/usr/local/bin/warung", env!("CARGO_BIN_EXE_warung"))).unwrap();
    let verify = Command::new("systemd-analyze").arg("verify").arg(&copy).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&verify.stdout), String::from_utf8_lossy(&verify.stderr));
    assert!(verify.status.success() && !said.contains("warung.service:"), "systemd-analyze verify:\n{said}");
}

#[test]
fn the_license_file_is_the_license_cargo_names() {
    let manifest = std::fs::read_to_string(format!("{ROOT}/Cargo.toml")).unwrap();
    assert!(manifest.contains("license = \"MIT\""));
    let license = std::fs::read_to_string(format!("{ROOT}/LICENSE")).unwrap();
    assert!(license.starts_with("MIT License"));
}

#[test]
fn the_binary_takes_the_example_settings_and_refuses_a_missing_file() {
    let example = format!("{ROOT}/warung.toml.example");
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], config: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_warung"));
        command.args(args).current_dir(dir.path()).env_remove("WARUNG_CONFIG");
        if let Some(config) = config {
            command.env("WARUNG_CONFIG", config);
        }
        command.output().unwrap()
    };
    let migrated = run(&["--config", &example, "migrate"], None);
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));
    assert!(dir.path().join("warung.db").exists(), "the example's SQLite file, in the working directory");
    let by_variable = run(&["audit"], Some(&example));
    assert!(by_variable.status.success(), "{}", String::from_utf8_lossy(&by_variable.stderr));
    let missing = run(&["audit"], Some("/nonexistent/warung.toml"));
    let error = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success() && error.contains("/nonexistent/warung.toml"), "{error}");
}

#[test]
fn the_alert_rules_load_in_promtool_fire_in_its_tests_and_each_has_a_runbook() {
    let dir = format!("{ROOT}/ops/prometheus");
    let promtool = |args: &[&str]| {
        let out = Command::new("promtool")
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("promtool (Debian package prometheus; scripts/test installs it)");
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "promtool {args:?}:\n{said}");
        said
    };
    assert!(promtool(&["check", "rules", "alerts.yml"]).contains("SUCCESS"));
    promtool(&["test", "rules", "alerts_test.yml"]);
    let rules = std::fs::read_to_string(format!("{dir}/alerts.yml")).unwrap();
    let alerts = rules.matches("- alert: ").count();
    assert!(alerts >= 10, "{alerts} alerts");
    assert_eq!(rules.matches("\n          runbook: ").count(), alerts, "one runbook line per alert");
    for topic in [
        "JournalCommitFailures",
        "StoreDown",
        "OutboxBacklog",
        "OutboxSendsFailing",
        "WebhookSignatureFailures",
        "MidtransUnreachable",
        "SlowHandling",
        "SqliteDiskLow",
    ] {
        assert!(rules.contains(&format!("- alert: Warung{topic}")), "an alert for {topic}");
    }
}
