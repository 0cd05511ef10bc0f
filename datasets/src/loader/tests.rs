use super::*;

/// 5 images of 2×2; image i has all pixels = 50·i, label i % 3.
fn tiny() -> Dataset {
    let images: Vec<u8> = (0..5u8).flat_map(|i| [50 * i; 4]).collect();
    let labels: Vec<u8> = (0..5u8).map(|i| i % 3).collect();
    Dataset::new(
        "tiny",
        images,
        labels,
        2,
        2,
        vec!["a".into(), "b".into(), "c".into()],
    )
    .unwrap()
    .with_normalization(0.0, 1.0)
}

#[test]
fn dataset_accessors() {
    let d = tiny();
    assert_eq!(
        (d.len(), d.rows(), d.cols(), d.pixels(), d.num_classes()),
        (5, 2, 2, 4, 3)
    );
    assert_eq!(d.image(2), &[100; 4]);
    assert_eq!(d.label(4), 1);
    assert_eq!(d.class_counts(), vec![2, 2, 1]);
    assert_eq!(d.labels(), &[0, 1, 2, 0, 1]);
}

#[test]
fn pixel_stats_by_hand() {
    // pixels 0 and 255, half each: mean 0.5, std 0.5
    let d = Dataset::new(
        "s",
        vec![0, 255, 0, 255],
        vec![0, 0],
        1,
        2,
        vec!["x".into()],
    )
    .unwrap();
    let (m, s) = d.pixel_stats();
    assert!((m - 0.5).abs() < 1e-6 && (s - 0.5).abs() < 1e-6);
    assert_eq!(d.normalization(), (m, s));
    // all-zero images: std 0 would divide by zero, so the default std is 1
    let z = Dataset::new("z", vec![0; 4], vec![0], 2, 2, vec!["x".into()]).unwrap();
    assert_eq!(z.normalization(), (0.0, 1.0));
}

#[test]
fn dataset_new_validates() {
    let e = Dataset::new("bad", vec![0; 7], vec![0, 0], 2, 2, vec!["x".into()]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::CountMismatch {
                expected: 1,
                found: 2,
                ..
            }
        ),
        "{e}"
    );
    let e = Dataset::new("bad", vec![0; 8], vec![0, 3], 2, 2, vec!["x".into(); 3]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::LabelOutOfRange {
                index: 1,
                label: 3,
                classes: 3,
                ..
            }
        ),
        "{e}"
    );
    let empty = Dataset::new("e", vec![], vec![], 28, 28, vec!["x".into()]).unwrap();
    assert!(empty.is_empty());
    assert_eq!(DataLoader::new(&empty, 4).epoch(0).count(), 0);
}

#[test]
fn limit_split_subset() {
    let d = tiny();
    assert_eq!(d.limit(2).labels(), &[0, 1]);
    assert_eq!(d.limit(99).len(), 5);
    let (a, b) = d.split_at(3);
    assert_eq!(a.labels(), &[0, 1, 2]);
    assert_eq!(b.labels(), &[0, 1]);
    assert_eq!(b.image(0), &[150; 4]);
    let s = d.subset(&[4, 0, 4]);
    assert_eq!(s.labels(), &[1, 0, 1]);
    assert_eq!(s.image(0), &[200; 4]);
    assert_eq!(s.normalization(), d.normalization());
}

#[test]
fn batches_in_order_with_last_short_batch() {
    let d = tiny();
    let loader = DataLoader::new(&d, 2);
    assert_eq!(loader.num_batches(), 3);
    let batches: Vec<_> = loader.epoch(0).collect();
    assert_eq!(batches.len(), 3);
    let (x, y) = &batches[0];
    assert_eq!(x.dims(), &[2, 1, 2, 2]);
    let v = 50.0 / 255.0;
    let want = Tensor::from_vec(vec![0.0, 0.0, 0.0, 0.0, v, v, v, v], [2, 1, 2, 2]);
    assert!(x.allclose(&want, 1e-6, 0.0), "{x:?}");
    assert_eq!(y.to_vec(), vec![0.0, 1.0]);
    let (x, y) = &batches[2];
    assert_eq!(x.dims(), &[1, 1, 2, 2]);
    assert_eq!(y.to_vec(), vec![1.0]);
}

#[test]
fn drop_last_and_flatten() {
    let loader = DataLoader::new(&tiny(), 2).drop_last(true).flatten(true);
    assert_eq!(loader.num_batches(), 2);
    let dims: Vec<_> = loader.epoch(0).map(|(x, _)| x.dims().to_vec()).collect();
    assert_eq!(dims, vec![vec![2, 4], vec![2, 4]]);
    let one = DataLoader::new(&tiny(), 10).drop_last(true);
    assert_eq!(one.epoch(0).count(), 0);
}

#[test]
fn normalization_values() {
    let d = tiny().with_normalization(0.5, 0.25);
    let (x, _) = DataLoader::new(&d, 5).epoch(0).next().unwrap();
    // pixel 0 → (0 − 0.5) / 0.25 = −2; pixel 200 → (200/255 − 0.5) / 0.25
    assert_eq!(x.get(&[0, 0, 0, 0]), -2.0);
    let want = (200.0 / 255.0 - 0.5) / 0.25;
    assert!((x.get(&[4, 0, 1, 1]) - want).abs() < 1e-6);
    // to_tensors gives the same values for the whole set
    let (all, labels) = d.to_tensors(false);
    assert_eq!(all, x);
    assert_eq!(labels.to_vec(), vec![0.0, 1.0, 2.0, 0.0, 1.0]);
    // loader override
    let (x, _) = DataLoader::new(&d, 5)
        .normalization(0.0, 1.0)
        .epoch(0)
        .next()
        .unwrap();
    assert!((x.get(&[1, 0, 0, 0]) - 50.0 / 255.0).abs() < 1e-7);
    // every byte value, against the formula in f64
    let all = Dataset::new(
        "all",
        (0..=255).collect(),
        vec![0],
        16,
        16,
        vec!["x".into()],
    )
    .unwrap()
    .with_normalization(0.1307, 0.3081);
    let (x, _) = all.to_tensors(true);
    for (v, &got) in x.data().iter().enumerate() {
        let want = (v as f64 / 255.0 - 0.1307) / 0.3081;
        assert!((got as f64 - want).abs() < 1e-6, "{v}: {got} vs {want}");
    }
}

#[test]
fn shuffle_is_a_seeded_permutation_per_epoch() {
    let images = vec![0u8; 100];
    let labels: Vec<u8> = (0..100).collect();
    let names = (0..100).map(|i| i.to_string()).collect();
    let d = Dataset::new("ids", images, labels, 1, 1, names).unwrap();
    let a = DataLoader::new(&d, 7).shuffle(42);
    let b = DataLoader::new(&d, 7).shuffle(42);
    let ids = |l: &DataLoader, e| -> Vec<usize> {
        l.epoch(e)
            .flat_map(|(_, y)| y.to_vec())
            .map(|v| v as usize)
            .collect()
    };
    let e0 = ids(&a, 0);
    assert_eq!(e0, ids(&b, 0), "same seed and epoch, same order");
    assert_eq!(e0, a.order(0));
    assert_ne!(e0, ids(&a, 1), "another epoch, another order");
    assert_ne!(e0, ids(&DataLoader::new(&d, 7).shuffle(43), 0));
    assert_ne!(e0, (0..100).collect::<Vec<_>>());
    let mut sorted = e0.clone();
    sorted.sort();
    assert_eq!(sorted, (0..100).collect::<Vec<_>>(), "a permutation");
    assert_eq!(
        ids(&DataLoader::new(&d, 7), 3),
        (0..100).collect::<Vec<_>>()
    );
}

#[test]
fn prefetch_gives_the_same_batches() {
    let d = tiny();
    let plain: Vec<_> = DataLoader::new(&d, 2).shuffle(9).epoch(5).collect();
    let pre = DataLoader::new(&d, 2).shuffle(9).prefetch(true);
    let it = pre.epoch(5);
    assert_eq!(it.len(), 3);
    let fetched: Vec<_> = it.collect();
    assert_eq!(plain, fetched);
    // stopping early does not hang: the worker sees the hang-up and ends
    let mut it = DataLoader::new(&d, 1).prefetch(true).epoch(0);
    assert!(it.next().is_some());
    drop(it);
}

#[test]
fn ascii_and_pgm() {
    let d = tiny();
    let s = d.ascii(4);
    assert_eq!(s, "tiny #4: label 1 (b)\n##\n##\n");
    let path = std::env::temp_dir().join(format!("minidl-grid-{}.pgm", std::process::id()));
    d.save_pgm_grid(&path, 5, 3).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    // 3 cells of 2 px + 4 separators = 10 wide; 2 rows of cells → 7 high
    let header = b"P5\n10 7\n255\n";
    assert_eq!(&bytes[..header.len()], header);
    assert_eq!(bytes.len(), header.len() + 70);
    let pix = &bytes[header.len()..];
    assert_eq!(pix[10 + 4], 50); // image 1 at row 1, column 4
    assert_eq!(pix[0], 96);
}

#[test]
#[should_panic(expected = "DataLoader::new: batch_size must be at least 1")]
fn zero_batch_size_panics() {
    DataLoader::new(&tiny(), 0);
}
