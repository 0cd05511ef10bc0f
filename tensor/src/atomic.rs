//! Replacing a file atomically: the one implementation behind every file minidl writes
//! (checkpoints in `nn`, IDX files in `datasets`, metrics files and reports in the facade). It
//! lives here, in the lowest crate, so that all of them share it and its temporary-file names.
//!
//! [`write()`] puts the bytes in a temporary file beside the target, syncs it to disk, and
//! renames it over the target: a rename within one folder is atomic, so a reader (or a crash)
//! sees either the old file or the whole new one, never a mix. What it replaces:
//!
//! - a **regular file**, or a **new path** (missing folders are created);
//! - a **symbolic link** is followed, through any chain of links, and the file it points to is
//!   written: the temporary file goes beside that target and is renamed over it, so the link
//!   stays a link, now showing the new content (renaming over the link itself would turn it
//!   into a regular file and leave its target stale);
//! - anything else — a **folder, FIFO, socket or device** such as `/dev/null` — is refused with
//!   [`NotRegularFile`]: a rename would silently put a regular file in place of the node.
//!
//! Temporary files have one recognisable name: `.<name>.<pid>.<n>.tmp`, where `<name>` is the
//! target's file name or, when that is longer than [`MAX_STEM`] bytes, its first 24 bytes, `~`
//! and a hash of the whole name — so the temporary name is at most 80 bytes and any file name
//! the system accepts can be written. A process killed during a write leaves its temporary file
//! behind; [`remove_stale_temps`] removes those whose process is gone.

use std::error::Error;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{self, File, FileType, Metadata, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// File names up to this many bytes appear whole in their temporary file's name; longer ones
/// are shortened to 24 bytes plus a hash.
pub const MAX_STEM: usize = 40;

/// How many symbolic links [`resolve`] follows before giving up (Linux's own limit).
const MAX_LINKS: usize = 40;

/// A step of an atomic write failed. `path` is the path the caller gave (or the folder, for
/// `"create folder"`); `action` is the step, e.g. `"create temporary file"`.
#[derive(Debug)]
pub struct AtomicError {
    /// The file (or folder) that could not be written.
    pub path: PathBuf,
    /// The step that failed: `"name the file"`, `"replace file"`, `"create folder"`,
    /// `"create temporary file"`, `"write"`, `"sync to disk"` or `"rename temporary file"`.
    pub action: &'static str,
    /// The system's error; for a target that is not a regular file its inner error is a
    /// [`NotRegularFile`] (see [`AtomicError::not_regular`]).
    pub source: io::Error,
}

impl AtomicError {
    fn new(path: &Path, action: &'static str, source: io::Error) -> Self {
        AtomicError {
            path: path.to_path_buf(),
            action,
            source,
        }
    }

    /// The [`NotRegularFile`] inside this error, when the target was refused for its kind.
    pub fn not_regular(&self) -> Option<&NotRegularFile> {
        self.source
            .get_ref()
            .and_then(|e| e.downcast_ref::<NotRegularFile>())
    }
}

impl fmt::Display for AtomicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot write {}: {} failed: {}",
            self.path.display(),
            self.action,
            self.source
        )
    }
}

impl Error for AtomicError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// The target exists and is not a regular file (nor a link to one), so it is not replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotRegularFile {
    /// What it is, with an article: `"a folder"`, `"a FIFO (named pipe)"`, `"a character
    /// device"`, `"a block device"`, `"a socket"`.
    pub kind: &'static str,
    /// Where the symbolic link(s) led, when the given path was a link.
    pub through_link: Option<PathBuf>,
}

impl fmt::Display for NotRegularFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.through_link {
            Some(target) => write!(
                f,
                "it is a symbolic link to {}, which is {}, not a regular file",
                target.display(),
                self.kind
            ),
            None => write!(f, "it is {}, not a regular file", self.kind),
        }
    }
}

impl Error for NotRegularFile {}

/// What a file system node is, with an article, for messages: `"a regular file"`, `"a
/// folder"`, `"a symbolic link"`, `"a FIFO (named pipe)"`, `"a socket"`, `"a character
/// device"`, `"a block device"`.
pub fn file_kind(t: &FileType) -> &'static str {
    if t.is_file() {
        return "a regular file";
    }
    if t.is_dir() {
        return "a folder";
    }
    if t.is_symlink() {
        return "a symbolic link";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
    }
    "a special file"
}

/// Follows `path` through symbolic links (relative targets are taken from the link's folder)
/// to the file that would really be written, and returns it with its metadata (`None` when it
/// does not exist yet — a new file, or a link to a missing one).
///
/// # Errors
/// `"name the file"` when a name is too long for the system; `"replace file"` with the
/// system's error when a link cannot be read or links loop (more than 40), or a path's
/// metadata cannot be read for another reason than its absence, and with a
/// [`NotRegularFile`] when a link leads to a process's pipe or socket (`/proc/self/fd/1`).
pub fn resolve(path: &Path) -> Result<(PathBuf, Option<Metadata>), AtomicError> {
    let mut p = path.to_path_buf();
    for _ in 0..=MAX_LINKS {
        let meta = match fs::symlink_metadata(&p) {
            Ok(m) => m,
            // a part of the path that is a regular file is reported when its folder is made
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                return Ok((p, None))
            }
            Err(e) if e.kind() == io::ErrorKind::InvalidFilename => {
                return Err(AtomicError::new(path, "name the file", e))
            }
            Err(e) => return Err(AtomicError::new(path, "replace file", e)),
        };
        if !meta.file_type().is_symlink() {
            return Ok((p, Some(meta)));
        }
        let target = fs::read_link(&p).map_err(|e| AtomicError::new(path, "replace file", e))?;
        // Linux shows a process's pipes and sockets (`/dev/stdout` in a pipeline leads to
        // `/proc/self/fd/1`) as links to names such as `pipe:[1234]` that are no path
        let text = target.to_string_lossy();
        for (prefix, kind) in [
            ("pipe:[", "a pipe"),
            ("socket:[", "a socket"),
            ("anon_inode:", "an anonymous stream"),
        ] {
            if text.starts_with(prefix) {
                return Err(AtomicError::new(
                    path,
                    "replace file",
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        NotRegularFile {
                            kind,
                            through_link: Some(target.clone()),
                        },
                    ),
                ));
            }
        }
        p = match p.parent() {
            Some(dir) if target.is_relative() => dir.join(target),
            _ => target,
        };
    }
    Err(AtomicError::new(
        path,
        "replace file",
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "too many levels of symbolic links (a loop?)",
        ),
    ))
}

/// The file [`write()`] would replace for `path`: `path` itself, or the final target of its
/// symbolic links. It exists and is a regular file, or does not exist yet.
///
/// # Errors
/// `"name the file"` when `path` has no file name (`""`, `"a/.."`); `"replace file"` with a
/// [`NotRegularFile`] inside when the target is a folder, FIFO, socket or device, or when the
/// links cannot be followed.
pub fn check_replaceable(path: &Path) -> Result<PathBuf, AtomicError> {
    if path.file_name().is_none() {
        return Err(AtomicError::new(
            path,
            "name the file",
            io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"),
        ));
    }
    // `Path` drops a trailing `/` or `/.`, but the system does not: `out/` names a folder
    let bytes = name_bytes(path.as_os_str());
    if bytes.ends_with(b"/") || bytes.ends_with(b"/.") {
        return Err(AtomicError::new(
            path,
            "name the file",
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the path ends with '/', so it names a folder, not a file",
            ),
        ));
    }
    let (target, meta) = resolve(path)?;
    match meta {
        Some(m) if !m.is_file() => {
            let through_link = (target != path).then(|| target.clone());
            let kind = file_kind(&m.file_type());
            Err(AtomicError::new(
                path,
                "replace file",
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    NotRegularFile { kind, through_link },
                ),
            ))
        }
        _ => Ok(target),
    }
}

/// The folder a file at `path` lives in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The bytes of a file name (its platform bytes on Unix, UTF-8 elsewhere).
fn name_bytes(name: &OsStr) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        name.as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        name.to_string_lossy().into_owned().into_bytes()
    }
}

fn name_from_bytes(bytes: &[u8]) -> OsString {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        OsStr::from_bytes(bytes).to_os_string()
    }
    #[cfg(not(unix))]
    {
        OsString::from(String::from_utf8_lossy(bytes).into_owned())
    }
}

/// 64-bit FNV-1a: a stable hash (unlike `std`'s, which may change between releases), so a
/// later build still recognises an earlier one's temporary files.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The part of a temporary file's name that stands for the target: its file name when at most
/// [`MAX_STEM`] bytes, else its first 24 bytes (cut at a character boundary), `~`, and 16 hex
/// digits of a hash of the whole name.
pub fn temp_stem(file_name: &OsStr) -> OsString {
    let bytes = name_bytes(file_name);
    if bytes.len() <= MAX_STEM {
        return file_name.to_os_string();
    }
    let mut cut = 24;
    if let Ok(s) = std::str::from_utf8(&bytes) {
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
    }
    let mut stem = name_from_bytes(&bytes[..cut]);
    stem.push(format!("~{:016x}", fnv1a(&bytes)));
    stem
}

/// A fresh temporary path beside `target` (same folder, so the final rename is atomic):
/// `.<stem>.<pid>.<n>.tmp` with [`temp_stem`], this process's id and a per-process counter.
pub fn temp_path(target: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let stem = temp_stem(target.file_name().unwrap_or(OsStr::new("file")));
    let mut name = OsString::from(".");
    name.push(stem);
    name.push(format!(".{}.{n}.tmp", std::process::id()));
    parent_dir(target).join(name)
}

/// The process id in `candidate` when it is the name of a temporary file of `target_name`
/// ([`temp_path`]'s pattern, or `.<name>.<pid>.tmp` as earlier versions wrote checkpoints).
pub fn temp_owner(candidate: &OsStr, target_name: &OsStr) -> Option<u32> {
    let c = name_bytes(candidate);
    let mut prefix = b".".to_vec();
    prefix.extend(name_bytes(&temp_stem(target_name)));
    prefix.push(b'.');
    let middle = c.strip_prefix(prefix.as_slice())?.strip_suffix(b".tmp")?;
    let middle = std::str::from_utf8(middle).ok()?;
    let (pid, n) = middle.split_once('.').unwrap_or((middle, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(pid) || !digits(n) {
        return None;
    }
    pid.parse().ok()
}

/// Whether process `pid` is running: `Some` on Linux (from `/proc`), `None` where that cannot
/// be told, in which case nothing is treated as stale.
fn process_alive(pid: u32) -> Option<bool> {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return None;
    }
    Some(proc.join(pid.to_string()).exists())
}

/// Removes the temporary files of `target` (same folder, [`temp_owner`]'s pattern) left by
/// processes that are no longer running, e.g. a save killed half-way, and returns the paths
/// removed. Only regular files are removed; a temporary file of a running process (this one
/// included) is kept. Best effort: a folder that cannot be read, or a platform where running
/// processes cannot be listed, removes nothing.
///
/// A process of another PID namespace (another container) that shares the folder looks dead
/// from here; writers sharing a folder across containers should use distinct file names.
pub fn remove_stale_temps(target: &Path) -> Vec<PathBuf> {
    let Some(name) = target.file_name() else {
        return Vec::new();
    };
    let Ok(entries) = fs::read_dir(parent_dir(target)) else {
        return Vec::new();
    };
    let me = std::process::id();
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = temp_owner(&entry.file_name(), name) else {
            continue;
        };
        if pid == me || process_alive(pid) != Some(false) {
            continue;
        }
        let path = entry.path();
        let regular = fs::symlink_metadata(&path).is_ok_and(|m| m.is_file());
        if regular && fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// Creates `dir` and its missing parents.
///
/// # Errors
/// `"create folder"` naming `dir` when it cannot be created or something other than a folder
/// has its name.
pub fn create_dir_all(dir: &Path) -> Result<(), AtomicError> {
    let made = fs::create_dir_all(dir);
    // "File exists" says less than what is there instead of a folder
    if !dir.is_dir() {
        if let Ok(meta) = fs::metadata(dir) {
            return Err(AtomicError::new(
                dir,
                "create folder",
                io::Error::new(
                    io::ErrorKind::NotADirectory,
                    format!("it is {}, not a folder", file_kind(&meta.file_type())),
                ),
            ));
        }
    }
    made.map_err(|e| AtomicError::new(dir, "create folder", e))
}

/// Checks that a file can be written at `path` without writing it: the target is replaceable
/// ([`check_replaceable`]), its folder exists (missing folders are created) and a temporary
/// file can be created in it and removed again. Returns the target ([`resolve`]d).
///
/// A folder whose permissions forbid writing, a read-only file system, a file name too long
/// for the system (found when the target's metadata is read): each is found here, before any work, rather than at the
/// first real write.
///
/// # Errors
/// As [`check_replaceable`] and [`create_dir_all`]; `"create temporary file"` naming `path`
/// when the probe cannot be created.
pub fn probe(path: &Path) -> Result<PathBuf, AtomicError> {
    let target = check_replaceable(path)?;
    create_dir_all(parent_dir(&target))?;
    let (tmp, file) =
        create_temp(&target).map_err(|e| AtomicError::new(path, "create temporary file", e))?;
    drop(file);
    let _ = fs::remove_file(&tmp);
    Ok(target)
}

/// Creates a new temporary file beside `target` ([`temp_path`]). A name already taken (left by
/// an earlier process that had this one's id) is skipped, never opened or removed.
fn create_temp(target: &Path) -> io::Result<(PathBuf, File)> {
    let mut tries = 0;
    loop {
        let tmp = temp_path(target);
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < 16 => tries += 1,
            result => return result.map(|f| (tmp, f)),
        }
    }
}

/// Writes `bytes` to `path` atomically, as the [module docs](self) describe, and returns the
/// file written (`path`, or the target of its symbolic links). Missing folders are created; an
/// existing file's permissions are kept.
///
/// # Errors
/// An [`AtomicError`] naming `path` and the failed step when the target is not a regular file,
/// the folder cannot be created or written, the disk is full, and so on. The old file is then
/// unchanged and the temporary file removed.
pub fn write(path: &Path, bytes: &[u8]) -> Result<PathBuf, AtomicError> {
    let target = check_replaceable(path)?;
    let dir = parent_dir(&target);
    create_dir_all(dir)?;
    let (tmp, file) =
        create_temp(&target).map_err(|e| AtomicError::new(path, "create temporary file", e))?;
    let result = write_and_rename(file, &tmp, &target, bytes).map_err(|(action, e)| {
        let _ = fs::remove_file(&tmp);
        AtomicError::new(path, action, e)
    });
    result?;
    sync_dir(dir);
    Ok(target)
}

fn write_and_rename(
    mut file: File,
    tmp: &Path,
    target: &Path,
    bytes: &[u8],
) -> Result<(), (&'static str, io::Error)> {
    if let Ok(meta) = fs::metadata(target) {
        let _ = file.set_permissions(meta.permissions());
    }
    file.write_all(bytes).map_err(|e| ("write", e))?;
    file.sync_all().map_err(|e| ("sync to disk", e))?;
    drop(file);
    // The target was checked before the write; check again right before the rename, so a node
    // that took its place meanwhile is not replaced either.
    if let Ok(meta) = fs::symlink_metadata(target) {
        if !meta.is_file() {
            let kind = file_kind(&meta.file_type());
            return Err((
                "replace file",
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    NotRegularFile {
                        kind,
                        through_link: None,
                    },
                ),
            ));
        }
    }
    fs::rename(tmp, target).map_err(|e| ("rename temporary file", e))
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
mod tests {
    use super::*;

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
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a.txt");
        assert_eq!(write(&p, b"first").unwrap(), p);
        write(&p, b"second, longer").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second, longer");
        write(&t.path().join("x/y/z"), b"nested").unwrap();
        assert_eq!(entries(t.path()), ["a.txt", "x"]);
    }

    #[test]
    fn a_temporary_name_already_taken_is_skipped_and_kept() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a.txt");
        // the next names this process will use, as if left by an earlier holder of its id
        // (other tests may take a few of the counter's values meanwhile: ten are taken)
        let next: Vec<PathBuf> = (0..3).map(|_| temp_path(&p)).collect();
        let n = |q: &Path| -> u64 {
            let name = q.file_name().unwrap().to_str().unwrap();
            name.rsplit('.').nth(1).unwrap().parse().unwrap()
        };
        for k in 1..=10 {
            let mut name = next[2].file_name().unwrap().to_os_string();
            let s = name.to_str().unwrap().replace(
                &format!(".{}.tmp", n(&next[2])),
                &format!(".{}.tmp", n(&next[2]) + k),
            );
            name = s.into();
            fs::write(t.path().join(name), b"someone else's").unwrap();
        }
        write(&p, b"mine").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"mine");
        assert_eq!(
            entries(t.path()).len(),
            11,
            "the taken names are left alone"
        );
    }

    #[cfg(unix)]
    #[test]
    fn keeps_the_permissions_of_the_file_it_replaces() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("secret");
        fs::write(&p, b"old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        write(&p, b"new").unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn a_name_of_255_bytes_is_written_and_its_temporary_name_is_short() {
        let t = tempfile::tempdir().unwrap();
        let name = "é".repeat(127) + "x"; // 255 bytes, two-byte characters
        let p = t.path().join(&name);
        write(&p, b"ok").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"ok");
        let tmp = temp_path(&p);
        let tmp_name = tmp.file_name().unwrap().to_str().unwrap();
        assert!(tmp_name.len() <= 80, "{tmp_name}");
        assert!(
            tmp_name.starts_with(&format!(".{}~", "é".repeat(12))),
            "{tmp_name}"
        );
        assert_eq!(
            temp_owner(tmp.file_name().unwrap(), p.file_name().unwrap()),
            Some(std::process::id())
        );
        // another long name with the same first 24 bytes is another target
        let other = "é".repeat(127) + "y";
        assert_eq!(
            temp_owner(tmp.file_name().unwrap(), OsStr::new(&other)),
            None
        );
    }

    #[test]
    fn temporary_names_are_recognised_and_nothing_else() {
        let t = OsStr::new("run.safetensors");
        assert_eq!(
            temp_owner(OsStr::new(".run.safetensors.123.4.tmp"), t),
            Some(123)
        );
        // the pattern earlier checkpoint writers used
        assert_eq!(
            temp_owner(OsStr::new(".run.safetensors.77.tmp"), t),
            Some(77)
        );
        for other in [
            "run.safetensors",
            ".run.safetensors.tmp",
            ".run.safetensors.x.1.tmp",
            ".run.safetensors.1.2.3.tmp",
            ".run.safetensors.1.2.part",
            ".run.safetensors2.1.2.tmp",
            ".other.1.2.tmp",
        ] {
            assert_eq!(temp_owner(OsStr::new(other), t), None, "{other}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn stale_temporary_files_of_dead_processes_are_removed() {
        let t = tempfile::tempdir().unwrap();
        let target = t.path().join("ck.safetensors");
        fs::write(&target, b"good").unwrap();
        // a process that has ended: its pid is no longer in /proc
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let me = std::process::id();
        for name in [
            format!(".ck.safetensors.{dead}.0.tmp"),
            format!(".ck.safetensors.{dead}.tmp"),
            format!(".ck.safetensors.{me}.9.tmp"),
            format!(".other.{dead}.0.tmp"),
        ] {
            fs::write(t.path().join(name), b"partial").unwrap();
        }
        let removed = remove_stale_temps(&target);
        assert_eq!(removed.len(), 2, "{removed:?}");
        assert_eq!(
            entries(t.path()),
            [
                format!(".ck.safetensors.{me}.9.tmp"),
                format!(".other.{dead}.0.tmp"),
                "ck.safetensors".to_string()
            ]
        );
        assert_eq!(fs::read(&target).unwrap(), b"good");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_written_through_and_stay_links() {
        use std::os::unix::fs::symlink;
        let t = tempfile::tempdir().unwrap();
        fs::create_dir(t.path().join("real")).unwrap();
        let target = t.path().join("real/m.jsonl");
        fs::write(&target, b"old").unwrap();
        let link = t.path().join("link.jsonl");
        symlink("real/m.jsonl", &link).unwrap();
        let link2 = t.path().join("link2");
        symlink(&link, &link2).unwrap();
        assert_eq!(
            write(&link2, b"new").unwrap(),
            t.path().join("real/m.jsonl")
        );
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(fs::symlink_metadata(&link2)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(entries(&t.path().join("real")), ["m.jsonl"]);
        // a dangling link creates its target
        let dangling = t.path().join("dangling");
        symlink("real/new.txt", &dangling).unwrap();
        write(&dangling, b"made").unwrap();
        assert_eq!(fs::read(t.path().join("real/new.txt")).unwrap(), b"made");
        // a loop is an error, not a hang
        symlink("loop_b", t.path().join("loop_a")).unwrap();
        symlink("loop_a", t.path().join("loop_b")).unwrap();
        let e = write(&t.path().join("loop_a"), b"x").unwrap_err();
        assert!(e.to_string().contains("too many levels"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn folders_fifos_and_devices_are_refused_and_left_as_they_are() {
        use std::os::unix::fs::symlink;
        let t = tempfile::tempdir().unwrap();
        let e = write(t.path(), b"x").unwrap_err();
        assert_eq!(e.action, "replace file");
        assert_eq!(e.not_regular().unwrap().kind, "a folder");
        let e = write(Path::new("/dev/null"), b"x").unwrap_err();
        assert_eq!(e.not_regular().unwrap().kind, "a character device");
        assert!(e
            .to_string()
            .contains("it is a character device, not a regular file"));
        use std::os::unix::fs::FileTypeExt;
        assert!(fs::symlink_metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device());
        let link = t.path().join("null-link");
        symlink("/dev/null", &link).unwrap();
        let e = probe(&link).unwrap_err();
        assert!(
            e.to_string()
                .contains("a symbolic link to /dev/null, which is a character device"),
            "{e}"
        );
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        let fifo = t.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let e = write(&fifo, b"x").unwrap_err();
            assert_eq!(e.not_regular().unwrap().kind, "a FIFO (named pipe)");
            assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
        }
        assert!(write(Path::new(""), b"x").is_err());
        let e = write(&t.path().join("new-folder/"), b"x").unwrap_err();
        assert!(e.to_string().contains("names a folder"), "{e}");
        assert!(!t.path().join("new-folder").exists());
        assert!(write(&t.path().join(".."), b"x").is_err());
    }

    #[test]
    fn probe_finds_a_path_under_a_regular_file_and_writes_nothing() {
        let t = tempfile::tempdir().unwrap();
        let file = t.path().join("plain");
        fs::write(&file, b"x").unwrap();
        let e = probe(&file.join("sub/out")).unwrap_err();
        assert_eq!(e.action, "create folder");
        let e = probe(&file.join("out")).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("it is a regular file, not a folder"),
            "{e}"
        );
        assert_eq!(fs::read(&file).unwrap(), b"x");
        let ok = t.path().join("new/deeper/out.json");
        assert_eq!(probe(&ok).unwrap(), ok);
        assert!(!ok.exists());
        assert_eq!(entries(&t.path().join("new/deeper")), Vec::<String>::new());
        let too_long = t.path().join("n".repeat(300));
        let e = probe(&too_long).unwrap_err();
        assert_eq!(e.action, "name the file", "{e}");
    }
}
