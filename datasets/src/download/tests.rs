use super::*;
use crate::format::FILES;
use crate::idx::{write_idx, IdxArray, IdxData};
use crate::mnist::MnistKind;
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
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
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
