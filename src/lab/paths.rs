//! Output paths: [`check_paths`] refuses, before any work, an output that cannot be written
//! or would destroy another file of the run.

use std::path::{Path, PathBuf};

use datasets::{FashionMnist, Mnist};

use super::error::LabError;
use crate::cli::{DataArgs, DatasetChoice, LabArgs};

/// One file or folder a run reads or writes, named by its flag, for [`check_paths`].
#[derive(Clone, Copy, Debug)]
pub enum RunPath<'a> {
    /// A file the run reads (`--resume`, the data files). No output may replace it, except the
    /// flags in `writable_by` (`--save` may be the `--resume` checkpoint: that is how a run
    /// goes on in the same file).
    Input {
        /// The flag, or a short description (`"the MNIST data"`).
        flag: &'static str,
        /// The file.
        path: &'a Path,
        /// Output flags that may write this file.
        writable_by: &'static [&'static str],
    },
    /// A file the run writes (`--save`, `--metrics`).
    File {
        /// The flag.
        flag: &'static str,
        /// The file.
        path: &'a Path,
    },
    /// A folder the run writes `files` into (`--report` and [`crate::report::REPORT_FILES`]).
    Folder {
        /// The flag.
        flag: &'static str,
        /// The folder.
        path: &'a Path,
        /// The names of the files written into it.
        files: &'a [&'a str],
    },
}

/// What a path is to the run, once its identity is known.
#[derive(Clone, Copy, PartialEq)]
enum Role<'a> {
    Input(&'static [&'static str]),
    File,
    FolderItself,
    InFolder(&'a str),
}

struct Claim<'a> {
    flag: &'static str,
    /// The path as the command line gave it, for messages.
    given: PathBuf,
    /// Its identity ([`crate::fs::output_key`]).
    key: PathBuf,
    role: Role<'a>,
}

/// Checks every path a run reads or writes, before any work, so that nothing is lost and no
/// write fails after an hour of training:
///
/// 1. each output is a regular file, a new path or a symbolic link to one (a link is written
///    through: the file it points to gets the content, the link stays) — never a folder,
///    FIFO, socket or device such as `/dev/null`, which a rename would replace;
/// 2. no two flags name the same file — compared by identity, through links, `./a` vs `a` and
///    `..` ([`crate::fs::output_key`]) — and no output is an input (`--resume c --metrics c`
///    would overwrite the checkpoint with JSON lines), a file of the report folder, a folder
///    another output needs, or the file standard output or error is redirected into;
/// 3. each output's folder is created if missing and probed by creating and removing a
///    temporary file (a read-only folder, a path under a regular file and a name too long
///    for the system are found here), and the temporary files that killed earlier runs left
///    beside each output are removed ([`crate::fs::prepare_output`]).
///
/// Every example that writes files calls this with its output flags.
///
/// # Errors
/// [`LabError::OutputPath`] naming the flag and the path when an output cannot be written;
/// [`LabError::Usage`] naming both flags when two paths are the same file.
pub fn check_paths(paths: &[RunPath<'_>]) -> Result<(), LabError> {
    use crate::fs::{absolute_key, output_key, prepare_output};
    let bad = |flag| move |source| LabError::OutputPath { flag, source };
    let mut claims: Vec<Claim<'_>> = Vec::new();
    for p in paths {
        match *p {
            RunPath::Input {
                flag,
                path,
                writable_by,
            } => claims.push(Claim {
                flag,
                given: path.to_path_buf(),
                key: absolute_key(path),
                role: Role::Input(writable_by),
            }),
            RunPath::File { flag, path } => claims.push(Claim {
                flag,
                given: path.to_path_buf(),
                key: output_key(path).map_err(bad(flag))?,
                role: Role::File,
            }),
            RunPath::Folder { flag, path, files } => {
                claims.push(Claim {
                    flag,
                    given: path.to_path_buf(),
                    key: absolute_key(path),
                    role: Role::FolderItself,
                });
                for &name in files {
                    let file = path.join(name);
                    claims.push(Claim {
                        flag,
                        key: output_key(&file).map_err(bad(flag))?,
                        given: file,
                        role: Role::InFolder(name),
                    });
                }
            }
        }
    }
    for c in claims.iter().filter(|c| !matches!(c.role, Role::Input(_))) {
        if let Some(stream) = crate::fs::standard_stream_into(&c.key) {
            return Err(LabError::Usage(format!(
                "{}: {} is the file {stream} is connected to, and writing it would replace \
                 it: give {} another path, or redirect {stream} elsewhere",
                c.flag,
                crate::fs::shown(&c.given),
                c.flag
            )));
        }
    }
    for (j, b) in claims.iter().enumerate() {
        for a in &claims[..j] {
            if let Some(msg) = clash(a, b).or_else(|| clash(b, a)) {
                return Err(LabError::Usage(msg));
            }
        }
    }
    for p in paths {
        match *p {
            RunPath::Input { .. } => {}
            RunPath::File { flag, path } => {
                prepare_output(path).map_err(bad(flag))?;
            }
            RunPath::Folder { flag, path, files } => {
                crate::fs::create_dir_all(path).map_err(bad(flag))?;
                for name in files {
                    prepare_output(&path.join(name)).map_err(bad(flag))?;
                }
            }
        }
    }
    Ok(())
}

/// The message when `b` cannot be written because of `a` (or `None`): `b` writes a file `a`
/// also names, or `b`'s file is a folder `a` needs. Messages name `b`'s flag first.
fn clash(a: &Claim<'_>, b: &Claim<'_>) -> Option<String> {
    use crate::fs::shown;
    let writes = |c: &Claim<'_>| matches!(c.role, Role::File | Role::InFolder(_));
    if !writes(b) {
        return None;
    }
    let (bf, bp, af, ap) = (b.flag, shown(&b.given), a.flag, shown(&a.given));
    if a.key != b.key {
        // b's file would have to be a folder for a (`--save out --report out/charts`)
        return (a.key.starts_with(&b.key) && !matches!(a.role, Role::Input(_))).then(|| {
            format!(
                "{bf}: {bp} is a file, but {af} needs it as a folder (for {ap}); give each \
                 output its own path"
            )
        });
    }
    if a.flag == b.flag && a.role == b.role {
        return None; // the same flag given for one path twice is the same output
    }
    Some(match a.role {
        Role::Input(writable_by) if writable_by.contains(&bf) => return None,
        Role::Input(_) => format!(
            "{bf}: {bp} is the file {af} reads ({ap}); writing it would destroy it: give {bf} \
             another path"
        ),
        Role::FolderItself => format!(
            "{bf}: {bp} is the {af} folder; give {bf} a path of a file, outside that folder"
        ),
        Role::InFolder(name) => format!(
            "{bf}: {bp} is the {af} file {name} ({ap}), which the report would overwrite; give \
             {bf} another path"
        ),
        Role::File => match b.role {
            // the folder's file came second: still name the single file's flag first
            Role::InFolder(name) => format!(
                "{af}: {ap} is the {bf} file {name} ({bp}), which the report would overwrite; \
                 give {af} another path"
            ),
            _ => format!("{bf}: {bp} is the same file as {af} {ap}; give each output its own path"),
        },
    })
}

/// The paths [`run`] reads and writes, for [`check_paths`]: `--resume` (which `--save` may
/// write), the data files when real data may be read, `--save`, `--metrics` and the
/// `--report` folder with its files.
pub(super) fn lab_paths<'a>(args: &'a LabArgs, data_files: &'a [PathBuf]) -> Vec<RunPath<'a>> {
    let mut paths = Vec::new();
    if let Some(path) = &args.resume {
        paths.push(RunPath::Input {
            flag: "--resume",
            path,
            writable_by: &["--save"],
        });
    }
    for path in data_files {
        paths.push(RunPath::Input {
            flag: "the data set",
            path,
            writable_by: &[],
        });
    }
    if let Some(path) = &args.save {
        paths.push(RunPath::File {
            flag: "--save",
            path,
        });
    }
    if let Some(path) = &args.output.metrics {
        paths.push(RunPath::File {
            flag: "--metrics",
            path,
        });
    }
    if let Some(path) = &args.output.report {
        paths.push(RunPath::Folder {
            flag: "--report",
            path,
            files: &crate::report::REPORT_FILES,
        });
    }
    paths
}

/// The files of the real data set `args` may read (raw and `.gz`), none for synthetic digits.
pub(super) fn data_files(args: &DataArgs) -> Vec<PathBuf> {
    let dir = match args.dataset {
        DatasetChoice::Synthetic => return Vec::new(),
        DatasetChoice::Fashion => FashionMnist::resolve_dir(args.data_dir.as_deref()),
        DatasetChoice::Mnist | DatasetChoice::Auto => Mnist::resolve_dir(args.data_dir.as_deref()),
    };
    datasets::FILES
        .iter()
        .flat_map(|f| [dir.join(f), dir.join(format!("{f}.gz"))])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_paths_allows_save_over_resume_and_refuses_other_overlaps() {
        let t = crate::fs::tests::TempDir::new("lab-paths");
        let ck = t.0.join("run.safetensors");
        std::fs::write(&ck, b"checkpoint").unwrap();
        let resume = RunPath::Input {
            flag: "--resume",
            path: &ck,
            writable_by: &["--save"],
        };
        let dotted = t.0.join("./run.safetensors");
        let save = RunPath::File {
            flag: "--save",
            path: &dotted,
        };
        check_paths(&[resume, save]).unwrap();
        let metrics = RunPath::File {
            flag: "--metrics",
            path: &ck,
        };
        let err = check_paths(&[resume, metrics]).unwrap_err().to_string();
        assert!(err.starts_with("--metrics: "), "{err}");
        assert!(err.contains("is the file --resume reads"), "{err}");
        let err = check_paths(&[save, metrics]).unwrap_err().to_string();
        assert!(err.contains("is the same file as --save"), "{err}");
        // the report's files, and a file where the report needs a folder
        let report_dir = t.0.join("report");
        let report = RunPath::Folder {
            flag: "--report",
            path: &report_dir,
            files: &crate::report::REPORT_FILES,
        };
        let index = report_dir.join("index.html");
        let in_report = RunPath::File {
            flag: "--metrics",
            path: &index,
        };
        let err = check_paths(&[in_report, report]).unwrap_err().to_string();
        assert!(err.contains("is the --report file index.html"), "{err}");
        let err = check_paths(&[report, in_report]).unwrap_err().to_string();
        assert!(err.contains("is the --report file index.html"), "{err}");
        let on_folder = RunPath::File {
            flag: "--save",
            path: &report_dir,
        };
        let err = check_paths(&[on_folder, report]).unwrap_err().to_string();
        assert!(err.contains("is the --report folder"), "{err}");
        assert!(!report_dir.exists(), "nothing made before the paths agree");
        check_paths(&[report, save]).unwrap();
        assert_eq!(std::fs::read_dir(&report_dir).unwrap().count(), 0);
        assert_eq!(std::fs::read(&ck).unwrap(), b"checkpoint");
    }
}
