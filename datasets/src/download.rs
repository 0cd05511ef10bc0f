//! Fetching data-set files from public mirrors (cargo feature `download`, off by default: it
//! brings an HTTP client with TLS, which most of the time is not needed).
//!
//! Each file is tried at each mirror in turn until one serves it whole with the published MD5.
//! Bytes stream into a temporary file in the destination folder while their MD5 is computed;
//! only a complete, verified file is renamed into place, so an interrupted or corrupt download
//! leaves nothing behind. The mirrors and checksums are plain data ([`Downloader::new`]), so
//! tests point the same code at a server on 127.0.0.1.
//!
//! The checksums are the MD5s of the `.gz` files as the mirrors serve them (torchvision's
//! published list): that is what is downloaded, so it can be verified while streaming. But a
//! copy of the same data compressed again has other gzip bytes, so a file already present (or
//! a download whose gzip MD5 differs) is also accepted when its *decompressed* content is the
//! published one ([`Content`]: its length, and its MD5 where known).

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use flate2::read::MultiGzDecoder;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use md5::{Digest, Md5};

use crate::error::{Attempt, Error, Failure, Result};
use crate::idx::{file_kind, open_regular, remove_stale_temps, temp_path};

/// A file to fetch: its name (appended to each mirror's URL) and the MD5 it must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    /// File name, e.g. `"train-images-idx3-ubyte.gz"`.
    pub name: String,
    /// Expected MD5 of its bytes, 32 hex digits.
    pub md5: String,
    /// For a `.gz` file: what it holds once decompressed, which any good copy has whatever
    /// its gzip bytes.
    pub content: Option<Content>,
}

/// The decompressed content of a `.gz` file, as checked by the [`Downloader`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// Length in bytes.
    pub len: u64,
    /// MD5 (hex, lowercase), where it is known; without it only the length (and the gzip
    /// stream's own CRC) is checked.
    pub md5: Option<String>,
}

impl RemoteFile {
    /// A file named `name` whose bytes have MD5 `md5` (hex, any case).
    pub fn new(name: impl Into<String>, md5: impl Into<String>) -> RemoteFile {
        RemoteFile {
            name: name.into(),
            md5: md5.into().to_ascii_lowercase(),
            content: None,
        }
    }

    /// The same file, also known by its decompressed content: `len` bytes with MD5 `md5`
    /// (hex, any case) if given.
    pub fn with_content(mut self, len: u64, md5: Option<&str>) -> RemoteFile {
        self.content = Some(Content {
            len,
            md5: md5.map(str::to_ascii_lowercase),
        });
        self
    }

    /// The name without `.gz`: where a decompressed copy may sit.
    fn raw_name(&self) -> Option<&str> {
        self.name
            .strip_suffix(".gz")
            .filter(|_| self.content.is_some())
    }
}

/// Downloads a set of files from a list of mirrors, verified and written atomically.
///
/// ```no_run
/// use datasets::{Downloader, RemoteFile};
/// let d = Downloader::new(
///     ["https://ossci-datasets.s3.amazonaws.com/mnist/"],
///     [RemoteFile::new("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")],
/// );
/// let paths = d.download("data/mnist")?;
/// # Ok::<(), datasets::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Downloader {
    mirrors: Vec<String>,
    files: Vec<RemoteFile>,
    quiet: bool,
    timeout: Duration,
}

impl Downloader {
    /// A downloader for `files`, trying `mirrors` (base URLs; a missing final `/` is added) in
    /// order. Progress bars are drawn on stderr when it is a terminal; the connect and per-read
    /// timeout is 30 s.
    pub fn new<M: Into<String>>(
        mirrors: impl IntoIterator<Item = M>,
        files: impl IntoIterator<Item = RemoteFile>,
    ) -> Downloader {
        Downloader {
            mirrors: mirrors
                .into_iter()
                .map(|m| {
                    let m = m.into();
                    if m.ends_with('/') {
                        m
                    } else {
                        m + "/"
                    }
                })
                .collect(),
            files: files.into_iter().collect(),
            quiet: false,
            timeout: Duration::from_secs(30),
        }
    }

    /// No progress bars.
    pub fn quiet(mut self, yes: bool) -> Downloader {
        self.quiet = yes;
        self
    }

    /// The connect timeout, and the longest wait for the next bytes of a response.
    pub fn timeout(mut self, timeout: Duration) -> Downloader {
        self.timeout = timeout;
        self
    }

    /// The mirrors, in the order tried.
    pub fn mirrors(&self) -> &[String] {
        &self.mirrors
    }

    /// The files fetched.
    pub fn files(&self) -> &[RemoteFile] {
        &self.files
    }

    /// Fetches every file into `dir` (created if needed) and returns their paths. A file already
    /// there is kept without a download when its MD5 is right, or (for a [`RemoteFile`] with a
    /// [`Content`]) when its decompressed content is, also under its name without `.gz`.
    ///
    /// # Errors
    /// [`Error::Io`] if `dir` cannot be created; [`Error::NotAFile`] if a file's place is
    /// taken by something that is not a regular file (a folder, a link, a pipe: it is never
    /// replaced); [`Error::WrongContent`] for a decompressed copy (no `.gz`) whose content is
    /// not the published one (it would be read instead of the download); [`Error::Download`]
    /// (one [`Attempt`] per mirror, saying why each failed) for the first file no mirror could
    /// deliver intact.
    pub fn download(&self, dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
        let dir = dir.as_ref();
        let existed = dir.is_dir();
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create folder", e))?;
        let result: Result<Vec<PathBuf>> = self.files.iter().map(|f| self.fetch(dir, f)).collect();
        if result.is_err() && !existed {
            // leave no empty folder behind (remove_dir fails if anything is in it)
            let _ = fs::remove_dir(dir);
        }
        result
    }

    /// The copy of `file` already in `dir` that is good, if any.
    ///
    /// # Errors
    /// As [`Downloader::download`], for a copy that is there but cannot be used or replaced.
    fn present(&self, dir: &Path, file: &RemoteFile) -> Result<Option<PathBuf>> {
        if let Some(raw) = file.raw_name() {
            let path = dir.join(raw);
            if path.symlink_metadata().is_ok() {
                let content = file.content.as_ref().expect("raw_name needs content");
                let found = content_of(&open_regular(&path)?, false, content.len, &path)?;
                if content.matches(&found) {
                    return Ok(Some(path));
                }
                return Err(Error::WrongContent {
                    path,
                    expected_len: content.len,
                    expected_md5: content.md5.clone(),
                    found_len: found.0,
                    found_md5: found.1,
                });
            }
        }
        let dest = dir.join(&file.name);
        let Ok(meta) = dest.symlink_metadata() else {
            return Ok(None);
        };
        // A link is followed to see whether it leads to a good copy, but never replaced.
        let good = dest.metadata().is_ok_and(|m| m.is_file())
            && (file_md5(&dest).is_ok_and(|m| m == file.md5)
                || file.content.as_ref().is_some_and(|c| {
                    open_regular(&dest)
                        .and_then(|f| content_of(&f, true, c.len, &dest))
                        .is_ok_and(|found| c.matches(&found))
                }));
        if good {
            return Ok(Some(dest));
        }
        if !meta.is_file() {
            return Err(Error::NotAFile {
                path: dest,
                found: file_kind(&meta.file_type()),
            });
        }
        Ok(None)
    }

    /// Fetches one file into `dir`, trying each mirror.
    fn fetch(&self, dir: &Path, file: &RemoteFile) -> Result<PathBuf> {
        // Nothing is printed but the progress bars (drawn only on a terminal): a failure is
        // one error that lists every mirror's attempt.
        if let Some(path) = self.present(dir, file)? {
            return Ok(path);
        }
        let dest = dir.join(&file.name);
        remove_stale_temps(&dest);
        let mut attempts = Vec::new();
        for mirror in &self.mirrors {
            let url = format!("{mirror}{}", file.name);
            match self.try_url(&url, file, &dest) {
                Ok(()) => return Ok(dest),
                Err(failure) => attempts.push(Attempt { url, failure }),
            }
        }
        Err(Error::Download {
            file: dest.display().to_string(),
            attempts,
        })
    }

    /// An HTTP agent for `url`: the environment's proxy settings, except for loopback hosts.
    fn agent(&self, url: &str) -> ureq::Agent {
        let host = url.split("://").nth(1).unwrap_or(url);
        let loopback = ["127.", "localhost", "[::1]"]
            .iter()
            .any(|h| host.starts_with(h));
        let mut config = ureq::Agent::config_builder()
            .timeout_connect(Some(self.timeout))
            .timeout_recv_response(Some(self.timeout))
            .timeout_per_read(Some(self.timeout));
        if loopback {
            config = config.proxy(None);
        }
        ureq::Agent::new_with_config(config.build())
    }

    /// One try: stream `url` into a temporary file, check length and MD5, rename to `dest`.
    /// On any failure the temporary file is removed.
    fn try_url(
        &self,
        url: &str,
        file: &RemoteFile,
        dest: &Path,
    ) -> std::result::Result<(), Failure> {
        let response = match self.agent(url).get(url).call() {
            Ok(r) => r,
            Err(ureq::Error::StatusCode(code)) => return Err(Failure::Status(code)),
            Err(e) => return Err(Failure::Network(e.to_string())),
        };
        let announced: Option<u64> = response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let mut body = response.into_body().into_reader();
        let bar = self.progress_bar(&file.name, announced);
        let tmp = temp_path(dest);
        let result = stream_to(&mut body, &tmp, announced, &bar).and_then(|found| {
            // another compression of the right content is as good
            let same_content = || match &file.content {
                Some(c) => open_regular(&tmp)
                    .and_then(|f| content_of(&f, true, c.len, &tmp))
                    .is_ok_and(|found| c.matches(&found)),
                None => false,
            };
            if found == file.md5 || same_content() {
                fs::rename(&tmp, dest).map_err(|e| Failure::Write(e.to_string()))
            } else {
                Err(Failure::Checksum {
                    expected: file.md5.clone(),
                    found,
                })
            }
        });
        match &result {
            Ok(()) => bar.finish(),
            Err(_) => {
                bar.abandon();
                let _ = fs::remove_file(&tmp);
            }
        }
        result
    }

    fn progress_bar(&self, name: &str, len: Option<u64>) -> ProgressBar {
        if self.quiet {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
        let template = if len.is_some() {
            "{msg:28} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
        } else {
            "{msg:28} {spinner} {bytes} {bytes_per_sec}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(name.to_string());
        bar
    }
}

/// Copies `body` into a new file at `tmp`, returning the MD5 (hex) of the bytes.
fn stream_to(
    body: &mut dyn Read,
    tmp: &Path,
    announced: Option<u64>,
    bar: &ProgressBar,
) -> std::result::Result<String, Failure> {
    let write_err = |e: io::Error| Failure::Write(format!("{}: {e}", tmp.display()));
    let mut out = fs::File::create(tmp).map_err(write_err)?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut received = 0u64;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(match announced {
                    Some(expected) if received < expected => Failure::Incomplete {
                        expected,
                        found: received,
                    },
                    _ => Failure::Network(e.to_string()),
                })
            }
        };
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(write_err)?;
        received += n as u64;
        bar.inc(n as u64);
    }
    if let Some(expected) = announced {
        if received != expected {
            return Err(Failure::Incomplete {
                expected,
                found: received,
            });
        }
    }
    out.sync_all().map_err(write_err)?;
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Content {
    /// True when `(len, md5)` of what was read is this content.
    fn matches(&self, found: &(u64, String)) -> bool {
        found.0 == self.len && self.md5.as_ref().is_none_or(|m| *m == found.1)
    }
}

/// The length and MD5 of what `file` holds, decompressed if `gz`, reading at most
/// `expected_len + 1` bytes of it (a longer file is wrong anyway, and a gzip bomb costs no
/// more than that).
fn content_of(file: &fs::File, gz: bool, expected_len: u64, path: &Path) -> Result<(u64, String)> {
    let reader: Box<dyn Read + '_> = if gz {
        Box::new(MultiGzDecoder::new(io::BufReader::new(file)))
    } else {
        Box::new(file)
    };
    let mut hasher = Md5::new();
    let mut limited = reader.take(expected_len.saturating_add(1));
    let mut buf = vec![0u8; 64 * 1024];
    let mut len = 0u64;
    loop {
        match limited.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
                len += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path, "read", e)),
        }
    }
    Ok((len, hex(&hasher.finalize())))
}

/// The MD5 of a file's bytes, as 32 lowercase hex digits.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read.
pub fn file_md5(path: impl AsRef<Path>) -> Result<String> {
    let path = path.as_ref();
    let mut f = fs::File::open(path).map_err(|e| Error::io(path, "read", e))?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path, "read", e)),
        }
    }
    Ok(hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests;
