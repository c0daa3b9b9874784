//! Backups on a schedule from `serve` (`backup.dir` set): one every `every_hours`, counted from
//! the newest backup already in the directory (so a restart neither skips one nor takes an
//! extra), keeping the newest `keep`. In a cluster, set it on one node: every node's backup
//! would be of the same database.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use time::OffsetDateTime;

use super::{backups_in, take};
use crate::settings::{BackupSettings, SecretUrl};

/// After a failed backup, how long before the next try.
pub const BACKUP_RETRY_AFTER_SECS: u64 = 10 * 60;

/// What the scheduled backups have done, for `/metrics`.
#[derive(Debug, Default)]
pub struct BackupCounters {
    pub succeeded: AtomicU64,
    pub failed: AtomicU64,
    /// Unix seconds of the newest backup this process took; 0 before the first.
    pub last_success_unix: AtomicU64,
    pub last_bytes: AtomicU64,
}

/// This process's backups (one schedule per process).
pub static BACKUPS: BackupCounters = BackupCounters {
    succeeded: AtomicU64::new(0),
    failed: AtomicU64::new(0),
    last_success_unix: AtomicU64::new(0),
    last_bytes: AtomicU64::new(0),
};

/// Starts the schedule when the settings ask for one.
pub fn start(settings: &BackupSettings, url: &SecretUrl) -> Option<tokio::task::JoinHandle<()>> {
    let dir = settings.dir.clone()?;
    let every = Duration::from_secs(settings.every_hours * 3_600);
    let (url, keep) = (url.clone(), settings.keep);
    tracing::info!(dir = %dir.display(), every_hours = settings.every_hours, keep, "scheduled backups on");
    Some(tokio::spawn(async move { run(url, dir, every, keep).await }))
}

async fn run(url: SecretUrl, dir: PathBuf, every: Duration, keep: usize) {
    remove_partials(&dir);
    loop {
        let newest = backups_in(&dir).ok().and_then(|all| all.last().map(|(at, _)| *at));
        tokio::time::sleep(wait_before_next(newest, every, OffsetDateTime::now_utc())).await;
        match take(&url, &dir).await {
            Ok(snapshot) => {
                BACKUPS.succeeded.fetch_add(1, Ordering::Relaxed);
                BACKUPS.last_success_unix.store(OffsetDateTime::now_utc().unix_timestamp() as u64, Ordering::Relaxed);
                BACKUPS.last_bytes.store(snapshot.bytes, Ordering::Relaxed);
                tracing::info!(file = %snapshot.path.display(), bytes = snapshot.bytes, took_ms = snapshot.took.as_millis() as u64, "backup taken");
                match prune(&dir, keep) {
                    Ok(removed) if !removed.is_empty() => {
                        tracing::info!(removed = removed.len(), "old backups removed")
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "could not remove old backups"),
                }
            }
            Err(error) => {
                BACKUPS.failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %error, retry_in_secs = BACKUP_RETRY_AFTER_SECS, "backup failed");
                tokio::time::sleep(Duration::from_secs(BACKUP_RETRY_AFTER_SECS)).await;
            }
        }
    }
}

/// How long until the next backup is due: `every` after the newest, at once if that has passed
/// or there is none.
fn wait_before_next(newest: Option<OffsetDateTime>, every: Duration, now: OffsetDateTime) -> Duration {
    let Some(newest) = newest else { return Duration::ZERO };
    let due = newest + every;
    if due <= now {
        Duration::ZERO
    } else {
        (due - now).try_into().unwrap_or(every)
    }
}

/// Files a backup cut short by a stop left behind.
fn remove_partials(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(super::BACKUP_PREFIX) && name.ends_with(".partial") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Removes all but the newest `keep` backups in `dir`; other files are never touched.
pub fn prune(dir: &Path, keep: usize) -> std::io::Result<Vec<PathBuf>> {
    let all = backups_in(dir)?;
    let surplus = all.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for (_, path) in all.into_iter().take(surplus) {
        std::fs::remove_file(&path)?;
        removed.push(path);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn the_next_backup_is_due_a_period_after_the_newest_and_at_once_without_one() {
        let every = Duration::from_secs(24 * 3_600);
        let now = datetime!(2026-12-02 12:00:00 UTC);
        assert_eq!(wait_before_next(None, every, now), Duration::ZERO);
        assert_eq!(wait_before_next(Some(datetime!(2026-12-01 06:00:00 UTC)), every, now), Duration::ZERO);
        assert_eq!(
            wait_before_next(Some(datetime!(2026-12-02 06:00:00 UTC)), every, now),
            Duration::from_secs(18 * 3_600)
        );
    }

    #[test]
    fn pruning_keeps_the_newest_and_touches_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "warung-20261201T000000Z.db",
            "warung-20261202T000000Z.db",
            "warung-20261130T000000Z.db",
            "warung-20261203T000000Z.db.partial",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        let removed = prune(dir.path(), 2).unwrap();
        assert_eq!(removed, vec![dir.path().join("warung-20261130T000000Z.db")]);
        let mut left: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
        left.sort();
        assert_eq!(
            left,
            [
                "notes.txt",
                "warung-20261201T000000Z.db",
                "warung-20261202T000000Z.db",
                "warung-20261203T000000Z.db.partial"
            ]
        );
    }
}
