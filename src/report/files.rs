//! The files a command writes for its user (reports, their exports, state, `-o` results):
//! never through a symlink someone planted where the file goes, never half-written.
//!
//! In: a path and the bytes. Out: the file, replaced atomically: written to a new temporary
//! file beside it (created exclusively, so not through anything already there), synced, and
//! renamed over the path (a rename replaces a symlink itself, never its target). Files honour
//! the umask, but state, which decides what later reports call new, is the user's alone (0600).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Who may read a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// As the umask allows (0666 less the umask).
    Shared,
    /// The owner only (0600).
    Private,
}

impl Access {
    fn mode(self) -> u32 {
        match self {
            Access::Shared => 0o666,
            Access::Private => 0o600,
        }
    }
}

/// Writes `bytes` to `path`, replacing it atomically (see the module).
pub fn write_atomic(path: &Path, bytes: &[u8], access: Access) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.{}.tmp",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    ));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    restrict(&mut options, access.mode());
    let written = options.open(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Opens `path` for writing from its start, refusing to follow a symlink there (for `-o`,
/// where results are written as they arrive).
pub fn create(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    restrict(&mut options, Access::Shared.mode());
    options.open(path).map_err(|e| {
        if e.raw_os_error() == Some(ELOOP) {
            io::Error::other(format!(
                "{} is a symbolic link: not written through (remove it, or name another file)",
                path.display()
            ))
        } else {
            e
        }
    })
}

#[cfg(unix)]
const ELOOP: i32 = 40;
#[cfg(not(unix))]
const ELOOP: i32 = -1;

#[cfg(unix)]
fn restrict(options: &mut OpenOptions, mode: u32) {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NOFOLLOW: a symlink at the path is an error, not a way elsewhere.
    options.mode(mode).custom_flags(0o400000);
}

#[cfg(not(unix))]
fn restrict(_: &mut OpenOptions, _: u32) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planted_symlink_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, "precious").unwrap();
        let report = dir.path().join("report.html");
        std::os::unix::fs::symlink(&target, &report).unwrap();
        // A planted temporary name too.
        std::os::unix::fs::symlink(&target, dir.path().join(".report.html.tmp")).unwrap();
        write_atomic(&report, b"the report", Access::Shared).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        assert_eq!(std::fs::read_to_string(&report).unwrap(), "the report");
        assert!(!std::fs::symlink_metadata(&report).unwrap().is_symlink());

        let out = dir.path().join("out.csv");
        std::os::unix::fs::symlink(&target, &out).unwrap();
        assert!(create(&out).is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
    }

    #[test]
    fn private_files_are_the_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        write_atomic(&state, b"{}", Access::Private).unwrap();
        let mode = std::fs::metadata(&state).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
