//! Helpers shared by the integration tests: the examples' binaries (for the tests that run the
//! mnist example as a real process), temporary folders, and small synthetic data for the lab.

// Each test crate that includes this module uses only some of its helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use minidl::cli::DatasetChoice;
use minidl::lab::Data;

/// The `mnist` example's binary, built (or found up to date) by cargo with this test's profile
/// and target folder.
pub fn example_binary() -> PathBuf {
    example("mnist")
}

/// The binary of the example `name` (`"mnist"`, `"dead_relu"`, ...), built (or found up to
/// date) by cargo with this test's profile and target folder.
pub fn example(name: &str) -> PathBuf {
    // A test runs as <target>/<profile>/deps/<test>-<hash>.
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    let target_dir = profile_dir.parent().unwrap();
    let profile = profile_dir
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "--example", name, "--target-dir"])
        .arg(target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    match profile.as_str() {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    let status = cmd.status().expect("running cargo build --example");
    assert!(status.success(), "cargo build --example {name} failed");
    profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// A fresh folder under the system's temporary folder (a `tempfile::TempDir`, removed when
/// dropped), whose name holds `tag`; tempfile makes every name unique, so tests running at once
/// never share one.
pub struct TempDir(tempfile::TempDir);

impl TempDir {
    /// Creates the folder.
    pub fn new(tag: &str) -> TempDir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("minidl-test-{tag}-"))
            .tempdir()
            .unwrap();
        TempDir(dir)
    }

    /// The path of `name` inside the folder, as a command-line argument.
    pub fn path(&self, name: &str) -> String {
        self.0.path().join(name).to_string_lossy().into_owned()
    }
}

/// `train` and `test` synthetic digits drawn from `seed`, as the lab's training data.
pub fn synthetic_data(train: usize, test: usize, seed: u64) -> Data {
    let splits = datasets::SyntheticDigits::splits(train, test, seed);
    Data {
        train: splits.train,
        test: splits.test,
        kind: DatasetChoice::Synthetic,
        description: "synthetic digits".into(),
    }
}
