//! Fetching data-set files from public mirrors (cargo feature `download`, on by default).
//!
//! Each file is tried at each mirror in turn until one serves it whole with the published MD5.
//! Bytes stream into a temporary file in the destination folder while their MD5 is computed;
//! only a complete, verified file is renamed into place, so an interrupted or corrupt download
//! leaves nothing behind. The mirrors and checksums are plain data ([`Downloader::new`]), so
//! tests point the same code at a server on 127.0.0.1.
//!
//! The checksums are the MD5s of the `.gz` files as the mirrors serve them (torchvision's
//! published list): that is what is downloaded and kept, so it can be verified while streaming,
//! before anything is decompressed or renamed.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use md5::{Digest, Md5};

use crate::error::{Attempt, Error, Failure, Result};
use crate::idx::temp_path;

/// A file to fetch: its name (appended to each mirror's URL) and the MD5 it must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    /// File name, e.g. `"train-images-idx3-ubyte.gz"`.
    pub name: String,
    /// Expected MD5 of its bytes, 32 hex digits.
    pub md5: String,
}

impl RemoteFile {
    /// A file named `name` whose bytes have MD5 `md5` (hex, any case).
    pub fn new(name: impl Into<String>, md5: impl Into<String>) -> RemoteFile {
        RemoteFile {
            name: name.into(),
            md5: md5.into().to_ascii_lowercase(),
        }
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

    /// No progress bars or messages.
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
    /// there with the right MD5 is kept without a download.
    ///
    /// # Errors
    /// [`Error::Io`] if `dir` cannot be created, [`Error::Download`] (one [`Attempt`] per mirror,
    /// saying why each failed) for the first file no mirror could deliver intact.
    pub fn download(&self, dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
        let dir = dir.as_ref();
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create folder", e))?;
        self.files.iter().map(|f| self.fetch(dir, f)).collect()
    }

    /// Fetches one file into `dir`, trying each mirror.
    fn fetch(&self, dir: &Path, file: &RemoteFile) -> Result<PathBuf> {
        let dest = dir.join(&file.name);
        if dest.is_file() && file_md5(&dest).is_ok_and(|m| m == file.md5) {
            if !self.quiet {
                eprintln!("{}: present, checksum ok", dest.display());
            }
            return Ok(dest);
        }
        let mut attempts = Vec::new();
        for mirror in &self.mirrors {
            let url = format!("{mirror}{}", file.name);
            match self.try_url(&url, file, &dest) {
                Ok(()) => return Ok(dest),
                Err(failure) => {
                    if !self.quiet {
                        eprintln!("{url}: {failure}; trying the next mirror");
                    }
                    attempts.push(Attempt { url, failure });
                }
            }
        }
        Err(Error::Download {
            file: file.name.clone(),
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
            if found == file.md5 {
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
                assert_eq!(file, "a.bin");
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
        assert_eq!(listing(&dir), Vec::<String>::new(), "nothing left behind");
        fs::remove_dir_all(&dir).unwrap();
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
        assert_eq!(listing(&dir), Vec::<String>::new(), "nothing left behind");
        fs::remove_dir_all(&dir).unwrap();
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
