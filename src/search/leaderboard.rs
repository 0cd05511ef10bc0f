//! The leaderboard file: JSON Lines, the search's settings on the first line and one line per
//! finished candidate after it, best first. It is rewritten whole (atomically) after every
//! candidate, so it is always complete, and it is what a restarted search reads back.

use std::cmp::Ordering;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::fs::write_atomic;
use crate::lab::LabError;

/// Which part of the candidate list a process evaluates: the candidates whose index i has
/// i mod `count` = `index`. `0/1` is the whole list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This shard, from 0.
    pub index: usize,
    /// How many shards the list is split into.
    pub count: usize,
}

impl Shard {
    /// The whole list: shard 0 of 1.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Reads `i/n` (0 ≤ i < n), the `--shard` flag's value.
    ///
    /// # Errors
    /// A one-line message saying what is wrong and what is expected.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || {
            format!(
                "expected i/n with 0 <= i < n (shard i of n, counted from 0), e.g. 0/4 or \
                 $SLURM_ARRAY_TASK_ID/4, got {s:?}"
            )
        };
        let (i, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether candidate `i` belongs to this shard.
    pub fn contains(&self, i: usize) -> bool {
        i % self.count == self.index
    }

    /// How many of `n` candidates belong to this shard.
    pub fn size(&self, n: usize) -> usize {
        (0..n).filter(|&i| self.contains(i)).count()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Everything that decides a candidate's result, and the shard: the first line of a
/// leaderboard. Two leaderboards can be resumed from or merged only when these agree (the
/// shard aside, for merging). The thread count is not here: it does not change any result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The leaderboard format.
    pub version: u32,
    /// How many candidates the grammar gives (before sharding).
    pub candidates: usize,
    /// FNV-1a hash of the candidate list (the formulas, one per line), in hex: another
    /// grammar or formula language gives another list.
    pub candidates_hash: String,
    /// The data set: `"mnist"`, `"fashion"`, `"synthetic"`.
    pub dataset: String,
    /// Training images used (the first ones of the training set).
    pub train: usize,
    /// Held-out images scored on (the first ones of the test set).
    pub test: usize,
    /// FNV-1a hash of those images and labels, in hex: the same files wherever they are.
    pub data_hash: String,
    /// Hidden layers of the MLP.
    pub depth: usize,
    /// Width of each hidden layer.
    pub width: usize,
    /// Weight initialisation.
    pub init: String,
    /// Optimizer.
    pub optimizer: String,
    /// Its learning rate at the start.
    pub lr: f32,
    /// Learning-rate decay.
    pub lr_decay: String,
    /// Batch size.
    pub batch_size: usize,
    /// Epochs over the training images.
    pub epochs: usize,
    /// Seed of the weights and the data order.
    pub seed: u64,
    /// The part of the candidate list this file holds.
    pub shard: Shard,
}

impl Settings {
    /// The names of the settings that differ from `other`'s, the shard aside.
    pub fn differences(&self, other: &Settings) -> Vec<String> {
        // through the text, so that an f32 shows as written (0.003, not 0.003000000026…)
        let value = |s: &Settings| -> serde_json::Value {
            serde_json::from_str(&serde_json::to_string(s).expect("settings serialise"))
                .expect("settings read back")
        };
        let (a, b) = (value(self), value(other));
        let (a, b) = (a.as_object().unwrap(), b.as_object().unwrap());
        a.iter()
            .filter(|(k, v)| *k != "shard" && b.get(*k) != Some(v))
            .map(|(k, v)| {
                format!(
                    "{k} {v} vs {}",
                    b.get(k).unwrap_or(&serde_json::Value::Null)
                )
            })
            .collect()
    }
}

/// The leaderboard format written by this version.
pub const LEADERBOARD_VERSION: u32 = 1;

/// One evaluated candidate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Its index in the candidate list.
    pub index: usize,
    /// The formula.
    pub formula: String,
    /// Accuracy on the held-out images after training; `None` if training failed.
    pub accuracy: Option<f32>,
    /// Mean cross-entropy on the held-out images; `None` if training failed.
    pub loss: Option<f32>,
    /// Why training failed (the loss went NaN or infinite, …); `None` if it did not.
    pub failure: Option<String>,
}

impl Record {
    /// Leaderboard order: higher accuracy first, then lower loss, then lower index; failed
    /// candidates last, by index.
    pub fn rank_cmp(&self, other: &Record) -> Ordering {
        let key = |r: &Record| match (r.accuracy, r.loss) {
            (Some(a), Some(l)) if a.is_finite() && l.is_finite() => Some((a, l)),
            _ => None,
        };
        match (key(self), key(other)) {
            (Some((a1, l1)), Some((a2, l2))) => a2
                .total_cmp(&a1)
                .then(l1.total_cmp(&l2))
                .then(self.index.cmp(&other.index)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => self.index.cmp(&other.index),
        }
    }
}

/// A leaderboard: its settings and its records, best first.
#[derive(Clone, Debug, PartialEq)]
pub struct Leaderboard {
    /// The settings line.
    pub settings: Settings,
    /// The finished candidates, in [`Record::rank_cmp`] order.
    pub records: Vec<Record>,
}

/// The first line's key.
const SETTINGS_KEY: &str = "settings";

impl Leaderboard {
    /// An empty leaderboard.
    pub fn new(settings: Settings) -> Leaderboard {
        Leaderboard {
            settings,
            records: Vec::new(),
        }
    }

    /// Adds a record, keeping the order.
    pub fn insert(&mut self, r: Record) {
        let at = self
            .records
            .partition_point(|x| x.rank_cmp(&r) == Ordering::Less);
        self.records.insert(at, r);
    }

    /// Whether candidate `index` is finished.
    pub fn contains(&self, index: usize) -> bool {
        self.records.iter().any(|r| r.index == index)
    }

    /// The file's text: `{"settings":{…}}`, then one record per line.
    pub fn to_jsonl(&self) -> String {
        let settings = serde_json::to_string(&self.settings).expect("settings serialise");
        let mut s = format!("{{\"{SETTINGS_KEY}\":{settings}}}\n");
        for r in &self.records {
            s += &serde_json::to_string(r).expect("a record serialises");
            s.push('\n');
        }
        s
    }

    /// Writes the file atomically.
    ///
    /// # Errors
    /// [`LabError::OutputPath`] naming `flag` and the file.
    pub fn write(&self, path: &Path, flag: &'static str) -> Result<(), LabError> {
        write_atomic(path, self.to_jsonl().as_bytes())
            .map_err(|source| LabError::OutputPath { flag, source })
    }

    /// Reads a leaderboard file, checking every line, and that every record belongs to the
    /// file's shard and its candidate list (`candidates`, when given) and appears once.
    ///
    /// # Errors
    /// [`LabError::Usage`] naming the file (and the line) for a file that cannot be read, a
    /// line that is not JSON or not a record, a record outside the shard or the list, or one
    /// written twice.
    pub fn read(path: &Path, candidates: Option<&[String]>) -> Result<Leaderboard, LabError> {
        let shown = crate::fs::shown(path);
        let text = std::fs::read_to_string(path)
            .map_err(|e| LabError::Usage(format!("{shown}: cannot read the leaderboard ({e})")))?;
        let mut lines = text.lines().enumerate();
        let not_ours = "; it is not a leaderboard this search wrote: name another file, \
                        or delete it to start afresh";
        let (_, first) = lines.next().ok_or_else(|| {
            LabError::Usage(format!("{shown}: empty, no settings line{not_ours}"))
        })?;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct First {
            settings: Settings,
        }
        let settings = serde_json::from_str::<First>(first)
            .map_err(|e| {
                LabError::Usage(format!("{shown}:1: not the settings line: {e}{not_ours}"))
            })?
            .settings;
        if settings.version != LEADERBOARD_VERSION {
            return Err(LabError::Usage(format!(
                "{shown}: leaderboard version {}, this search reads version \
                 {LEADERBOARD_VERSION}: rerun the search",
                settings.version
            )));
        }
        let mut board = Leaderboard::new(settings);
        let mut seen = std::collections::HashSet::new();
        for (i, line) in lines {
            let n = i + 1;
            let r: Record = serde_json::from_str(line).map_err(|e| {
                LabError::Usage(format!(
                    "{shown}:{n}: not a candidate record: {e}; the file is damaged: delete \
                     that line (the candidate is evaluated again) or the file"
                ))
            })?;
            let shard = board.settings.shard;
            let known = candidates.map_or(Some(&r.formula), |c| c.get(r.index));
            if r.index >= board.settings.candidates
                || !shard.contains(r.index)
                || known != Some(&r.formula)
            {
                return Err(LabError::Usage(format!(
                    "{shown}:{n}: candidate {} ({}) is not candidate {} of shard {shard} of \
                     this list; the file is damaged: delete that line or the file",
                    r.index, r.formula, r.index
                )));
            }
            if !seen.insert(r.index) {
                return Err(LabError::Usage(format!(
                    "{shown}:{n}: candidate {} is written twice; the file is damaged: delete \
                     one of the lines",
                    r.index
                )));
            }
            board.insert(r);
        }
        Ok(board)
    }

    /// Joins the leaderboards of the shards `0/n … (n−1)/n` of one search into the leaderboard
    /// of the whole list (shard `0/1`), equal to the one a single process writes.
    ///
    /// # Errors
    /// [`LabError::Usage`] naming the file when the settings differ (and which), shards of
    /// different counts, a shard given twice or missing, or a shard that is not finished.
    pub fn merge(parts: &[(String, Leaderboard)]) -> Result<Leaderboard, LabError> {
        let Some((first_name, first)) = parts.first() else {
            return Err(LabError::Usage(
                "--merge: no leaderboard given: name the shards' files".into(),
            ));
        };
        let count = first.settings.shard.count;
        let mut by_shard: Vec<Option<&str>> = vec![None; count];
        let mut all = Leaderboard::new(Settings {
            shard: Shard::ALL,
            ..first.settings.clone()
        });
        for (name, part) in parts {
            let s = &part.settings;
            let diff = first.settings.differences(s);
            if !diff.is_empty() {
                return Err(LabError::Usage(format!(
                    "--merge: {name} comes from other settings than {first_name} ({}): merge \
                     only the shards of one search",
                    diff.join(", ")
                )));
            }
            if s.shard.count != count {
                return Err(LabError::Usage(format!(
                    "--merge: {name} is shard {} but {first_name} is shard {}: merge the \
                     shards of one split",
                    s.shard, first.settings.shard
                )));
            }
            if let Some(other) = by_shard[s.shard.index].replace(name) {
                return Err(LabError::Usage(format!(
                    "--merge: {name} and {other} are both shard {}: give each shard once",
                    s.shard
                )));
            }
            let want = s.shard.size(s.candidates);
            if part.records.len() != want {
                return Err(LabError::Usage(format!(
                    "--merge: {name} (shard {}) has {} of its {want} candidates: finish it \
                     (rerun its search with the same flags; it resumes) before merging",
                    s.shard,
                    part.records.len()
                )));
            }
            for r in &part.records {
                all.insert(r.clone());
            }
        }
        let missing: Vec<String> = (0..count)
            .filter(|&i| by_shard[i].is_none())
            .map(|i| format!("{i}/{count}"))
            .collect();
        if !missing.is_empty() {
            return Err(LabError::Usage(format!(
                "--merge: shard{} {} missing: give the files of all {count} shards",
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", ")
            )));
        }
        Ok(all)
    }
}

/// FNV-1a, 64 bits, of `bytes`, in hex: a fingerprint, not a cryptographic hash.
pub fn fnv1a(parts: &[&[u8]]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_split_the_list() {
        assert_eq!(Shard::parse("2/3"), Ok(Shard { index: 2, count: 3 }));
        for bad in ["3/3", "1/0", "x/2", "1", "-1/2", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let s = Shard { index: 1, count: 3 };
        assert_eq!(
            (0..10).filter(|&i| s.contains(i)).collect::<Vec<_>>(),
            [1, 4, 7]
        );
        assert_eq!(s.size(10), 3);
    }

    #[test]
    fn records_rank_by_accuracy_then_loss_failures_last() {
        let r = |index, accuracy: Option<f32>, loss: Option<f32>| Record {
            index,
            formula: "x".into(),
            accuracy,
            loss,
            failure: None,
        };
        let mut v = [
            r(0, None, None),
            r(1, Some(0.5), Some(1.0)),
            r(2, Some(0.9), Some(0.4)),
            r(3, Some(0.9), Some(0.3)),
        ];
        v.sort_by(Record::rank_cmp);
        let order: Vec<usize> = v.iter().map(|r| r.index).collect();
        assert_eq!(order, [3, 2, 1, 0]);
    }
}
