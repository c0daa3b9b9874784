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

/// The compose files, the Prometheus and Grafana configuration they mount, and the Dockerfile.
const DEPLOYMENT_FILES: &[&str] = &[
    "compose.yaml",
    "ops/cluster/compose.yaml",
    "ops/prometheus/prometheus.yml",
    "ops/cluster/prometheus.yml",
    "ops/grafana/datasource.yaml",
    "ops/grafana/dashboards.yaml",
];

/// The environment variables the settings document (and `WARUNG_CONFIG`).
fn documented_variables() -> Vec<String> {
    let example = std::fs::read_to_string(format!("{ROOT}/warung.toml.example")).unwrap();
    let mut names: Vec<String> =
        example.lines().filter_map(|l| l.strip_prefix("# Environment: ")).map(str::to_string).collect();
    names.push("WARUNG_CONFIG".to_string());
    names
}

#[test]
fn the_compose_files_parse_mount_files_that_exist_and_set_only_real_settings() {
    let documented = documented_variables();
    for file in DEPLOYMENT_FILES.iter().chain(&["Dockerfile", "ops/warung.service"]) {
        let path = std::path::Path::new(ROOT).join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        if file.ends_with(".yaml") || file.ends_with(".yml") {
            let parsed = Command::new("python3")
                .args(["-c", "import sys, yaml; yaml.safe_load(open(sys.argv[1]))"])
                .arg(&path)
                .output()
                .expect("python3 with PyYAML (scripts/test installs it)");
            assert!(parsed.status.success(), "{file}: {}", String::from_utf8_lossy(&parsed.stderr));
        }
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if word.starts_with("WARUNG_") && !word.ends_with('_') && word != "WARUNG_BUILD_COMMIT" {
                assert!(documented.iter().any(|d| d == word), "{file} sets {word}, which is not a setting");
            }
        }
        for line in text.lines().map(str::trim) {
            let Some(mount) = line
                .strip_prefix("- ./")
                .map(|m| format!("./{m}"))
                .or_else(|| line.strip_prefix("- ../").map(|m| format!("../{m}")))
            else {
                continue;
            };
            let host = mount.split(':').next().unwrap();
            let dir = path.parent().unwrap();
            assert!(dir.join(host).exists(), "{file} mounts {host}, which does not exist");
        }
    }
}

#[test]
fn prometheus_accepts_both_configurations_with_the_alert_rules() {
    for config in ["ops/prometheus/prometheus.yml", "ops/cluster/prometheus.yml"] {
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(format!("{ROOT}/{config}")).unwrap();
        // Inside the container the rules are mounted at /etc/prometheus; here they are in ops/.
        let text = text.replace("/etc/prometheus/alerts.yml", &format!("{ROOT}/ops/prometheus/alerts.yml"));
        let copy = dir.path().join("prometheus.yml");
        std::fs::write(&copy, text).unwrap();
        let out = Command::new("promtool").args(["check", "config"]).arg(&copy).output().unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && said.contains("SUCCESS: 13 rules found"), "{config}:\n{said}");
    }
}

/// The Dockerfile's runtime stage, run here without Docker: its environment (the listeners on
/// 0.0.0.0, the SQLite file in the state directory) for the binary this test built, as an
/// unprivileged user, and its HEALTHCHECK command against it.
#[actix_rt::test]
async fn the_images_runtime_settings_serve_and_pass_its_health_check() {
    let dockerfile = std::fs::read_to_string(format!("{ROOT}/Dockerfile")).unwrap();
    let runtime = dockerfile.rsplit_once("\nFROM ").unwrap().1;
    assert!(
        runtime.contains("\nUSER warung\n") && runtime.contains("ca-certificates"),
        "non-root, with CA certificates"
    );
    assert!(runtime.contains("postgresql-client"), "pg_dump for backups of Postgres");
    let mut environment: Vec<(String, String)> = Vec::new();
    let env_block = runtime.split("\nENV ").nth(1).unwrap().split("\nEXPOSE").next().unwrap();
    for pair in env_block.split_whitespace().filter(|w| w.contains('=')) {
        let (name, value) = pair.split_once('=').unwrap();
        environment.push((name.to_string(), value.to_string()));
    }
    let value = |name: &str| environment.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(value("WARUNG_HTTP__BIND"), "0.0.0.0:8080");
    assert_eq!(value("WARUNG_HTTP__OPS_BIND"), "0.0.0.0:9090");
    assert!(value("WARUNG_DATABASE__URL").starts_with("sqlite:///var/lib/warung/"));

    // Free ports and a state directory of this test's own; the addresses stay 0.0.0.0.
    let (public, ops) = (free_port(), free_port());
    let state = tempfile::tempdir().unwrap();
    let _ = Command::new("chmod").arg("777").arg(state.path()).status();
    let mut command = if is_root() {
        // setpriv execs the binary itself (no parent in between), so SIGTERM reaches warung.
        let mut c = Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", env!("CARGO_BIN_EXE_warung")]);
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_warung"))
    };
    let child = command
        .arg("serve")
        .current_dir(state.path())
        .env("WARUNG_HTTP__BIND", format!("0.0.0.0:{public}"))
        .env("WARUNG_HTTP__OPS_BIND", format!("0.0.0.0:{ops}"))
        .env("WARUNG_DATABASE__URL", format!("sqlite://{}/warung.db", state.path().display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Stopped(child);
    let check = runtime
        .split("CMD curl")
        .nth(1)
        .unwrap()
        .split("||")
        .next()
        .unwrap()
        .trim()
        .replace("8080", &public.to_string());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let health = Command::new("sh").arg("-c").arg(format!("curl {check}")).output().unwrap();
        if health.status.success() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the health check never passed");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    warung::infra::install_tls_provider();
    let metrics = reqwest::get(format!("http://127.0.0.1:{ops}/metrics")).await.unwrap();
    assert_eq!(metrics.status().as_u16(), 200, "the ops listener serves /metrics on 0.0.0.0");
    let _ = Command::new("kill").arg("-TERM").arg(child.0.id().to_string()).status();
    let status = child.0.wait().unwrap();
    assert!(status.success(), "a clean stop on SIGTERM: {status:?}");
    assert!(state.path().join("warung.db").exists());
}

#[test]
fn the_lock_file_matches_the_manifest_as_the_image_build_requires() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .args(["metadata", "--locked", "--offline", "--format-version", "1", "--no-deps"])
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo metadata --locked: {}", String::from_utf8_lossy(&out.stderr));
}

/// A child process killed if the test ends before it stops.
struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn is_root() -> bool {
    let id = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&id.stdout).trim() == "0"
}
