//! Atomic file writes, shared by reports, metrics files and checkpoints.
//!
//! A reader never sees half a file: [`write_atomic`] writes a temporary file in the target's
//! own folder, flushes it to disk, then renames it over the target (a rename within one folder
//! is atomic on every platform we build for). If anything fails, the old file is left as it was
//! and the temporary file is removed.

use std::error::Error;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A file or folder could not be written. The message names the path, the step that failed,
/// the operating system's reason and how to fix it.
#[derive(Debug)]
pub struct WriteError {
    /// The file or folder that could not be written.
    pub path: PathBuf,
    /// The step that failed, e.g. `"create folder"` or `"rename temporary file"`.
    pub action: &'static str,
    /// The underlying error.
    pub source: io::Error,
}

impl WriteError {
    fn new(path: &Path, action: &'static str, source: io::Error) -> Self {
        WriteError {
            path: path.to_path_buf(),
            action,
            source,
        }
    }

    /// A one-line suggestion for the common causes, chosen from the error kind.
    fn hint(&self) -> &'static str {
        match self.source.kind() {
            io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
                "choose a folder you can write to, or change the folder's permissions"
            }
            io::ErrorKind::NotADirectory => {
                "a part of this path is a regular file, not a folder: choose another path \
                 or move that file away"
            }
            io::ErrorKind::AlreadyExists | io::ErrorKind::IsADirectory => {
                "something of the wrong kind (a file where a folder is needed, or a folder \
                 where a file is needed) already has this name: choose another path or remove it"
            }
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
                "free some disk space or write somewhere else"
            }
            _ => "check that the path is a writable folder (or a file in one) and try again",
        }
    }
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot write {}: {} failed: {}; {}",
            self.path.display(),
            self.action,
            self.source,
            self.hint()
        )
    }
}

impl Error for WriteError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// Creates `dir` and any missing parents (like `mkdir -p`).
///
/// # Errors
/// A [`WriteError`] naming the folder when it cannot be created, for example because a part of
/// the path is a regular file or the parent is not writable.
pub fn create_dir_all(dir: &Path) -> Result<(), WriteError> {
    fs::create_dir_all(dir).map_err(|e| WriteError::new(dir, "create folder", e))?;
    // Guard against anything that let the call succeed without leaving a folder behind.
    if !dir.is_dir() {
        return Err(WriteError::new(
            dir,
            "create folder",
            io::Error::from(io::ErrorKind::AlreadyExists),
        ));
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, `fsync`, then a
/// rename over `path`. Missing parent folders are created.
///
/// Readers see either the old file or the complete new one, never a truncated mix, even if
/// the program is killed half-way through.
///
/// # Errors
/// A [`WriteError`] naming `path` and the failed step (create folder, create temporary file,
/// write, sync, rename) when the folder is not writable, the disk is full, `path` is a folder,
/// and so on. The temporary file is removed on failure.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<(), WriteError> {
    let path = path.as_ref();
    let file_name = path.file_name().ok_or_else(|| {
        WriteError::new(
            path,
            "name the file",
            io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"),
        )
    })?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    create_dir_all(&dir)?;
    if path.is_dir() {
        return Err(WriteError::new(
            path,
            "replace file",
            io::Error::from(io::ErrorKind::IsADirectory),
        ));
    }

    // Unique per process and per call, so concurrent writers never share a temporary file.
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".{}.{n}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);

    let result = write_and_rename(&tmp, path, bytes);
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(&dir);
    Ok(())
}

fn write_and_rename(tmp: &Path, path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(tmp)
        .map_err(|e| WriteError::new(path, "create temporary file", e))?;
    file.write_all(bytes)
        .map_err(|e| WriteError::new(path, "write", e))?;
    file.sync_all()
        .map_err(|e| WriteError::new(path, "sync to disk", e))?;
    drop(file);
    fs::rename(tmp, path).map_err(|e| WriteError::new(path, "rename temporary file", e))
}

/// Makes the rename itself durable by syncing the folder (Unix only; best effort, because
/// some file systems refuse to sync a folder and the data is already safe in the file).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = (dir, File::open);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fresh folder under the system temp dir, removed when dropped.
    pub(crate) struct TempDir(pub PathBuf);

    impl TempDir {
        pub(crate) fn new(tag: &str) -> Self {
            static N: AtomicU64 = AtomicU64::new(0);
            let n = N.fetch_add(1, Ordering::Relaxed);
            let p =
                std::env::temp_dir().join(format!("minidl-test-{tag}-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_replaces_and_leaves_no_temporary_file() {
        let t = TempDir::new("fs-write");
        let p = t.0.join("a.txt");
        write_atomic(&p, b"first").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"first");
        write_atomic(&p, b"second, longer").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second, longer");
        write_atomic(&p, b"").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"");
        assert_eq!(entries(&t.0), vec!["a.txt"]);
    }

    #[test]
    fn creates_missing_parent_folders() {
        let t = TempDir::new("fs-parents");
        let p = t.0.join("x/y/z.json");
        write_atomic(&p, b"{}").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"{}");
    }

    #[test]
    fn path_under_a_regular_file_is_an_error_naming_it() {
        let t = TempDir::new("fs-notdir");
        let file = t.0.join("plain");
        fs::write(&file, b"x").unwrap();
        let err = write_atomic(file.join("sub/out.txt"), b"y").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("cannot write "), "{msg}");
        assert!(msg.contains("plain"), "{msg}");
        assert!(msg.contains("create folder failed"), "{msg}");
        assert!(msg.contains("regular file"), "{msg}");
        // The file that was in the way is untouched.
        assert_eq!(fs::read(&file).unwrap(), b"x");
    }

    #[test]
    fn folder_named_like_the_target_is_an_error() {
        let t = TempDir::new("fs-isdir");
        let err = write_atomic(&t.0, b"y").unwrap_err();
        assert_eq!(err.action, "replace file");
        assert_eq!(entries(&t.0), Vec::<String>::new());
    }

    #[test]
    fn create_dir_all_on_a_regular_file_is_an_error() {
        let t = TempDir::new("fs-mkdir");
        let file = t.0.join("f");
        fs::write(&file, b"x").unwrap();
        let err = create_dir_all(&file).unwrap_err();
        assert_eq!(err.action, "create folder");
        assert!(err.to_string().contains("already has this name"), "{err}");
        create_dir_all(&t.0.join("new/nested")).unwrap();
        assert!(t.0.join("new/nested").is_dir());
    }
}
