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
mod tests {
    use super::*;
    use crate::idx::{write_idx, IdxArray, IdxData};
    use crate::mnist::{MnistKind, FILES};
    use std::collections::HashMap;
    use std::io::BufRead;
    use std::net::{TcpListener, TcpStream};
    use std::sync::Arc;
    use std::thread::JoinHandle;

    /// A tiny HTTP/1.1 server on 127.0.0.1 for the tests. Paths:
    /// `/good/<name>` serves the file, `/corrupt/<name>` the file with one byte flipped,
    /// `/drop/<name>` announces the full length, sends half and closes, anything else is 404.
    struct Server {
        port: u16,
        handle: Option<JoinHandle<()>>,
    }

    impl Server {
        fn start(files: HashMap<String, Vec<u8>>) -> Server {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let files = Arc::new(files);
            let handle = std::thread::spawn(move || {
                // Bounded: at most 200 connections, and a "/quit" request ends it.
                for stream in listener.incoming().take(200) {
                    let Ok(stream) = stream else { continue };
                    if !serve(stream, &files) {
                        break;
                    }
                }
            });
            Server {
                port,
                handle: Some(handle),
            }
        }

        fn url(&self, mode: &str) -> String {
            format!("http://127.0.0.1:{}/{mode}/", self.port)
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.write_all(b"GET /quit HTTP/1.1\r\n\r\n");
            }
            if let Some(h) = self.handle.take() {
                let _ = h.join();
            }
        }
    }

    /// Answers one request; false when asked to quit.
    fn serve(mut stream: TcpStream, files: &HashMap<String, Vec<u8>>) -> bool {
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut reader = io::BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).is_err() {
            return true;
        }
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) if line == "\r\n" => break,
                Ok(_) => {}
            }
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_string();
        if path == "/quit" {
            return false;
        }
        let mut parts = path.trim_start_matches('/').splitn(2, '/');
        let (mode, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let Some(body) = files.get(name) else {
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            return true;
        };
        let mut body = body.clone();
        let header = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\
             Connection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(header.as_bytes());
        match mode {
            "good" => {
                let _ = stream.write_all(&body);
            }
            "corrupt" => {
                let mid = body.len() / 2;
                body[mid] ^= 0x55;
                let _ = stream.write_all(&body);
            }
            "drop" => {
                let _ = stream.write_all(&body[..body.len() / 2]);
                let _ = stream.flush();
                // closing now: the client sees the body end before Content-Length
            }
            _ => {}
        }
        let _ = stream.shutdown(std::net::Shutdown::Both);
        true
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("minidl-dl-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    /// The names in a folder (sorted), to check nothing else was left there.
    fn listing(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .map(|r| {
                r.map(|e| e.unwrap().file_name().into_string().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    fn md5_of(bytes: &[u8]) -> String {
        hex(&Md5::digest(bytes))
    }

    fn payload(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn md5_known_vectors() {
        assert_eq!(md5_of(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_of(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        let dir = scratch("md5");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("f"), b"abc").unwrap();
        assert_eq!(
            file_md5(dir.join("f")).unwrap(),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn good_file_downloads_and_verifies() {
        let body = payload(300_000);
        let server = Server::start(HashMap::from([("a.bin".to_string(), body.clone())]));
        let dir = scratch("good");
        let d = Downloader::new(
            [server.url("good")],
            [RemoteFile::new("a.bin", md5_of(&body))],
        )
        .quiet(true);
        // a killed download's temporary file is cleaned up by the next one (where processes
        // can be listed)
        fs::create_dir_all(&dir).unwrap();
        if cfg!(target_os = "linux") {
            fs::write(dir.join(".a.bin.999999999.3.tmp"), b"half").unwrap();
        }
        let paths = d.download(&dir).unwrap();
        assert_eq!(paths, vec![dir.join("a.bin")]);
        assert_eq!(fs::read(dir.join("a.bin")).unwrap(), body);
        assert_eq!(listing(&dir), ["a.bin"]);
        // a second run finds it intact and fetches nothing (even with no working mirror)
        let offline = Downloader::new(["http://127.0.0.1:1/"], d.files().to_vec()).quiet(true);
        assert_eq!(offline.download(&dir).unwrap(), vec![dir.join("a.bin")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn corrupt_file_is_a_checksum_error_and_leaves_nothing() {
        let body = payload(100_000);
        let server = Server::start(HashMap::from([("a.bin".to_string(), body.clone())]));
        let dir = scratch("corrupt");
        let d = Downloader::new(
            [server.url("corrupt")],
            [RemoteFile::new("a.bin", md5_of(&body))],
        )
        .quiet(true);
        let e = d.download(&dir).unwrap_err();
        match &e {
            Error::Download { file, attempts } => {
                assert_eq!(file, &dir.join("a.bin").display().to_string());
                assert_eq!(attempts.len(), 1);
                assert_eq!(attempts[0].url, format!("{}a.bin", server.url("corrupt")));
                assert!(
                    matches!(&attempts[0].failure, Failure::Checksum { expected, .. } if *expected == md5_of(&body)),
                    "{e}"
                );
            }
            other => panic!("{other}"),
        }
        assert!(e.to_string().contains("checksum mismatch"), "{e}");
        assert!(
            !dir.exists(),
            "nothing left behind, not even the folder it created"
        );
    }

    #[test]
    fn dropped_connection_is_an_error_and_leaves_nothing() {
        let body = payload(2_000_000);
        let server = Server::start(HashMap::from([("a.bin".to_string(), body.clone())]));
        let dir = scratch("drop");
        let d = Downloader::new(
            [server.url("drop")],
            [RemoteFile::new("a.bin", md5_of(&body))],
        )
        .quiet(true)
        .timeout(Duration::from_secs(10));
        let e = d.download(&dir).unwrap_err();
        match &e {
            Error::Download { attempts, .. } => match &attempts[0].failure {
                Failure::Incomplete { expected, found } => {
                    assert_eq!(*expected, 2_000_000);
                    assert!(*found < 2_000_000);
                }
                Failure::Network(_) => {}
                other => panic!("unexpected failure {other}"),
            },
            other => panic!("{other}"),
        }
        assert!(
            !dir.exists(),
            "nothing left behind, not even the folder it created"
        );
    }

    #[test]
    fn mirrors_are_tried_in_order() {
        let body = payload(50_000);
        let server = Server::start(HashMap::from([("a.bin".to_string(), body.clone())]));
        let dir = scratch("fallback");
        let d = Downloader::new(
            [
                server.url("missing"),
                server.url("drop"),
                server.url("corrupt"),
                server.url("good"),
            ],
            [RemoteFile::new("a.bin", md5_of(&body).to_uppercase())],
        )
        .quiet(true);
        d.download(&dir).unwrap();
        assert_eq!(fs::read(dir.join("a.bin")).unwrap(), body);
        assert_eq!(listing(&dir), ["a.bin"]);
        // and when all fail, every attempt is reported
        let bad = Downloader::new(
            [server.url("missing"), server.url("corrupt")],
            [RemoteFile::new("b.bin", "00")],
        )
        .quiet(true);
        let e = bad.download(&dir).unwrap_err();
        match &e {
            Error::Download { attempts, .. } => {
                assert_eq!(attempts[0].failure, Failure::Status(404));
                assert_eq!(attempts.len(), 2);
            }
            other => panic!("{other}"),
        }
        assert_eq!(listing(&dir), ["a.bin"]);
        // a refused connection is a network failure
        let refused = Downloader::new(["http://127.0.0.1:1"], [RemoteFile::new("c", "00")])
            .quiet(true)
            .timeout(Duration::from_secs(5));
        let e = refused.download(&dir).unwrap_err();
        assert!(
            matches!(&e, Error::Download { attempts, .. } if matches!(attempts[0].failure, Failure::Network(_))),
            "{e}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn download_then_load_a_small_mnist() {
        // Four small MNIST-format .gz files served locally, fetched, then loaded.
        let src = scratch("src");
        fs::create_dir_all(&src).unwrap();
        let mut served = HashMap::new();
        let mut remote = Vec::new();
        for (i, f) in FILES.iter().enumerate() {
            let a = if i % 2 == 0 {
                IdxArray::new(vec![6, 28, 28], IdxData::U8(vec![i as u8; 6 * 784]))
            } else {
                IdxArray::new(vec![6], IdxData::U8(vec![3, 1, 4, 1, 5, 9]))
            };
            let name = format!("{f}.gz");
            write_idx(src.join(&name), &a).unwrap();
            let bytes = fs::read(src.join(&name)).unwrap();
            remote.push(RemoteFile::new(&name, md5_of(&bytes)));
            served.insert(name, bytes);
        }
        let server = Server::start(served);
        let dir = scratch("mnist");
        Downloader::new([server.url("good")], remote)
            .quiet(true)
            .download(&dir)
            .unwrap();
        let m = MnistKind::Digits.load(&dir).unwrap();
        assert_eq!(m.train.labels(), &[3, 1, 4, 1, 5, 9]);
        assert_eq!(m.test.image(0)[0], 2);
        fs::remove_dir_all(&dir).unwrap();
        fs::remove_dir_all(&src).unwrap();
    }

    /// `bytes` gzipped at `level`: the same content under other gzip bytes.
    fn gz(bytes: &[u8], level: u32) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn a_present_copy_with_the_right_content_is_kept_offline_whatever_its_gzip_bytes() {
        let content = payload(70_000);
        let published = gz(&content, 9);
        let file = RemoteFile::new("a.gz", md5_of(&published))
            .with_content(content.len() as u64, Some(&md5_of(&content).to_uppercase()));
        let offline = Downloader::new(["http://127.0.0.1:1/"], [file.clone()])
            .quiet(true)
            .timeout(Duration::from_secs(5));
        let dir = scratch("present");
        fs::create_dir_all(&dir).unwrap();
        // compressed again, at another level: other bytes, same content
        let copy = gz(&content, 1);
        assert_ne!(md5_of(&copy), file.md5);
        fs::write(dir.join("a.gz"), &copy).unwrap();
        assert_eq!(offline.download(&dir).unwrap(), vec![dir.join("a.gz")]);
        assert_eq!(fs::read(dir.join("a.gz")).unwrap(), copy, "kept as it was");
        // a decompressed copy beside it is good too, and wins (it is what is read)
        fs::write(dir.join("a"), &content).unwrap();
        assert_eq!(offline.download(&dir).unwrap(), vec![dir.join("a")]);
        // ... unless its content is wrong: then nothing is fetched over it
        fs::write(dir.join("a"), &content[1..]).unwrap();
        let e = offline.download(&dir).unwrap_err();
        assert!(
            matches!(&e, Error::WrongContent { found_len, .. } if *found_len == 69_999),
            "{e}"
        );
        assert!(e.to_string().contains("run --download again"), "{e}");
        fs::remove_file(dir.join("a")).unwrap();
        // a copy whose content differs is fetched again (here: offline, so an error that says
        // how to do without)
        fs::write(dir.join("a.gz"), gz(&content[1..], 6)).unwrap();
        let e = offline.download(&dir).unwrap_err();
        assert!(matches!(e, Error::Download { .. }), "{e}");
        assert!(
            e.to_string()
                .contains("without --download everything runs offline"),
            "{e}"
        );
        assert_eq!(e.to_string().lines().count(), 1, "{e}");
        // a folder in the file's place is never replaced
        fs::remove_file(dir.join("a.gz")).unwrap();
        fs::create_dir(dir.join("a.gz")).unwrap();
        let e = offline.download(&dir).unwrap_err();
        assert!(
            matches!(
                e,
                Error::NotAFile {
                    found: "a folder",
                    ..
                }
            ),
            "{e}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_download_compressed_differently_is_accepted_by_its_content() {
        let content = payload(40_000);
        let served = gz(&content, 1);
        let server = Server::start(HashMap::from([("b.gz".to_string(), served.clone())]));
        let dir = scratch("recompressed");
        let file = RemoteFile::new("b.gz", md5_of(&gz(&content, 9)))
            .with_content(content.len() as u64, Some(&md5_of(&content)));
        Downloader::new([server.url("good")], [file])
            .quiet(true)
            .download(&dir)
            .unwrap();
        assert_eq!(fs::read(dir.join("b.gz")).unwrap(), served);
        assert_eq!(listing(&dir), ["b.gz"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_real_mnist_files_present_are_kept_offline() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/mnist");
        let dir = match std::env::var_os("MNIST_DIR") {
            Some(v) if !v.is_empty() => PathBuf::from(v),
            _ => dir,
        };
        if !dir.is_dir() {
            eprintln!(
                "skipped: no full MNIST in $MNIST_DIR or ../shared/data/mnist ({} is not \
                 there); set MNIST_DIR to a folder holding the four files to run it",
                dir.display()
            );
            return;
        }
        let files = MnistKind::Digits.downloader().files().to_vec();
        let offline = Downloader::new(["http://127.0.0.1:1/"], files)
            .quiet(true)
            .timeout(Duration::from_secs(5));
        let paths = offline.download(&dir).unwrap();
        assert_eq!(paths.len(), 4);
    }

    #[test]
    fn the_real_downloaders_use_the_published_lists() {
        let d = MnistKind::Digits.downloader();
        assert_eq!(
            d.mirrors()[0],
            "https://ossci-datasets.s3.amazonaws.com/mnist/"
        );
        assert_eq!(d.mirrors()[1], "http://yann.lecun.com/exdb/mnist/");
        assert_eq!(d.files().len(), 4);
        assert_eq!(d.files()[0].md5, "f68b3c2dcbeaaa9fbdd348bbdeb94873");
        let f = MnistKind::Fashion.downloader();
        assert_eq!(f.files()[3].name, "t10k-labels-idx1-ubyte.gz");
        assert!(Downloader::new(["http://x"], []).mirrors()[0].ends_with('/'));
    }
}
