//! The activation search (`minidl::search`, the `search` example) on a tiny budget: sharded
//! and merged equals one run, a resumed run equals an uninterrupted one, results do not depend
//! on the thread count, and bad input is a one-line error.

mod common;

use std::path::Path;
use std::process::Command;

use minidl::cli::{InitKind, LrDecay, OptimizerKind};
use minidl::lab::Data;
use minidl::search::{self, Leaderboard, ProxyTask, Shard};

use common::{synthetic_data, TempDir};

/// A proxy task small enough to score a candidate in milliseconds.
fn tiny_task() -> ProxyTask {
    ProxyTask {
        depth: 2,
        width: 8,
        init: InitKind::Default,
        optimizer: OptimizerKind::Adam,
        lr: 3e-3,
        lr_decay: LrDecay::Cosine,
        batch_size: 32,
        epochs: 2,
        seed: 0,
        train: 96,
        test: 64,
    }
}

fn tiny_data(task: &ProxyTask) -> Data {
    task.data(&synthetic_data(128, 64, 7)).unwrap()
}

/// The first `n` candidates of the grammar.
fn candidates(n: usize) -> Vec<String> {
    let mut c = search::enumerate().candidates;
    c.truncate(n);
    c
}

fn run(
    task: &ProxyTask,
    data: &Data,
    cands: &[String],
    shard: Shard,
    out: &Path,
    threads: usize,
) -> (Leaderboard, String) {
    let mut log = Vec::new();
    let board = search::search(task, data, cands, shard, out, threads, true, &mut log).unwrap();
    (board, String::from_utf8(log).unwrap())
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn three_shards_merged_equal_one_run_byte_for_byte_on_any_thread_count() {
    let t = TempDir::new("search-shards");
    let (task, cands) = (tiny_task(), candidates(10));
    let data = tiny_data(&task);
    let whole = std::path::PathBuf::from(t.path("whole.jsonl"));
    let (board, _) = run(&task, &data, &cands, Shard::ALL, &whole, 1);
    assert_eq!(board.records.len(), 10);
    // the candidates differ, so the ranking is not trivially the list's order
    let accs: Vec<Option<f32>> = board.records.iter().map(|r| r.accuracy).collect();
    assert!(accs.windows(2).any(|w| w[0] != w[1]), "{accs:?}");

    let mut parts = Vec::new();
    for i in 0..3 {
        let p = std::path::PathBuf::from(t.path(&format!("shard-{i}.jsonl")));
        let shard = Shard { index: i, count: 3 };
        let (b, _) = run(&task, &data, &cands, shard, &p, 2);
        assert_eq!(b.records.len(), shard.size(10));
        assert!(b.records.iter().all(|r| r.index % 3 == i));
        parts.push((
            p.display().to_string(),
            Leaderboard::read(&p, Some(&cands)).unwrap(),
        ));
    }
    // in any order of the files
    parts.reverse();
    let merged = Leaderboard::merge(&parts).unwrap();
    assert_eq!(merged.to_jsonl(), read(&whole));

    // the whole run on two threads writes the same file
    let two = std::path::PathBuf::from(t.path("two.jsonl"));
    run(&task, &data, &cands, Shard::ALL, &two, 2);
    assert_eq!(read(&two), read(&whole));
}

#[test]
fn a_resumed_search_equals_an_uninterrupted_one() {
    let t = TempDir::new("search-resume");
    let (task, cands) = (tiny_task(), candidates(6));
    let data = tiny_data(&task);
    let full = std::path::PathBuf::from(t.path("full.jsonl"));
    let (board, _) = run(&task, &data, &cands, Shard::ALL, &full, 1);

    // what a kill after three candidates leaves: the settings line and three records
    let part = std::path::PathBuf::from(t.path("part.jsonl"));
    let mut partial = board.clone();
    partial.records.retain(|r| [1, 2, 4].contains(&r.index));
    partial.write(&part, "--out").unwrap();
    let (resumed, log) = run(&task, &data, &cands, Shard::ALL, &part, 2);
    assert!(log.contains("3 of 6 candidates done, 3 to go"), "{log}");
    assert!(log.contains("scored 3 candidates"), "{log}");
    assert_eq!(resumed, board);
    assert_eq!(read(&part), read(&full));

    // a finished file is read back and nothing runs again
    let (again, log) = run(&task, &data, &cands, Shard::ALL, &full, 1);
    assert_eq!(again, board);
    assert!(!log.contains("scored"), "{log}");
}

#[test]
fn a_leaderboard_from_other_settings_or_damaged_is_refused() {
    let t = TempDir::new("search-refuse");
    let (task, cands) = (tiny_task(), candidates(4));
    let data = tiny_data(&task);
    let out = std::path::PathBuf::from(t.path("lb.jsonl"));
    run(&task, &data, &cands, Shard::ALL, &out, 1);
    let before = read(&out);
    let mut log = Vec::new();

    let other = ProxyTask {
        lr: 0.01,
        ..task.clone()
    };
    let err = search::search(&other, &data, &cands, Shard::ALL, &out, 1, true, &mut log)
        .unwrap_err()
        .to_string();
    assert!(err.contains("other settings (lr 0.003 vs 0.01)"), "{err}");
    // another candidate list (another grammar) is other settings too
    let err = search::search(
        &task,
        &data,
        &candidates(5),
        Shard::ALL,
        &out,
        1,
        true,
        &mut log,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("candidates 4 vs 5"), "{err}");
    let err = search::search(
        &task,
        &data,
        &cands,
        Shard { index: 0, count: 2 },
        &out,
        1,
        true,
        &mut log,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("holds shard 0/1, not --shard 0/2"), "{err}");
    assert_eq!(read(&out), before, "a refused file is left as it was");

    // a damaged line: named with its line number
    let mut lines: Vec<&str> = before.lines().collect();
    lines[2] = "{\"index\": 1, \"formula\": ";
    std::fs::write(&out, lines.join("\n")).unwrap();
    let err = search::search(&task, &data, &cands, Shard::ALL, &out, 1, true, &mut log)
        .unwrap_err()
        .to_string();
    assert!(err.contains("lb.jsonl:3: not a candidate record"), "{err}");
    assert!(!err.contains('\n'), "one line: {err}");
    // a record that names another formula than the list's
    let swapped = before.replacen(
        &format!("\"formula\":{:?}", cands[0]),
        "\"formula\":\"x * 9\"",
        1,
    );
    std::fs::write(&out, swapped).unwrap();
    let err = search::search(&task, &data, &cands, Shard::ALL, &out, 1, true, &mut log)
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not candidate 0 of shard 0/1"), "{err}");
}

#[test]
fn merging_refuses_mismatched_overlapping_missing_and_unfinished_shards() {
    let t = TempDir::new("search-merge");
    let (task, cands) = (tiny_task(), candidates(4));
    let data = tiny_data(&task);
    let shard = |i, n, task: &ProxyTask| {
        let p = std::path::PathBuf::from(t.path(&format!("s{i}-{n}-{}.jsonl", task.lr)));
        run(task, &data, &cands, Shard { index: i, count: n }, &p, 1);
        (format!("s{i}of{n}"), Leaderboard::read(&p, None).unwrap())
    };
    let (a, b) = (shard(0, 2, &task), shard(1, 2, &task));
    assert_eq!(
        Leaderboard::merge(&[a.clone(), b.clone()])
            .unwrap()
            .records
            .len(),
        4
    );
    let err = |parts: &[(String, Leaderboard)]| Leaderboard::merge(parts).unwrap_err().to_string();

    let e = err(&[a.clone(), a.clone()]);
    assert!(e.contains("s0of2 and s0of2 are both shard 0/2"), "{e}");
    let e = err(std::slice::from_ref(&a));
    assert!(e.contains("shard 1/2 missing"), "{e}");
    let other = shard(
        1,
        2,
        &ProxyTask {
            lr: 0.01,
            ..task.clone()
        },
    );
    let e = err(&[a.clone(), other]);
    assert!(
        e.contains("s1of2 comes from other settings than s0of2 (lr 0.003 vs 0.01)"),
        "{e}"
    );
    let e = err(&[a.clone(), shard(1, 3, &task)]);
    assert!(e.contains("is shard 1/3 but s0of2 is shard 0/2"), "{e}");
    let mut unfinished = b.clone();
    unfinished.1.records.pop();
    let e = err(&[a, unfinished]);
    assert!(e.contains("has 1 of its 2 candidates"), "{e}");
    let e = err(&[]);
    assert!(e.contains("no leaderboard given"), "{e}");
}

/// Runs the example with `args`; returns (status, stdout, stderr).
fn example(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(common::example("search"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn the_example_refuses_bad_flags_and_files_with_one_line_and_status_2() {
    let t = TempDir::new("search-cli");
    let tiny = [
        "--dataset",
        "synthetic",
        "--candidates",
        "3",
        "--depth",
        "1",
        "--width",
        "4",
        "--train",
        "64",
        "--test",
        "32",
        "--epochs",
        "1",
        "--threads",
        "1",
        "-q",
    ];
    let with = |extra: &[&str]| {
        let mut v: Vec<&str> = tiny.to_vec();
        v.extend_from_slice(extra);
        example(&v)
    };
    for bad in ["3/3", "1/0", "a/2", "2"] {
        let (code, _, err) = with(&["--shard", bad, "--out", &t.path("x.jsonl")]);
        assert_eq!(code, 2, "--shard {bad}: {err}");
        assert!(
            err.contains("--shard") && err.contains("expected i/n"),
            "{err}"
        );
    }
    let y = t.path("y.jsonl");
    let (code, _, err) = example(&["--dataset", "synthetic", "--train", "70000", "--out", &y]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--train 70000"), "{err}");

    // a whole search, then its file damaged
    let out = t.path("lb.jsonl");
    let (code, stdout, err) = with(&["--out", &out]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("leaderboard:"), "{stdout}");
    let text = std::fs::read_to_string(&out).unwrap();
    let (settings, records) = text.split_once('\n').unwrap();
    let damaged = format!(
        "{settings}\n{}",
        records.replacen("\"index\"", "\"indx\"", 1)
    );
    std::fs::write(&out, damaged).unwrap();
    let (code, _, err) = with(&["--out", &out]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("lb.jsonl:2: not a candidate record"),
        "{err}"
    );

    // merging into one of its own inputs, and the merge of one finished shard
    let (code, _, err) = example(&["--merge", &out, "--out", &out]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is also given to --merge"), "{err}");
    let (code, _, err) = with(&["--top", "2", "--shard", "0/2", "--out", &t.path("z.jsonl")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--top"), "{err}");
}
