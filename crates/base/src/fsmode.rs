//! File modes. The archive holds session keys, user names and IP addresses, so everything
//! sfevents writes is owner-only (folders 0700, files 0600) whatever the umask; with
//! `archive_group_read` the archive's data (raw CSV and NDJSON, and their folders) is also
//! readable by the group (0640 / 0750), while state.db, the spool, logs, lock files and dead
//! letters stay owner-only.
//!
//! Two layers: [`restrict_umask`] at the start of the binary makes anything a library creates
//! (SQLite's state.db, -wal and -shm, temporary files) owner-only; and every file and folder
//! sfevents creates itself gets an explicit mode here, set with chmod after creation (the
//! umask can only remove bits, and library callers such as tests keep their own umask).

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Folders only the owner may enter.
pub const PRIVATE_DIR: u32 = 0o700;
/// Files only the owner may read.
pub const PRIVATE_FILE: u32 = 0o600;
/// setuid, setgid, sticky: kept when a mode is set, so an admin's setgid folder (which makes
/// new files take the folder's group) stays setgid.
const SPECIAL: u32 = 0o7000;

/// Who may read the archive's data (raw CSV and NDJSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// Only the user sfevents runs as.
    #[default]
    Owner,
    /// Also the folder's group (`archive_group_read`).
    Group,
}

impl Access {
    pub fn new(group_read: bool) -> Access {
        if group_read {
            Access::Group
        } else {
            Access::Owner
        }
    }

    /// The archive root, `output/`, `events/` and the folders below.
    pub fn data_dir(self) -> u32 {
        match self {
            Access::Owner => PRIVATE_DIR,
            Access::Group => 0o750,
        }
    }

    /// Raw CSV and NDJSON files.
    pub fn data_file(self) -> u32 {
        match self {
            Access::Owner => PRIVATE_FILE,
            Access::Group => 0o640,
        }
    }
}

/// Adds 077 to the process umask (never loosening a stricter one), so files created by
/// libraries that take no mode are owner-only from their first byte. Call before any thread
/// starts: the umask is process-wide.
pub fn restrict_umask() {
    // SAFETY: umask only swaps an integer in the process; it cannot fail.
    unsafe {
        let old = libc::umask(0o077);
        libc::umask(old | 0o077);
    }
}

fn chmod_error(path: &Path, mode: u32, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!(
            "cannot set the mode of {} to {mode:o}: {e}. It must belong to the user sfevents runs as: chown it to that user, or remove it",
            path.display()
        ),
    )
}

/// Sets the permission bits of `path` to `mode` (keeping setgid and the like) if they differ.
/// Returns the old mode when it changed.
pub fn set_mode(path: &Path, mode: u32) -> io::Result<Option<u32>> {
    let cur = fs::metadata(path)?.permissions().mode() & 0o7777;
    let want = (cur & SPECIAL) | mode;
    if cur == want {
        return Ok(None);
    }
    fs::set_permissions(path, fs::Permissions::from_mode(want))
        .map_err(|e| chmod_error(path, mode, e))?;
    Ok(Some(cur))
}

/// Removes from `path` the permission bits outside `allowed` (0o600 turns 0644 into 0600 and
/// leaves 0400 alone). A missing file is not an error. Returns the old mode when it changed.
pub fn restrict(path: &Path, allowed: u32) -> io::Result<Option<u32>> {
    let cur = match fs::metadata(path) {
        Ok(m) => m.permissions().mode() & 0o7777,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if cur & 0o777 & !allowed == 0 {
        return Ok(None);
    }
    let want = (cur & SPECIAL) | (cur & allowed);
    fs::set_permissions(path, fs::Permissions::from_mode(want))
        .map_err(|e| chmod_error(path, allowed, e))?;
    Ok(Some(cur))
}

/// Like `fs::create_dir_all`, but every folder it creates gets `mode`. Folders that already
/// exist (the parents of the archive above all) are left as they are.
pub fn create_dir_all(path: &Path, mode: u32) -> io::Result<()> {
    let mut missing: Vec<&Path> = Vec::new();
    let mut p = path;
    loop {
        match fs::metadata(p) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!(
                        "{} exists and is not a folder: move it away or choose another folder",
                        p.display()
                    ),
                ))
            }
            // Not a directory: a file further up is in the way; going up names it.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                missing.push(p);
                match p.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => p = parent,
                    _ => break,
                }
            }
            Err(e) => return Err(e),
        }
    }
    for d in missing.into_iter().rev() {
        match DirBuilder::new().mode(mode).create(d) {
            Ok(()) => {
                set_mode(d, mode)?;
            }
            // Another thread (a parallel download into the same day) made it first, with the
            // same mode.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && d.is_dir() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Opens `path` with `opts`, giving a created file `mode`; an existing file's mode is set to
/// `mode` too, so files left by older versions are tightened when next written.
pub fn open(opts: &mut OpenOptions, path: &Path, mode: u32) -> io::Result<File> {
    let f = opts.mode(mode).open(path)?;
    let cur = f.metadata()?.permissions().mode() & 0o7777;
    let want = (cur & SPECIAL) | mode;
    if cur != want {
        f.set_permissions(fs::Permissions::from_mode(want))
            .map_err(|e| chmod_error(path, mode, e))?;
    }
    Ok(f)
}

/// `File::create` with `mode`.
pub fn create_file(path: &Path, mode: u32) -> io::Result<File> {
    open(
        OpenOptions::new().write(true).create(true).truncate(true),
        path,
        mode,
    )
}

/// Opens `path` for appending, creating it with `mode`.
pub fn open_append(path: &Path, mode: u32) -> io::Result<File> {
    open(OpenOptions::new().append(true).create(true), path, mode)
}

/// Makes a SQLite database and its `-wal` and `-shm` owner-only before SQLite opens them.
/// An existing group- or world-readable one is tightened and the paths are returned (so the
/// caller warns once); a missing database is created empty with 0600, because SQLite gives its
/// `-wal` and `-shm` files the database's mode.
pub fn private_sqlite(db: &Path) -> io::Result<Vec<PathBuf>> {
    let mut tightened = Vec::new();
    let mut paths = vec![db.to_path_buf()];
    for suffix in ["-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        paths.push(PathBuf::from(p));
    }
    for p in paths {
        if restrict(&p, PRIVATE_FILE)?.is_some() {
            tightened.push(p);
        }
    }
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE_FILE)
        .open(db)
    {
        // An empty file is an empty SQLite database.
        Ok(f) => f
            .set_permissions(fs::Permissions::from_mode(PRIVATE_FILE))
            .map_err(|e| chmod_error(db, PRIVATE_FILE, e))?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    Ok(tightened)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn created_folders_get_the_mode_and_existing_parents_keep_theirs() {
        let d = tempfile::tempdir().unwrap();
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let deep = d.path().join("a/b/c");
        create_dir_all(&deep, 0o700).unwrap();
        for p in ["a", "a/b", "a/b/c"] {
            assert_eq!(mode(&d.path().join(p)), 0o700, "{p}");
        }
        assert_eq!(mode(d.path()), 0o755, "a parent outside is left alone");
        // Again: nothing to do, nothing changed.
        fs::set_permissions(d.path().join("a"), fs::Permissions::from_mode(0o711)).unwrap();
        create_dir_all(&deep, 0o700).unwrap();
        assert_eq!(mode(&d.path().join("a")), 0o711);
        // A file in the way is named.
        fs::write(d.path().join("f"), "").unwrap();
        let e = create_dir_all(&d.path().join("f/x"), 0o700).unwrap_err();
        assert!(e.to_string().contains("is not a folder"), "{e}");
    }

    #[test]
    fn a_setgid_folder_stays_setgid() {
        let d = tempfile::tempdir().unwrap();
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o2750)).unwrap();
        let sub = d.path().join("events");
        create_dir_all(&sub, 0o750).unwrap();
        // Linux gives a folder made in a setgid folder the setgid bit; chmod keeps it.
        assert_eq!(mode(&sub), 0o2750);
        assert_eq!(set_mode(&sub, 0o700).unwrap(), Some(0o2750));
        assert_eq!(mode(&sub), 0o2700);
    }

    #[test]
    fn files_get_the_mode_new_or_existing() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o666)).unwrap();
        create_file(&p, PRIVATE_FILE).unwrap();
        assert_eq!(mode(&p), 0o600);
        assert_eq!(fs::read(&p).unwrap(), b"", "create truncates");
        let q = d.path().join("y");
        open_append(&q, 0o640).unwrap();
        assert_eq!(mode(&q), 0o640);
        open_append(&q, PRIVATE_FILE).unwrap();
        assert_eq!(mode(&q), 0o600);
    }

    #[test]
    fn restrict_only_removes_bits() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x");
        fs::write(&p, "").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(restrict(&p, 0o600).unwrap(), Some(0o644));
        assert_eq!(mode(&p), 0o600);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o400)).unwrap();
        assert_eq!(restrict(&p, 0o600).unwrap(), None);
        assert_eq!(mode(&p), 0o400);
        assert_eq!(restrict(&d.path().join("missing"), 0o600).unwrap(), None);
    }

    #[test]
    fn sqlite_files_are_private_and_old_ones_tightened() {
        let d = tempfile::tempdir().unwrap();
        let db = d.path().join("state.db");
        assert!(private_sqlite(&db).unwrap().is_empty());
        assert_eq!(mode(&db), 0o600);
        let c = rusqlite::Connection::open(&db).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
        c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
        let wal = d.path().join("state.db-wal");
        let shm = d.path().join("state.db-shm");
        // SQLite gives -wal and -shm the database's mode.
        assert_eq!(mode(&wal), 0o600);
        assert_eq!(mode(&shm), 0o600);
        for p in [&db, &wal] {
            fs::set_permissions(p, fs::Permissions::from_mode(0o644)).unwrap();
        }
        assert_eq!(private_sqlite(&db).unwrap(), vec![db.clone(), wal.clone()]);
        assert_eq!((mode(&db), mode(&wal)), (0o600, 0o600));
        drop(c);
        // The existing database was not replaced.
        let c = rusqlite::Connection::open(&db).unwrap();
        let x: i64 = c.query_row("SELECT x FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(x, 1);
    }

    #[test]
    fn modes_hold_under_umask_000() {
        // The umask is process-wide: other tests creating files meanwhile only get looser
        // modes, which none of them checks; this module's checks set explicit modes.
        let old = unsafe { libc::umask(0) };
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("a/b");
        let r = (|| -> io::Result<Vec<u32>> {
            create_dir_all(&dir, PRIVATE_DIR)?;
            let f = dir.join("f");
            create_file(&f, PRIVATE_FILE)?;
            let g = dir.join("g");
            open_append(&g, Access::Group.data_file())?;
            let db = dir.join("db");
            private_sqlite(&db)?;
            Ok(vec![
                mode(&d.path().join("a")),
                mode(&dir),
                mode(&f),
                mode(&g),
                mode(&db),
            ])
        })();
        unsafe { libc::umask(old) };
        assert_eq!(r.unwrap(), vec![0o700, 0o700, 0o600, 0o640, 0o600]);
    }
}
