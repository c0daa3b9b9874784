//! Records the commit the binary is built from, for `warung_build_info` and `--version` users.

use std::process::Command;

fn main() {
    // A container build has no .git: it passes the commit in (`--build-arg WARUNG_BUILD_COMMIT`).
    let given = std::env::var("WARUNG_BUILD_COMMIT").ok().filter(|c| !c.is_empty() && c != "unknown");
    let commit = given.unwrap_or_else(git_commit);
    println!("cargo:rustc-env=WARUNG_BUILD_COMMIT={commit}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    println!("cargo:rerun-if-env-changed=WARUNG_BUILD_COMMIT");
    // `sqlx::migrate!` embeds the migrations; a build script that names what it watches turns
    // off cargo's own watching of the package, so a new migration would not rebuild without this.
    println!("cargo:rerun-if-changed=migrations");
}

fn git_commit() -> String {
    Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|commit| !commit.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}
