//! Private files under `.fleet/`: prompts, transcripts and the log are the
//! user's business only. Everything fleetdeck creates there goes through
//! these helpers, so directories are 0700 and files 0600 whatever the umask
//! (a umask only removes bits, and these modes have no group or other bits
//! to begin with), and content left more open by an older fleetdeck is
//! tightened when it is opened again.
//!
//! Worktrees (`.fleet/worktrees/<id>`) are the user's checkout: their file
//! modes are part of git content and are never changed here; the 0700
//! `.fleet` above them already keeps other users out.

use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The mode of every directory fleetdeck creates under `.fleet/`.
pub const DIR_MODE: u32 = 0o700;
/// The mode of every file fleetdeck creates under `.fleet/`.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) as 0700, and tightens `dir` itself
/// to 0700 when it already exists with group or other permissions. Called
/// whenever fleetdeck is about to put something in a directory of `.fleet/`.
pub fn create_dir_private(dir: &Path) -> io::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    tighten(dir, DIR_MODE)
}

/// Opens `path` with `options`, creating it as 0600; an existing file with
/// group or other permissions is tightened to 0600 through the open handle.
pub fn open_private(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    let file = options.mode(FILE_MODE).open(path)?;
    let mode = file.metadata()?.permissions().mode();
    if mode & 0o077 != 0 {
        file.set_permissions(Permissions::from_mode(mode & FILE_MODE))?;
    }
    Ok(file)
}

/// Removes group and other permissions from `path` if it has any (keeping
/// the owner's bits within `max`); a missing path is not an error. Used for
/// files created by others on our behalf (SQLite's `-wal` and `-shm`) and
/// for fleets made by an older fleetdeck.
pub fn tighten(path: &Path, max: u32) -> io::Result<()> {
    let mode = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => return Ok(()),
        Ok(m) => m.permissions().mode(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if mode & 0o077 == 0 {
        return Ok(());
    }
    std::fs::set_permissions(path, Permissions::from_mode(mode & max & 0o777))
}

/// Copies the directory tree `from` into `to` (created), with directories
/// 0700 and files keeping only their owner's permission bits. Used for a
/// profile's home template, copied into `.fleet/homes/<task>`.
pub fn copy_dir_private(from: &Path, to: &Path) -> io::Result<()> {
    create_dir_private(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir_private(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
            tighten(&target, 0o700)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn created_dirs_and_files_are_private_even_with_an_open_umask() {
        let dir = tempfile::tempdir().unwrap();
        // Umask is process-wide: only this test changes it, and only to 0.
        let old = nix::sys::stat::umask(nix::sys::stat::Mode::empty());
        let sub = dir.path().join("a/b");
        let created = create_dir_private(&sub);
        let file = open_private(&sub.join("f"), OpenOptions::new().create(true).append(true));
        nix::sys::stat::umask(old);
        created.unwrap();
        file.unwrap();
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        assert_eq!(mode(&sub), 0o700);
        assert_eq!(mode(&sub.join("f")), 0o600);
    }

    #[test]
    fn existing_open_content_is_tightened_and_a_missing_path_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("fleet");
        std::fs::create_dir(&sub).unwrap();
        std::fs::set_permissions(&sub, Permissions::from_mode(0o755)).unwrap();
        let f = sub.join("log");
        std::fs::write(&f, "x").unwrap();
        std::fs::set_permissions(&f, Permissions::from_mode(0o644)).unwrap();
        create_dir_private(&sub).unwrap();
        open_private(&f, OpenOptions::new().append(true)).unwrap();
        assert_eq!((mode(&sub), mode(&f)), (0o700, 0o600));
        tighten(&sub.join("missing"), FILE_MODE).unwrap();
    }

    #[test]
    fn a_copied_template_keeps_only_the_owners_bits() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("t");
        std::fs::create_dir_all(from.join("d")).unwrap();
        std::fs::write(from.join("d/run"), "x").unwrap();
        std::fs::set_permissions(from.join("d/run"), Permissions::from_mode(0o755)).unwrap();
        let to = dir.path().join("home");
        copy_dir_private(&from, &to).unwrap();
        assert_eq!(mode(&to.join("d")), 0o700);
        assert_eq!(mode(&to.join("d/run")), 0o700);
    }
}
