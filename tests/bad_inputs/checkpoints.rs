//! Bad checkpoints given to `--resume`: non-regular files, oversized files and headers,
//! corrupt framing, and values no trained run has. Each is refused with exit status 2 and one
//! line naming the file or the tensor, within a time limit (a FIFO must not hang), and the
//! file is left as it was.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{assert_refused, example_binary, TempDir, SMALL};

/// Runs the example like `run`, killing it (and failing) if it takes longer than a minute.
fn run_with_timeout(bin: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(bin)
        .args(SMALL)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running the example");
    let start = Instant::now();
    while child.try_wait().expect("waiting for the example").is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?}: still running after 60 s (a hang)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("the example's output")
}

/// A safetensors file taken apart: its JSON header and its data bytes.
struct Parts {
    header: serde_json::Map<String, serde_json::Value>,
    data: Vec<u8>,
}

impl Parts {
    fn read(bytes: &[u8]) -> Parts {
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
        Parts {
            header,
            data: bytes[8 + n..].to_vec(),
        }
    }

    /// The file with `header_text` as its header (space-padded like safetensors does).
    fn bytes_with(&self, header_text: &str) -> Vec<u8> {
        let mut h = header_text.as_bytes().to_vec();
        while !h.len().is_multiple_of(8) {
            h.push(b' ');
        }
        let mut out = (h.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(&h);
        out.extend_from_slice(&self.data);
        out
    }

    fn bytes(&self) -> Vec<u8> {
        self.bytes_with(&serde_json::to_string(&self.header).unwrap())
    }

    /// Sets value `index` of tensor `name` (stored as F32).
    fn set(&mut self, name: &str, index: usize, value: f32) {
        let start = self.header[name]["data_offsets"][0].as_u64().unwrap() as usize + 4 * index;
        self.data[start..start + 4].copy_from_slice(&value.to_le_bytes());
    }

    fn meta(&mut self, key: &str, value: &str) {
        self.header["__metadata__"][key] = value.into();
    }
}

#[test]
fn bad_checkpoints_are_refused_naming_the_file_or_tensor_and_left_intact() {
    let bin = example_binary();
    let t = TempDir::new("ckpt");
    let good = t.path("good.safetensors");
    let saved = run_with_timeout(&bin, &["--epochs", "2", "--save", &good]);
    assert!(
        saved.status.success(),
        "{}",
        String::from_utf8_lossy(&saved.stderr)
    );
    let bytes = std::fs::read(&good).unwrap();
    let parts = || Parts::read(&bytes);

    // corrupt copies: file name → bytes
    let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut edit = |name: &'static str, f: &dyn Fn(&mut Parts)| {
        let mut p = parts();
        f(&mut p);
        files.push((name, p.bytes()));
    };
    edit("nan-weight", &|p| p.set("0.weight", 5, f32::NAN));
    edit("inf-bias", &|p| p.set("2.bias", 1, f32::INFINITY));
    edit("inf-second-moment", &|p| {
        p.set("optim.0.exp_avg_sq", 3, f32::INFINITY)
    });
    edit("negative-second-moment", &|p| {
        p.set("optim.2.exp_avg_sq", 0, -1.0)
    });
    edit("nan-momentum", &|p| p.set("optim.1.exp_avg", 0, f32::NAN));
    edit("negative-step", &|p| p.set("optim.step", 0, -1.0));
    edit("fractional-step", &|p| p.set("optim.step", 0, 7.5));
    edit("absurd-step", &|p| p.set("optim.step", 0, 1e30));
    edit("other-step", &|p| p.set("optim.step", 0, 9.0));
    edit("nan-step-loss", &|p| p.set("lab.step_losses", 2, f32::NAN));
    edit("newer-lab-version", &|p| p.meta("lab_version", "2"));
    edit("invalid-lab-version", &|p| p.meta("lab_version", "one"));
    edit("newer-format", &|p| p.meta("format_version", "2"));
    edit("foreign-metadata", &|p| p.meta("note", "hello"));
    edit("missing-metadata", &|p| {
        p.header["__metadata__"]
            .as_object_mut()
            .unwrap()
            .remove("init");
    });
    edit("format-version-0", &|p| p.meta("format_version", "0"));
    edit("step-not-epochs", &|p| p.meta("step", "9"));
    edit("negative-epoch", &|p| p.meta("epoch", "-1"));
    edit("metrics-not-json", &|p| p.meta("metrics", "{"));
    edit("int-dtype", &|p| {
        p.header["0.bias"]["dtype"] = "I32".into();
    });
    edit("wrong-shape", &|p| {
        p.header["0.bias"]["shape"] = serde_json::json!([4, 4]);
    });
    edit("overlapping", &|p| {
        p.header["0.weight"]["data_offsets"][0] = serde_json::json!(0);
    });
    edit("out-of-range", &|p| {
        let end = p.header["optim.step"]["data_offsets"][1].as_u64().unwrap();
        p.header["optim.step"]["data_offsets"][1] = serde_json::json!(end + (1u64 << 40));
    });
    // duplicate keys, which a JSON map cannot hold: edited in the text
    let text = serde_json::to_string(&parts().header).unwrap();
    let dup = text.replacen(
        "\"lab_version\":\"1\"",
        "\"lab_version\":\"1\",\"lab_version\":\"1\"",
        1,
    );
    assert_ne!(dup, text);
    files.push(("duplicate-metadata-key", parts().bytes_with(&dup)));
    let p = parts();
    let metrics = p.header["__metadata__"]["metrics"].as_str().unwrap();
    let dup_metrics = metrics.replacen("\"epoch\":1,", "\"epoch\":1,\"epoch\":1,", 1);
    assert_ne!(dup_metrics, metrics);
    let mut p = parts();
    p.meta("metrics", &dup_metrics);
    files.push(("duplicate-metrics-key", p.bytes()));
    let first = text.find("\"0.bias\"").unwrap();
    let entry_end = first + text[first..].find('}').unwrap() + 1;
    let entry = &text[first..entry_end];
    let dup_tensor = text.replacen(entry, &format!("{entry},{entry}"), 1);
    files.push(("duplicate-tensor", parts().bytes_with(&dup_tensor)));
    files.push(("header-20MB", {
        let mut b = (20u64 << 20).to_le_bytes().to_vec();
        b.push(b'{');
        b.extend(std::iter::repeat_n(b' ', (20 << 20) - 2));
        b.push(b'}');
        b
    }));

    let mut paths: HashMap<&str, String> = HashMap::new();
    for (name, b) in &files {
        let path = t.path(&format!("{name}.safetensors"));
        std::fs::write(&path, b).unwrap();
        paths.insert(name, path);
    }
    // a sparse file of 1 TiB: refused from its size, never read
    let huge = t.path("huge.safetensors");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(1 << 40)
        .unwrap();
    let folder = t.path("a-folder");
    std::fs::create_dir(&folder).unwrap();

    // (file, the message's start, what it must also say)
    let table: Vec<(&str, &str, Vec<&str>)> = vec![
        (
            "nan-weight",
            "error: --resume: ",
            vec!["entry `0.weight`", "a NaN at index 5", "earlier checkpoint"],
        ),
        (
            "inf-bias",
            "error: --resume: ",
            vec!["entry `2.bias`", "holds inf at index 1"],
        ),
        (
            "inf-second-moment",
            "error: --resume: ",
            vec!["`0.exp_avg_sq` is invalid: inf at index 3", "≥ 0"],
        ),
        (
            "negative-second-moment",
            "error: --resume: ",
            vec!["`2.exp_avg_sq` is invalid: -1 at index 0", "≥ 0"],
        ),
        (
            "nan-momentum",
            "error: --resume: ",
            vec!["`1.exp_avg` is invalid: NaN at index 0", "finite"],
        ),
        (
            "negative-step",
            "error: --resume: ",
            vec!["`step` is invalid", "got -1", "earlier checkpoint"],
        ),
        (
            "fractional-step",
            "error: --resume: ",
            vec!["`step` is invalid", "got 7.5"],
        ),
        (
            "absurd-step",
            "error: --resume: ",
            vec!["`step` is invalid", "16777216"],
        ),
        (
            "other-step",
            "error: --resume: ",
            vec!["`optim.step` is 9 but the run's step is 8"],
        ),
        (
            "nan-step-loss",
            "error: --resume: ",
            vec!["`lab.step_losses` holds the loss NaN at step 3"],
        ),
        (
            "newer-lab-version",
            "error: --resume: ",
            vec!["lab checkpoint version 2", "reads version 1"],
        ),
        (
            "invalid-lab-version",
            "error: --resume: ",
            vec!["lab_version \"one\"", "writes 1"],
        ),
        (
            "newer-format",
            "error: --resume: ",
            vec!["format_version 2", "reads up to 1"],
        ),
        (
            "missing-metadata",
            "error: --resume: ",
            vec!["lacks `init`, which --save writes"],
        ),
        (
            "format-version-0",
            "error: --resume: ",
            vec!["format_version \"0\" where --save writes \"1\""],
        ),
        (
            "foreign-metadata",
            "error: --resume: ",
            vec!["`note`", "--save does not write"],
        ),
        (
            "step-not-epochs",
            "error: --resume: ",
            vec!["step 9 at epoch 2", "4 steps"],
        ),
        ("negative-epoch", "error: --resume: ", vec!["valid `epoch`"]),
        (
            "metrics-not-json",
            "error: --resume: ",
            vec!["`metrics`", "not what --save writes"],
        ),
        (
            "int-dtype",
            "error: --resume: ",
            vec!["tensor `0.bias`", "dtype I32", "only F32"],
        ),
        (
            "wrong-shape",
            "error: --resume: ",
            vec!["`0.bias` has shape [4, 4]", "the model's is [16]"],
        ),
        (
            "overlapping",
            "error: --resume: ",
            vec!["tensor `0.weight`", "corrupt"],
        ),
        (
            "out-of-range",
            "error: --resume: ",
            vec!["tensor `optim.step`", "data_offsets span"],
        ),
        (
            "duplicate-metadata-key",
            "error: --resume: ",
            vec!["`lab_version` appears twice"],
        ),
        (
            "duplicate-metrics-key",
            "error: --resume: ",
            vec!["`metrics`", "`epoch`", "duplicate"],
        ),
        (
            "duplicate-tensor",
            "error: --resume: ",
            vec!["`0.bias` appears twice"],
        ),
        (
            "header-20MB",
            "error: --resume: ",
            vec!["header of 20971520 bytes", "more than"],
        ),
    ];
    for (name, starts, contains) in &table {
        let path = &paths[name];
        let before = std::fs::read(path).unwrap();
        let out = run_with_timeout(&bin, &["--epochs", "2", "--resume", path]);
        let mut contains = contains.clone();
        contains.push(name);
        assert_refused(name, &out, starts, &contains);
        assert_eq!(std::fs::read(path).unwrap(), before, "{name} changed");
    }

    // not regular files: refused before they are opened (a FIFO would block the open)
    let fifo = t.path("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let link = t.path("link-to-dev-zero");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let specials: Vec<(&str, &str, Vec<&str>)> = vec![
        (
            &fifo,
            "is a FIFO (named pipe), not a checkpoint file",
            vec![],
        ),
        (
            "/dev/zero",
            "is a character device, not a checkpoint file",
            vec![],
        ),
        (&link, "is a character device", vec![]),
        (&folder, "is a folder, not a checkpoint file", vec![]),
        (
            &huge,
            "is 1099511627776 bytes, more than the",
            vec!["a checkpoint of this model"],
        ),
    ];
    for (path, says, more) in &specials {
        let out = run_with_timeout(&bin, &["--epochs", "2", "--resume", path]);
        let mut contains = more.clone();
        contains.push(says);
        contains.push(path);
        assert_refused(path, &out, "error: --resume: ", &contains);
    }
    assert_eq!(std::fs::metadata(&huge).unwrap().len(), 1 << 40);
    assert!(Path::new(&fifo).exists());

    // the good checkpoint itself still resumes
    let out = run_with_timeout(&bin, &["--epochs", "2", "--resume", &good]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&good).unwrap(), bytes);
}

/// A case of [`a_non_finite_value_says_what_produced_it`]: flags, the message's start (empty:
/// the run must succeed), what it must say, what it must not.
type Divergence<'a> = (Vec<&'a str>, &'a str, Vec<&'a str>, Vec<&'a str>);

/// A NaN that comes from the activation's formula names the activation and says it is not
/// the learning rate, with or without `--detect-anomaly`; only a loss that grew gets the
/// "lower --lr" hint.
#[test]
fn a_non_finite_value_says_what_produced_it() {
    let bin = example_binary();
    let table: Vec<Divergence> = vec![
        (
            vec!["--activation", "ln(x)"],
            "error: training diverged: the training loss is NaN at step 1 (epoch 1)",
            vec![
                "the activation ln(x) itself gives -inf for the ordinary input x = 0",
                "not the learning rate",
            ],
            vec!["lower --lr", "overflow"],
        ),
        (
            vec!["--activation", "x/0", "--detect-anomaly"],
            "error: --detect-anomaly: step 1 (epoch 1): anomaly: `div` produced",
            vec![
                "at 1 (Formula)",
                "the activation x/0 itself gives NaN for the ordinary input x = 0",
            ],
            vec!["lower --lr", "overflow"],
        ),
        (
            vec!["--activation", "sqrt(x)", "--detect-anomaly"],
            "error: --detect-anomaly: step 1 (epoch 1): anomaly: `sqrt` produced NaN",
            vec!["the activation sqrt(x) itself gives NaN for the ordinary input x = -0.125"],
            vec!["lower --lr", "overflow"],
        ),
        (
            vec!["--epochs", "2", "--optimizer", "sgd", "--lr", "1e6"],
            "error: training diverged: the training loss is NaN at step ",
            vec![
                "the loss grew until it overflowed: lower --lr (it was 1000000; try 100000)",
                "clip the gradients",
            ],
            vec!["activation"],
        ),
        (
            vec!["--epochs", "2", "--optimizer", "sgd", "--lr", "0.001"],
            "",
            vec![],
            vec![],
        ),
    ];
    for (flags, starts, says, not) in &table {
        let mut args = flags.clone();
        if !args.contains(&"--epochs") {
            args.extend(["--epochs", "1"]);
        }
        let out = run_with_timeout(&bin, &args);
        if starts.is_empty() {
            assert!(out.status.success(), "{flags:?} should train");
            continue;
        }
        assert_refused(&flags.join(" "), &out, starts, says);
        let stderr = String::from_utf8_lossy(&out.stderr);
        for n in not {
            assert!(!stderr.contains(n), "{flags:?}: {n:?} in {stderr}");
        }
    }
}
