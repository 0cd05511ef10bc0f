//! Output paths (`--save`, `--metrics`, `--report`) and the standard streams: nothing is lost.
//!
//! Every refusal here is exit status 2 with one line, found before training starts (standard
//! output is still empty), and leaves what was at the path exactly as it was: its content, its
//! kind (FIFO, device, folder), a symbolic link and where it points.

use std::fs;
use std::os::unix::fs::{symlink, FileTypeExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::{assert_refused, example_binary, run, TempDir, SMALL};

/// What is at a path, to compare before and after a run.
#[derive(Debug, PartialEq)]
enum Node {
    Missing,
    File(Vec<u8>),
    Link(PathBuf),
    Folder(Vec<String>),
    Fifo,
    CharDevice,
    Other,
}

fn node(path: &Path) -> Node {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return Node::Missing;
    };
    let t = meta.file_type();
    if t.is_symlink() {
        Node::Link(fs::read_link(path).unwrap())
    } else if t.is_file() {
        Node::File(fs::read(path).unwrap())
    } else if t.is_dir() {
        let mut names: Vec<String> = fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        Node::Folder(names)
    } else if t.is_fifo() {
        Node::Fifo
    } else if t.is_char_device() {
        Node::CharDevice
    } else {
        Node::Other
    }
}

fn mkfifo(path: &str) {
    let ok = Command::new("mkfifo").arg(path).status();
    assert!(ok.is_ok_and(|s| s.success()), "mkfifo {path}");
}

/// The small run of [`run`] with one epoch, in `dir` (for relative paths).
fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(example_binary())
        .current_dir(dir)
        .args(SMALL)
        .args(["--epochs", "1"])
        .args(args)
        .output()
        .expect("running the example")
}

/// Exit status 2, one line as [`assert_refused`] checks, and nothing printed on stdout: the
/// path was refused before the data loaded, let alone training.
fn assert_refused_early(what: &str, out: &Output, starts: &str, contains: &[&str]) {
    assert_refused(what, out, starts, contains);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "",
        "{what}: refused before anything ran"
    );
}

/// A process id that is not running: a child that has ended.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn outputs_that_would_lose_data_are_refused_and_left_as_they_were() {
    let bin = example_binary();
    let t = TempDir::new("outputs");
    let dir = PathBuf::from(t.path(""));
    // a good checkpoint, a file of the user's, a FIFO, links, a folder, a fake data folder
    let good = t.path("good.safetensors");
    let saved = run(&bin, &["--epochs", "1", "--save", &good]);
    assert!(saved.status.success(), "{saved:?}");
    let keep = t.path("keep.txt");
    fs::write(&keep, "the user's notes\n").unwrap();
    let fifo = t.path("fifo");
    mkfifo(&fifo);
    let null_link = t.path("null-link");
    symlink("/dev/null", &null_link).unwrap();
    let fifo_link = t.path("fifo-link");
    symlink("fifo", &fifo_link).unwrap();
    let keep_link = t.path("keep-link");
    symlink("keep.txt", &keep_link).unwrap();
    let folder = t.path("folder");
    fs::create_dir(&folder).unwrap();
    fs::write(dir.join("folder/inside"), "x").unwrap();
    let folder_link = t.path("folder-link");
    symlink("folder", &folder_link).unwrap();
    let report = t.path("report");
    fs::create_dir(&report).unwrap();
    fs::write(dir.join("report/index.html"), "<p>an older report</p>").unwrap();
    let index = t.path("report/index.html");
    let data = t.path("data");
    fs::create_dir(&data).unwrap();
    let labels = t.path("data/train-labels-idx1-ubyte.gz");
    fs::write(&labels, "the user's data").unwrap();
    let under_file = t.path("keep.txt/sub/ck.safetensors");
    let trailing_slash = t.path("new-folder/");
    let new_out = t.path("out");
    let new_out_nested = t.path("out/charts");
    let too_long = t.path(&"m".repeat(256));

    let watched = [
        &good,
        &keep,
        &fifo,
        &null_link,
        &fifo_link,
        &keep_link,
        &folder,
        &folder_link,
        &report,
        &index,
        &labels,
        &new_out,
    ];
    let before: Vec<Node> = watched.iter().map(|p| node(Path::new(p))).collect();
    let dev_null = node(Path::new("/dev/null"));
    assert_eq!(dev_null, Node::CharDevice);

    // (what, flags, the message's start, what it must also say)
    let table: Vec<(&str, Vec<&str>, &str, Vec<&str>)> = vec![
        (
            "--save and --metrics on one file",
            vec!["--save", &keep, "--metrics", &keep],
            "error: --metrics: ",
            vec!["keep.txt is the same file as --save", "its own path"],
        ),
        (
            "--metrics over the --resume checkpoint",
            vec!["--epochs", "2", "--resume", &good, "--metrics", &good],
            "error: --metrics: ",
            vec!["is the file --resume reads", "another path"],
        ),
        (
            "--metrics through a link onto --save",
            vec!["--save", &keep, "--metrics", &keep_link],
            "error: --metrics: ",
            vec!["keep-link is the same file as --save", "keep.txt"],
        ),
        (
            "--metrics /dev/null",
            vec!["--metrics", "/dev/null"],
            "error: --metrics: cannot write /dev/null: ",
            vec!["a character device, not a regular file", "left as it is"],
        ),
        (
            "--save /dev/null",
            vec!["--save", "/dev/null"],
            "error: --save: cannot write /dev/null: ",
            vec!["a character device, not a regular file"],
        ),
        (
            "--save at a FIFO",
            vec!["--save", &fifo],
            "error: --save: cannot write ",
            vec!["fifo: it is a FIFO (named pipe), not a regular file"],
        ),
        (
            "--metrics at a FIFO",
            vec!["--metrics", &fifo],
            "error: --metrics: cannot write ",
            vec!["a FIFO (named pipe), not a regular file"],
        ),
        (
            "--metrics at a link to /dev/null",
            vec!["--metrics", &null_link],
            "error: --metrics: cannot write ",
            vec!["a symbolic link to /dev/null, which is a character device"],
        ),
        (
            "--save at a link to a FIFO",
            vec!["--save", &fifo_link],
            "error: --save: cannot write ",
            vec!["a symbolic link to ", "which is a FIFO (named pipe)"],
        ),
        (
            "--save at a folder",
            vec!["--save", &folder],
            "error: --save: cannot write ",
            vec!["it is a folder, not a regular file"],
        ),
        (
            "--metrics at a link to a folder",
            vec!["--metrics", &folder_link],
            "error: --metrics: cannot write ",
            vec!["which is a folder"],
        ),
        (
            "--metrics onto the report's index.html",
            vec!["--report", &report, "--metrics", &index],
            "error: --metrics: ",
            vec!["is the --report file", "index.html", "another path"],
        ),
        (
            "--save is the --report folder",
            vec!["--report", &new_out, "--save", &new_out],
            "error: --save: ",
            vec!["is the --report folder"],
        ),
        (
            "--save where --report needs a folder",
            vec!["--save", &new_out, "--report", &new_out_nested],
            "error: --save: ",
            vec!["--report needs it as a folder"],
        ),
        (
            "--metrics over a data file",
            vec![
                "--dataset",
                "mnist",
                "--data-dir",
                &data,
                "--metrics",
                &labels,
            ],
            "error: --metrics: ",
            vec!["train-labels-idx1-ubyte.gz is the file the data set reads"],
        ),
        (
            "--save under a regular file",
            vec!["--save", &under_file],
            "error: --save: cannot write ",
            vec!["keep.txt", "create folder failed", "not a folder"],
        ),
        (
            "--report under a regular file",
            vec!["--report", &under_file],
            "error: --report: cannot write ",
            vec!["keep.txt", "not a folder"],
        ),
        (
            "--report at /dev/null",
            vec!["--report", "/dev/null"],
            "error: --report: cannot write /dev/null: ",
            vec!["it is a character device, not a folder"],
        ),
        (
            "--save ending in a slash",
            vec!["--save", &trailing_slash],
            "error: --save: cannot write ",
            vec!["names a folder, not a file", "give the path of a file"],
        ),
        (
            "a file name longer than the system allows",
            vec!["--metrics", &too_long],
            "error: --metrics: cannot write ",
            vec!["too long", "choose a shorter one"],
        ),
    ];
    for (what, flags, starts, contains) in &table {
        let mut args = vec!["--epochs", "1"];
        args.extend(flags);
        let out = run(&bin, &args);
        assert_refused_early(what, &out, starts, contains);
        let after: Vec<Node> = watched.iter().map(|p| node(Path::new(p))).collect();
        for ((path, b), a) in watched.iter().zip(&before).zip(&after) {
            assert_eq!(b, a, "{what}: {path} changed");
        }
        assert_eq!(node(Path::new("/dev/null")), Node::CharDevice, "{what}");
    }
    assert!(!Path::new(&trailing_slash).exists());

    // the same file named two ways, relative to the working folder
    for (what, flags) in [
        ("./a and a", ["--save", "./a.jsonl", "--metrics", "a.jsonl"]),
        (
            "a and x/../a",
            ["--save", "a.jsonl", "--metrics", "folder/../a.jsonl"],
        ),
    ] {
        let out = run_in(&dir, &flags);
        assert_refused_early(what, &out, "error: --metrics: ", &["same file as --save"]);
        assert!(!dir.join("a.jsonl").exists(), "{what}");
    }
}

#[test]
fn a_read_only_folder_is_found_before_training() {
    use std::os::unix::fs::PermissionsExt;
    let t = TempDir::new("readonly");
    let ro = t.path("ro");
    fs::create_dir(&ro).unwrap();
    fs::write(t.path("ro/old.safetensors"), "old").unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    // Permission bits do not stop root: make the folder immutable too where that works
    // (root with CAP_LINUX_IMMUTABLE on ext4 and the like); otherwise a folder root cannot
    // write either stands in for it.
    let immutable = Command::new("chattr")
        .args(["+i", &ro])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let probe = Path::new(&ro).join(".probe");
    let stopped = fs::write(&probe, "x").is_err();
    let _ = fs::remove_file(&probe);
    let target = if stopped {
        ro.clone()
    } else {
        // as root without chattr: sysfs refuses new files to everyone
        "/sys".to_string()
    };
    for flag in ["--save", "--metrics"] {
        let path = format!("{target}/new.out");
        let out = run(&example_binary(), &["--epochs", "1", flag, &path]);
        assert_refused_early(
            &format!("{flag} in a read-only folder"),
            &out,
            &format!(
                "error: {flag}: cannot write {target}/new.out: create temporary file failed: "
            ),
            &["choose a folder you can write to"],
        );
    }
    let out = run(
        &example_binary(),
        &["--epochs", "1", "--report", &format!("{target}/report")],
    );
    assert_refused_early(
        "--report in a read-only folder",
        &out,
        "error: --report: cannot write ",
        &["create folder failed", "choose a folder you can write to"],
    );
    if immutable {
        let _ = Command::new("chattr").args(["-i", &ro]).status();
    }
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(
        node(Path::new(&ro)),
        Node::Folder(vec!["old.safetensors".into()])
    );
}

#[test]
fn links_are_written_through_long_names_work_and_stale_temporary_files_go() {
    let t = TempDir::new("through");
    fs::create_dir(t.path("real")).unwrap();
    let target = t.path("real/m.jsonl");
    fs::write(&target, "old\n").unwrap();
    let link = t.path("m-link");
    symlink("real/m.jsonl", &link).unwrap();
    let ck_link = t.path("ck-link");
    symlink("real/ck.safetensors", &ck_link).unwrap(); // dangling: the run creates its target
                                                       // a 250-byte name: its temporary file's name must fit too
    let long = t.path(&format!("{}.safetensors", "c".repeat(238)));
    // temporary files a killed save left (one of a dead process, one of a running one)
    let dead = dead_pid();
    let me = std::process::id();
    let stale = t.path(&format!("real/.ck.safetensors.{dead}.0.tmp"));
    fs::write(&stale, vec![0u8; 1 << 20]).unwrap();
    let legacy = t.path(&format!("real/.m.jsonl.{dead}.tmp"));
    fs::write(&legacy, "partial").unwrap();
    let live = t.path(&format!("real/.ck.safetensors.{me}.0.tmp"));
    fs::write(&live, "another run's").unwrap();

    let out = run(
        &example_binary(),
        &["--epochs", "1", "--save", &ck_link, "--metrics", &link],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(fs::read_link(&link).unwrap(), Path::new("real/m.jsonl"));
    assert_eq!(
        fs::read_link(&ck_link).unwrap(),
        Path::new("real/ck.safetensors")
    );
    let lines = fs::read_to_string(&target).unwrap();
    assert_eq!(lines.lines().count(), 1, "{lines}");
    assert!(lines.starts_with("{\"activation\":\"relu\""), "{lines}");
    let ck = nn::state::load(t.path("real/ck.safetensors")).unwrap();
    assert_eq!(ck.metadata["epoch"], "1");
    assert!(
        !Path::new(&stale).exists(),
        "a dead process's temporary file"
    );
    assert!(!Path::new(&legacy).exists(), "the old pattern too");
    assert!(Path::new(&live).exists(), "a running process's is kept");
    fs::remove_file(&live).unwrap();
    let mut names: Vec<String> = fs::read_dir(t.path("real"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["ck.safetensors", "m.jsonl"]);

    let out = run(&example_binary(), &["--epochs", "1", "--save", &long]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(nn::state::load(&long).unwrap().metadata["epoch"], "1");
    let left = fs::read_dir(t.path("")).unwrap().count();
    assert_eq!(left, 4, "no temporary file is left");
}

fn dev_full() -> fs::File {
    fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap()
}

#[test]
fn a_full_or_closed_standard_stream_ends_with_status_2_not_a_panic() {
    let bin = example_binary();
    let t = TempDir::new("streams");
    // stderr full: the error line is lost, the status is not
    for args in [
        &["--activation", "mihs"][..],
        &["--epochs", "0"],
        &["--no-such-flag"],
        &["--metrics", "/dev/null"],
    ] {
        let out = Command::new(&bin)
            .args(SMALL)
            .args(args)
            .stderr(dev_full())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "2>/dev/full {args:?}");
    }

    // stdout full: one line naming standard output
    let metrics = t.path("m.jsonl");
    let out = Command::new(&bin)
        .args(SMALL)
        .args(["--epochs", "1", "--metrics", &metrics])
        .stdout(dev_full())
        .output()
        .unwrap();
    assert_refused(
        ">/dev/full",
        &out,
        "error: standard output: cannot write (",
        &["No space left", "the run stopped"],
    );
    let out = Command::new(&bin)
        .arg("--help")
        .stdout(dev_full())
        .output()
        .unwrap();
    assert_refused(
        "--help >/dev/full",
        &out,
        "error: standard output: cannot write the help",
        &[],
    );

    // stdout closed (`>&-`): refused before the run, not a silent status 0; `>/dev/null` is fine
    let out = Command::new("sh")
        .args(["-c", "exec \"$0\" \"$@\" >&-", &bin.to_string_lossy()])
        .args(SMALL)
        .args(["--epochs", "1", "--metrics", &metrics])
        .output()
        .unwrap();
    assert_refused(
        ">&-",
        &out,
        "error: standard output: it is closed",
        &["to /dev/null"],
    );
    assert!(!Path::new(&metrics).exists(), "nothing was run");
    let out = Command::new(&bin)
        .args(SMALL)
        .args(["--epochs", "1"])
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), ">/dev/null {out:?}");

    // an output that is the file a standard stream is redirected into (`>>log`) or from
    let log = t.path("log.txt");
    fs::write(&log, "an earlier run's log\n").unwrap();
    let append = || fs::OpenOptions::new().append(true).open(&log).unwrap();
    let out = Command::new(&bin)
        .args(SMALL)
        .args(["--epochs", "1", "--save", &log])
        .stdout(append())
        .output()
        .unwrap();
    assert_refused(
        "--save FILE >>FILE",
        &out,
        "error: --save: ",
        &["log.txt is the file standard output is connected to"],
    );
    let out = Command::new(&bin)
        .args(SMALL)
        .args(["--epochs", "1", "--metrics", "/dev/stdin"])
        .stdin(fs::File::open(&log).unwrap())
        .output()
        .unwrap();
    assert_refused(
        "--metrics /dev/stdin <FILE",
        &out,
        "error: --metrics: /dev/stdin is the file standard input is connected to",
        &[],
    );
    assert_eq!(fs::read_to_string(&log).unwrap(), "an earlier run's log\n");

    // a reader that goes away after three lines (`| head -3`: the data, the model, epoch 1):
    // the run stops with status 2 at its next line, and the files of every finished epoch are
    // whole — the checkpoint, the metrics and the report (20 epochs: it cannot finish first)
    let save = t.path("ck.safetensors");
    let report = t.path("report");
    let mut child = Command::new(&bin)
        .args(SMALL)
        .args(["--epochs", "20", "--save", &save, "--metrics", &metrics])
        .args(["--report", &report])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::BufRead;
        let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        for _ in 0..3 {
            reader.read_line(&mut first).unwrap();
        }
        assert!(first.starts_with("data: "), "{first}");
        assert!(first.contains("epoch 1 "), "{first}");
    } // the read end closes here
    let out = child.wait_with_output().unwrap();
    assert_refused(
        "| head -3",
        &out,
        "error: standard output: cannot write (",
        &["Broken pipe", "the run stopped"],
    );
    let lines = fs::read_to_string(&metrics).unwrap();
    let epochs = lines.lines().count();
    assert!((1..20).contains(&epochs), "{lines}");
    for line in lines.lines() {
        assert!(line.starts_with('{') && line.ends_with('}'), "{line}");
    }
    let ck = nn::state::load(&save).unwrap();
    assert_eq!(ck.metadata["epoch"], epochs.to_string());
    let index = fs::read_to_string(format!("{report}/index.html")).unwrap();
    assert!(index.contains("relu"), "the report of the finished epochs");
}
