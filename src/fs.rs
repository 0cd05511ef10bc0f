//! Atomic file writes, shared by reports, metrics files and checkpoints, and the checks that
//! find an unwritable output before a run starts.
//!
//! A reader never sees half a file: [`write_atomic`] writes a temporary file in the target's
//! own folder, flushes it to disk, then renames it over the target (a rename within one folder
//! is atomic on every platform we build for). If anything fails, the old file is left as it was
//! and the temporary file is removed. The writer is `tensor::atomic`, the one implementation
//! every minidl crate uses; its rules, in short:
//!
//! - only a **regular file** (or a new path) is replaced;
//! - a **symbolic link** is written through: its final target gets the new content and the link
//!   stays a link;
//! - a **folder, FIFO, socket or device** (`/dev/null` included) is refused, never renamed over;
//! - temporary files are `.<name>.<pid>.<n>.tmp` (a long name is shortened, so any valid target
//!   name works); [`prepare_output`] removes those a killed run left behind.
//!
//! [`output_key`] and [`prepare_output`] let a program check all its outputs before it starts:
//! that no two flags name the same file (through links, `./a` vs `a`), that each can be
//! replaced, and that its folder can be written (a probe file is created and removed).

use std::error::Error;
use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};

use tensor::atomic::{self, AtomicError};

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
    /// A one-line suggestion for the common causes, chosen from the error kind.
    fn hint(&self) -> &'static str {
        if self.not_regular().is_some() {
            return "only a regular file is replaced, so it was left as it is: give the path \
                    of a regular file or a new one";
        }
        if self.action == "name the file" && self.source.kind() == io::ErrorKind::InvalidInput {
            return "give the path of a file, such as run/metrics.jsonl";
        }
        match self.source.kind() {
            io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
                "choose a folder you can write to, or change the folder's permissions"
            }
            io::ErrorKind::NotADirectory => {
                "a part of this path is a file, not a folder: choose another path or move \
                 that file away"
            }
            io::ErrorKind::AlreadyExists | io::ErrorKind::IsADirectory => {
                "something of the wrong kind (a file where a folder is needed, or a folder \
                 where a file is needed) already has this name: choose another path or remove it"
            }
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
                "free some disk space or write somewhere else"
            }
            io::ErrorKind::InvalidFilename => {
                "a name in the path is too long (most systems allow 255 bytes per name): \
                 choose a shorter one"
            }
            _ => "check that the path is a writable folder (or a file in one) and try again",
        }
    }

    /// Why the target was refused, when it exists and is not a regular file.
    pub fn not_regular(&self) -> Option<&atomic::NotRegularFile> {
        self.source
            .get_ref()
            .and_then(|e| e.downcast_ref::<atomic::NotRegularFile>())
    }
}

impl From<AtomicError> for WriteError {
    fn from(e: AtomicError) -> Self {
        WriteError {
            path: e.path,
            action: e.action,
            source: e.source,
        }
    }
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.not_regular() {
            // "replace file failed: it is a FIFO" says less than the kind alone
            Some(why) => write!(
                f,
                "cannot write {}: {why}; {}",
                shown(&self.path),
                self.hint()
            ),
            None => write!(
                f,
                "cannot write {}: {} failed: {}; {}",
                shown(&self.path),
                self.action,
                self.source,
                self.hint()
            ),
        }
    }
}

impl Error for WriteError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// `path` for a one-line message: as `display()` shows it, with control characters (a newline
/// in a file name) escaped as `\n`, `\u{1b}`, ... so the message stays on one line.
pub fn shown(path: &Path) -> String {
    let text = path.display().to_string();
    if !text.chars().any(char::is_control) {
        return text;
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Creates `dir` and any missing parents (like `mkdir -p`).
///
/// # Errors
/// A [`WriteError`] naming the folder when it cannot be created, for example because a part of
/// the path is a regular file or the parent is not writable.
pub fn create_dir_all(dir: &Path) -> Result<(), WriteError> {
    Ok(atomic::create_dir_all(dir)?)
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, `fsync`, then a
/// rename over `path`. Missing parent folders are created. A symbolic link is written through
/// (its target is replaced, the link kept); a folder, FIFO, socket or device is refused.
///
/// Readers see either the old file or the complete new one, never a truncated mix, even if
/// the program is killed half-way through.
///
/// # Errors
/// A [`WriteError`] naming `path` and the failed step (create folder, create temporary file,
/// write, sync, rename) when the folder is not writable, the disk is full, `path` is a folder
/// or another kind of non-regular file, and so on. The temporary file is removed on failure.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<(), WriteError> {
    atomic::write(path.as_ref(), bytes)?;
    Ok(())
}

/// What identifies the file `path` names, to tell when two flags name the same one without
/// creating or writing anything: the absolute path of the file a write would replace, with
/// symbolic links followed (the file's own links, and those of its existing folders) and `.`
/// and `..` taken out. `./a`, `a`, `dir/../a` and a link to `a` all give the same key.
///
/// # Errors
/// A [`WriteError`] when `path` has no file name, names a folder, FIFO, socket or device
/// (directly or through links), or its links cannot be followed.
pub fn output_key(path: &Path) -> Result<PathBuf, WriteError> {
    let target = atomic::check_replaceable(path)?;
    Ok(absolute_key(&target))
}

/// `path` made absolute with the links of its longest existing part resolved and the rest
/// (which does not exist, so holds no links) cleaned of `.` and `..` by hand.
pub fn absolute_key(path: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(path)
    };
    for base in abs.ancestors() {
        let Ok(mut key) = std::fs::canonicalize(base) else {
            continue;
        };
        let rest = abs.strip_prefix(base).unwrap_or(Path::new(""));
        for c in rest.components() {
            match c {
                Component::Normal(n) => key.push(n),
                Component::ParentDir => {
                    key.pop();
                }
                _ => {}
            }
        }
        return key;
    }
    abs
}

/// Which of this process's standard streams (`"standard input"`, `"standard output"`,
/// `"standard error"`) is redirected from or into the existing regular file `path` (through
/// links, as `/dev/stdout` is), if any: replacing that file would lose what the run prints, or
/// the file it was given to read. Linux only (it looks in `/proc/self/fd`); `None`
/// elsewhere.
pub fn standard_stream_into(path: &Path) -> Option<&'static str> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let file = std::fs::metadata(path).ok().filter(|m| m.is_file())?;
        [
            ("standard input", 0),
            ("standard output", 1),
            ("standard error", 2),
        ]
        .into_iter()
        .find(|(_, fd)| {
            std::fs::metadata(format!("/proc/self/fd/{fd}"))
                .is_ok_and(|m| m.dev() == file.dev() && m.ino() == file.ino())
        })
        .map(|(name, _)| name)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Gets `path` ready to be written later, before any work is done: the target must be
/// replaceable (a regular file, a new path, or a link to one), its folder is created if
/// missing and probed by creating and removing a temporary file, and the temporary files a
/// killed earlier run left beside it are removed. Returns the file that will be written (the
/// target of `path`'s links).
///
/// # Errors
/// A [`WriteError`] naming `path` when it cannot be written: not a regular file, a part of
/// the path is a regular file, the folder is read-only, the name is too long.
pub fn prepare_output(path: &Path) -> Result<PathBuf, WriteError> {
    let target = atomic::probe(path)?;
    atomic::remove_stale_temps(&target);
    Ok(target)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::fs;

    /// A fresh folder under the system temp dir (a `tempfile::TempDir`, removed when dropped)
    /// and its path, as the facade's tests use it: `TempDir::new("tag").0.join("file")`.
    pub(crate) struct TempDir(
        pub PathBuf,
        #[allow(dead_code, reason = "held for its drop")] tempfile::TempDir,
    );

    impl TempDir {
        pub(crate) fn new(tag: &str) -> Self {
            let dir = tempfile::Builder::new()
                .prefix(&format!("minidl-test-{tag}-"))
                .tempdir()
                .unwrap();
            TempDir(dir.path().to_path_buf(), dir)
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
        assert!(msg.contains("is a file, not a folder"), "{msg}");
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
        assert!(
            err.to_string()
                .contains("create folder failed: it is a regular file, not a folder"),
            "{err}"
        );
        create_dir_all(&t.0.join("new/nested")).unwrap();
        assert!(t.0.join("new/nested").is_dir());
    }

    #[cfg(unix)]
    #[test]
    fn output_keys_see_through_links_dots_and_missing_folders() {
        use std::os::unix::fs::symlink;
        let t = TempDir::new("fs-key");
        let a = t.0.join("a.jsonl");
        fs::write(&a, b"x").unwrap();
        symlink("a.jsonl", t.0.join("link")).unwrap();
        symlink(&t.0, t.0.join("dirlink")).unwrap();
        let key = output_key(&a).unwrap();
        for same in [
            "link",
            "./a.jsonl",
            "new/../a.jsonl",
            "dirlink/link",
            "dirlink/a.jsonl",
        ] {
            assert_eq!(output_key(&t.0.join(same)).unwrap(), key, "{same}");
        }
        assert_eq!(
            output_key(&t.0.join("new/./x")).unwrap(),
            fs::canonicalize(&t.0).unwrap().join("new/x")
        );
        assert_ne!(output_key(&t.0.join("b")).unwrap(), key);
        let e = output_key(Path::new("/dev/null")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot write /dev/null: it is a character device, not a regular file; only a \
             regular file is replaced, so it was left as it is: give the path of a regular \
             file or a new one"
        );
    }

    #[test]
    fn prepare_output_probes_the_folder_and_removes_stale_temporary_files() {
        let t = TempDir::new("fs-prepare");
        let target = t.0.join("deep/ck.safetensors");
        assert_eq!(prepare_output(&target).unwrap(), target);
        assert_eq!(entries(&t.0.join("deep")), Vec::<String>::new());
        // a temporary file of a process that has ended
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = t.0.join(format!("deep/.ck.safetensors.{dead}.3.tmp"));
        fs::write(&stale, vec![0u8; 4096]).unwrap();
        prepare_output(&target).unwrap();
        if cfg!(target_os = "linux") {
            assert!(!stale.exists());
        }
        let long = t.0.join("n".repeat(300));
        let e = prepare_output(&long).unwrap_err();
        assert!(e.to_string().contains("too long"), "{e}");
    }

    #[test]
    fn paths_with_control_characters_are_shown_on_one_line() {
        assert_eq!(shown(Path::new("a\nb\tc")), "a\\nb\\tc");
        assert_eq!(shown(Path::new("plain/é.txt")), "plain/é.txt");
        let e = WriteError::from(atomic::check_replaceable(Path::new("")).unwrap_err());
        assert_eq!(e.to_string().lines().count(), 1);
    }
}
