//! Backup file names: `warung-<UTC time>.<db|pgdump>`, which sort by the time they were taken.

use std::path::{Path, PathBuf};

use time::macros::format_description;
use time::OffsetDateTime;

/// Every backup's name starts with this; nothing else in a backup directory is touched.
pub const BACKUP_PREFIX: &str = "warung-";

/// The name of a backup taken at `at`.
pub fn file_name(at: OffsetDateTime, extension: &str) -> String {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    let stamp = at.to_offset(time::UtcOffset::UTC).format(&format).expect("a UTC time formats");
    format!("{BACKUP_PREFIX}{stamp}.{extension}")
}

/// A path for a backup taken now that no other backup has: a second one within the same second
/// gets a suffix.
pub(super) fn fresh_path(dir: &Path, extension: &str) -> PathBuf {
    let name = file_name(OffsetDateTime::now_utc(), extension);
    let mut path = dir.join(&name);
    let mut n = 2;
    while path.exists() {
        path = dir.join(name.replace(&format!(".{extension}"), &format!("-{n}.{extension}")));
        n += 1;
    }
    path
}

/// The time a backup's name says it was taken, if the name is a backup's.
pub fn taken_at(name: &str) -> Option<OffsetDateTime> {
    let rest = name.strip_prefix(BACKUP_PREFIX)?;
    let (stamp, extension) = rest.split_once('.')?;
    if extension != "db" && extension != "pgdump" {
        return None;
    }
    let stamp = stamp.split('-').next()?;
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(stamp, &format).ok().map(|t| t.assume_utc())
}

/// The backups in `dir`, oldest first.
pub fn backups_in(dir: &Path) -> std::io::Result<Vec<(OffsetDateTime, PathBuf)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(at) = taken_at(&name) {
            found.push((at, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backups_name_says_when_it_was_taken_and_nothing_else_reads_as_one() {
        let at = time::macros::datetime!(2026-12-02 07:15:00 UTC);
        let name = file_name(at, "db");
        assert_eq!(name, "warung-20261202T071500Z.db");
        assert_eq!(taken_at(&name), Some(at));
        assert_eq!(taken_at("warung-20261202T071500Z-2.pgdump"), Some(at));
        for other in ["warung-20261202T071500Z.db.partial", "notes.txt", "warung-yesterday.db", "warung.db"] {
            assert_eq!(taken_at(other), None, "{other}");
        }
    }
}
