use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use safetensors::tensor::Dtype;
use tensor::Tensor;

use super::*;
use crate::module::Module;
use crate::{BatchNorm1d, Linear, Sequential};

/// A path `model.safetensors` in a fresh temporary folder, removed with the folder when the
/// `Tmp` is dropped.
struct Tmp(
    PathBuf,
    #[allow(dead_code, reason = "held for its drop")] tempfile::TempDir,
);

impl Tmp {
    fn new(name: &str) -> Tmp {
        let dir = tempfile::Builder::new()
            .prefix(&format!("minidl-state-{name}-"))
            .tempdir()
            .unwrap();
        Tmp(dir.path().join("model.safetensors"), dir)
    }
}

fn model(seed: u64) -> Sequential {
    let mut rng = tensor::rng(seed);
    Sequential::new()
        .push(Linear::new(3, 4, true, &mut rng))
        .push(BatchNorm1d::new(4))
        .push(Linear::new(4, 2, false, &mut rng))
}

fn meta(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn round_trip_is_bit_exact_with_metadata() {
    let tmp = Tmp::new("roundtrip");
    let special = Tensor::from_vec(
        vec![
            f32::NAN,
            f32::INFINITY,
            -0.0,
            f32::MIN_POSITIVE / 3.0,
            1.0e-38,
            -123.456,
        ],
        [2, 3],
    );
    let tensors = vec![
        ("b".to_string(), Tensor::scalar(7.5)),
        ("a.weight".to_string(), special.clone()),
        ("empty".to_string(), Tensor::zeros([0, 4])),
    ];
    save(&tmp.0, &tensors, &meta(&[("epoch", "3"), ("seed", "42")])).unwrap();
    let ck = load(&tmp.0).unwrap();
    let names: Vec<&str> = ck.tensors.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["a.weight", "b", "empty"]);
    let got = ck.get("a.weight").unwrap();
    assert_eq!(got.dims(), [2, 3]);
    let bits = |t: &Tensor| t.data().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(got), bits(&special));
    assert_eq!(ck.get("b").unwrap().dims(), [] as [usize; 0]);
    assert_eq!(ck.get("empty").unwrap().dims(), [0, 4]);
    assert_eq!(ck.metadata["epoch"], "3");
    assert_eq!(ck.metadata["seed"], "42");
    assert_eq!(ck.metadata[FORMAT_VERSION_KEY], "1");
    // no temporary file left behind
    let left: Vec<_> = std::fs::read_dir(tmp.0.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
}

#[test]
fn module_round_trip_with_buffers_and_description() {
    let tmp = Tmp::new("module");
    let a = model(1);
    // move the running statistics away from their initial values
    a.forward(&autograd::Var::constant(Tensor::randn(
        [5, 3],
        &mut tensor::rng(9),
    )));
    save_module(&tmp.0, &a, &meta(&[("optimizer", "Adam")])).unwrap();
    let b = model(2);
    assert_ne!(state_dict(&b)[0].1, state_dict(&a)[0].1);
    let ck = load_module(&tmp.0, &b).unwrap();
    for ((na, ta), (nb, tb)) in state_dict(&a).iter().zip(state_dict(&b).iter()) {
        assert_eq!(na, nb);
        assert_eq!(ta, tb, "{na}");
    }
    assert_eq!(ck.metadata[MODEL_KEY], a.to_string());
    assert_eq!(ck.metadata["optimizer"], "Adam");
    let names: Vec<String> = state_dict(&a).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "0.weight",
            "0.bias",
            "1.weight",
            "1.bias",
            "2.weight",
            "1.running_mean",
            "1.running_var",
            "1.num_batches_tracked"
        ]
    );
}

#[test]
fn checkpoint_keeps_optimizer_entries_apart() {
    let tmp = Tmp::new("optim");
    let m = model(1);
    let optim = vec![("step".to_string(), Tensor::scalar(3.0))];
    save_checkpoint(&tmp.0, &m, &optim, &BTreeMap::new()).unwrap();
    let mut ck = load_module(&tmp.0, &model(2)).unwrap();
    let o = ck.take_prefix(OPTIM_PREFIX);
    assert_eq!(o, optim);
    assert!(ck.tensors.iter().all(|(n, _)| !n.starts_with(OPTIM_PREFIX)));
}

#[test]
fn truncated_file_is_named_and_model_untouched() {
    let tmp = Tmp::new("truncated");
    save_module(&tmp.0, &model(1), &BTreeMap::new()).unwrap();
    let bytes = std::fs::read(&tmp.0).unwrap();
    let target = model(2);
    let before = state_dict(&target);
    for cut in [0, 5, 8, 20, bytes.len() - 1] {
        std::fs::write(&tmp.0, &bytes[..cut]).unwrap();
        let e = load_module(&tmp.0, &target).unwrap_err();
        match &e {
            Error::Truncated {
                actual, expected, ..
            } => {
                assert_eq!(*actual, cut as u64);
                assert!(*expected > *actual);
            }
            other => panic!("cut at {cut}: expected Truncated, got {other:?}"),
        }
        assert!(e.to_string().contains("is truncated"), "{e}");
    }
    assert_eq!(
        Error::Truncated {
            path: "m.safetensors".into(),
            expected: 100,
            actual: 60
        }
        .to_string(),
        "checkpoint m.safetensors is truncated: it has 60 bytes but its header needs 100; \
         the copy or the write was interrupted — copy the file again or use an earlier checkpoint"
    );
    for ((n, a), (_, b)) in before.iter().zip(state_dict(&target).iter()) {
        assert_eq!(a, b, "{n} changed");
    }
}

#[test]
fn wrong_magic_is_named() {
    let tmp = Tmp::new("magic");
    // a zip file's first bytes
    std::fs::write(
        &tmp.0,
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00rest of an archive",
    )
    .unwrap();
    let e = load(&tmp.0).unwrap_err();
    assert!(matches!(e, Error::NotSafetensors { .. }), "{e:?}");
    assert!(
        e.to_string().contains("is not a safetensors checkpoint"),
        "{e}"
    );
    // a right length but no JSON object
    let mut bytes = 4u64.to_le_bytes().to_vec();
    bytes.extend_from_slice(b"[1,2");
    std::fs::write(&tmp.0, &bytes).unwrap();
    let e = load(&tmp.0).unwrap_err();
    assert!(matches!(e, Error::NotSafetensors { .. }), "{e:?}");
}

#[test]
fn corrupt_header_and_trailing_bytes_are_named() {
    let tmp = Tmp::new("corrupt");
    let header = br#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(&[0; 8]);
    // the header lacks its closing brace
    std::fs::write(&tmp.0, &bytes).unwrap();
    let e = load(&tmp.0).unwrap_err();
    assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");
    assert!(e.to_string().contains("not valid JSON"), "{e}");
    // shape [3] does not fit 8 bytes of data
    let header = br#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(&[0; 8]);
    std::fs::write(&tmp.0, &bytes).unwrap();
    assert!(matches!(load(&tmp.0), Err(Error::Corrupt { .. })));
    // extra bytes after the data
    save(&tmp.0, &[("a".into(), Tensor::ones([2]))], &BTreeMap::new()).unwrap();
    let mut bytes = std::fs::read(&tmp.0).unwrap();
    bytes.extend_from_slice(&[1, 2, 3]);
    std::fs::write(&tmp.0, &bytes).unwrap();
    let e = load(&tmp.0).unwrap_err();
    assert!(
        e.to_string().contains("3 bytes after the last tensor"),
        "{e}"
    );
}

#[test]
fn missing_file_is_an_io_error_naming_the_path() {
    let e = load("no/such/dir/model.safetensors").unwrap_err();
    assert!(matches!(e, Error::Io { action: "read", .. }));
    assert!(
        e.to_string().contains("no/such/dir/model.safetensors"),
        "{e}"
    );
}

#[test]
fn missing_key_is_named_and_model_untouched() {
    let m = model(1);
    let before = state_dict(&m);
    let mut sd = state_dict(&model(2));
    sd.retain(|(n, _)| n != "2.weight");
    sd.push(("2.w".into(), Tensor::zeros([2, 4])));
    let e = load_state_dict(&m, &sd).unwrap_err();
    match &e {
        Error::Missing {
            missing,
            unexpected,
            ..
        } => {
            assert_eq!(missing, &["2.weight"]);
            assert_eq!(unexpected, &["2.w"]);
        }
        other => panic!("expected Missing, got {other:?}"),
    }
    assert!(e
        .to_string()
        .contains("lacks 1 of the model's entries: 2.weight"));
    assert!(e.to_string().contains("it has instead: 2.w"));
    assert_eq!(state_dict(&m), before);
}

#[test]
fn unexpected_key_is_named() {
    let m = model(1);
    let mut sd = state_dict(&m);
    sd.push(("3.bias".into(), Tensor::zeros([2])));
    let e = load_state_dict(&m, &sd).unwrap_err();
    assert!(matches!(&e, Error::Unexpected { unexpected, .. } if unexpected == &["3.bias"]));
}

#[test]
fn wrong_shape_is_named_with_path_and_model_untouched() {
    let tmp = Tmp::new("shape");
    let wide = Sequential::new()
        .push(Linear::new(3, 5, true, &mut tensor::rng(0)))
        .push(BatchNorm1d::new(4))
        .push(Linear::new(4, 2, false, &mut tensor::rng(0)));
    save_module(&tmp.0, &wide, &BTreeMap::new()).unwrap();
    let m = model(1);
    let before = state_dict(&m);
    let e = load_module(&tmp.0, &m).unwrap_err();
    match &e {
        Error::ShapeMismatch {
            name,
            expected,
            found,
            path,
        } => {
            assert_eq!(name, "0.weight");
            assert_eq!(expected, &[4, 3]);
            assert_eq!(found, &[5, 3]);
            assert_eq!(path.as_deref(), Some(tmp.0.as_path()));
        }
        other => panic!("expected ShapeMismatch, got {other:?}"),
    }
    assert!(
        e.to_string().contains("entry `0.weight` in ")
            && e.to_string()
                .contains("has shape [5, 3] but the model's is [4, 3]")
    );
    assert_eq!(state_dict(&m), before);
}

#[test]
fn newer_format_and_unsupported_dtype_are_refused() {
    let tmp = Tmp::new("version");
    let mut meta = HashMap::new();
    meta.insert(FORMAT_VERSION_KEY.to_string(), "99".to_string());
    let data = [0u8; 4];
    let view = safetensors::tensor::TensorView::new(Dtype::F32, vec![1], &data).unwrap();
    let bytes = safetensors::serialize([("a", view)], Some(meta)).unwrap();
    std::fs::write(&tmp.0, bytes).unwrap();
    assert!(matches!(
        load(&tmp.0),
        Err(Error::UnsupportedVersion { found, .. }) if found == "99"
    ));
    let data = [0u8; 8];
    let view = safetensors::tensor::TensorView::new(Dtype::U64, vec![1], &data).unwrap();
    std::fs::write(&tmp.0, safetensors::serialize([("n", view)], None).unwrap()).unwrap();
    let e = load(&tmp.0).unwrap_err();
    assert!(
        matches!(&e, Error::UnsupportedDtype { name, .. } if name == "n"),
        "{e:?}"
    );
}

#[test]
fn other_dtypes_convert_to_f32() {
    let tmp = Tmp::new("dtypes");
    let f64s: Vec<u8> = [1.5f64, -2.25]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    // 1.0, −2.0, 65504 (max), 2⁻²⁴ (smallest subnormal) in half precision
    let f16s: Vec<u8> = [0x3c00u16, 0xc000, 0x7bff, 0x0001]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let bf16s: Vec<u8> = [0x3f80u16, 0xc0a0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let i64s: Vec<u8> = [3i64, -7].iter().flat_map(|v| v.to_le_bytes()).collect();
    let views = [
        (
            "d",
            safetensors::tensor::TensorView::new(Dtype::F64, vec![2], &f64s).unwrap(),
        ),
        (
            "h",
            safetensors::tensor::TensorView::new(Dtype::F16, vec![4], &f16s).unwrap(),
        ),
        (
            "b",
            safetensors::tensor::TensorView::new(Dtype::BF16, vec![2], &bf16s).unwrap(),
        ),
        (
            "i",
            safetensors::tensor::TensorView::new(Dtype::I64, vec![2], &i64s).unwrap(),
        ),
    ];
    std::fs::write(&tmp.0, safetensors::serialize(views, None).unwrap()).unwrap();
    let ck = load(&tmp.0).unwrap();
    assert_eq!(ck.get("d").unwrap().to_vec(), vec![1.5, -2.25]);
    assert_eq!(
        ck.get("h").unwrap().to_vec(),
        vec![1.0, -2.0, 65504.0, 2f32.powi(-24)]
    );
    assert_eq!(ck.get("b").unwrap().to_vec(), vec![1.0, -5.0]);
    assert_eq!(ck.get("i").unwrap().to_vec(), vec![3.0, -7.0]);
    assert!(ck.metadata.is_empty());
}

#[test]
fn duplicate_names_are_refused() {
    let tmp = Tmp::new("dup");
    let t = vec![
        ("a".to_string(), Tensor::ones([1])),
        ("a".to_string(), Tensor::ones([1])),
    ];
    let e = save(&tmp.0, &t, &BTreeMap::new()).unwrap_err();
    assert!(matches!(&e, Error::DuplicateName { name } if name == "a"));
    assert!(!tmp.0.exists());
}

/// The limits of [`load_module`] for the test model.
fn module_limits() -> Limits {
    Limits::for_module(&model(1), 0, 1 << 20, true)
}

#[cfg(unix)]
#[test]
fn non_regular_files_are_refused_before_they_are_opened() {
    let tmp = Tmp::new("special");
    let dir = tmp.0.parent().unwrap().to_path_buf();
    let fifo = dir.join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let link = dir.join("link-to-dir");
    std::os::unix::fs::symlink(&dir, &link).unwrap();
    let cases: [(&Path, &str); 4] = [
        (&fifo, "is a FIFO (named pipe), not a checkpoint file"),
        (Path::new("/dev/zero"), "is a character device"),
        (&dir, "is a folder"),
        (&link, "is a folder"),
    ];
    for (path, says) in cases {
        // a FIFO without a writer would block an open() for reading forever
        let e = load_with(path, &module_limits()).unwrap_err();
        assert!(matches!(e, Error::NotAFile { .. }), "{e:?}");
        assert!(e.to_string().contains(says), "{e}");
        assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    }
}

#[test]
fn a_file_larger_than_the_model_allows_is_refused_from_its_size() {
    let tmp = Tmp::new("huge");
    // sparse: 1 TiB on the books, nothing on the disk
    let f = std::fs::File::create(&tmp.0).unwrap();
    f.set_len(1 << 40).unwrap();
    drop(f);
    let limits = module_limits();
    assert!(limits.max_file < 1 << 30, "{limits:?}");
    let e = load_with(&tmp.0, &limits).unwrap_err();
    assert!(
        matches!(e, Error::TooLarge { what: "file", size, .. } if size == 1 << 40),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("1099511627776 bytes, more than the"),
        "{e}"
    );
    // a header length within the format's limit but beyond this model's
    let mut bytes = (50_000_000u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(b"{}");
    std::fs::write(&tmp.0, &bytes).unwrap();
    let e = load_with(&tmp.0, &limits).unwrap_err();
    assert!(
        matches!(
            e,
            Error::TooLarge {
                what: "header",
                size: 50_000_000,
                ..
            }
        ),
        "{e:?}"
    );
    // a good checkpoint fits its own model's limits
    save_module(&tmp.0, &model(1), &BTreeMap::new()).unwrap();
    assert!(load_with(&tmp.0, &limits).is_ok());
    assert!(load_module(&tmp.0, &model(2)).is_ok());
}

#[test]
fn a_header_whose_data_would_exceed_the_file_is_refused_before_the_data_is_read() {
    let tmp = Tmp::new("claims");
    let header = br#"{"a":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,4000000000]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(&[0; 16]);
    std::fs::write(&tmp.0, &bytes).unwrap();
    let e = load(&tmp.0).unwrap_err();
    assert!(matches!(e, Error::Truncated { .. }), "{e:?}");
}

#[test]
fn duplicate_keys_in_the_header_are_refused() {
    let tmp = Tmp::new("dupkeys");
    for header in [
        // the same tensor twice
        &br#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#[..],
        // the same metadata key twice
        &br#"{"__metadata__":{"epoch":"1","epoch":"2"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#[..],
        // a field of a tensor twice
        &br#"{"a":{"dtype":"F32","shape":[1],"shape":[1],"data_offsets":[0,4]}}"#[..],
    ] {
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        bytes.extend_from_slice(&[0; 4]);
        std::fs::write(&tmp.0, &bytes).unwrap();
        let e = load(&tmp.0).unwrap_err();
        assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");
        assert!(e.to_string().contains("appears twice"), "{e}");
    }
    assert!(check_unique_keys(r#"[{"a":1},{"a":2}]"#).is_ok());
    assert!(check_unique_keys(r#"[{"a":{"b":1,"b":2}}]"#)
        .unwrap_err()
        .contains("`b` appears twice"));
}

#[test]
fn overlapping_offsets_and_wrong_dtype_are_refused() {
    let tmp = Tmp::new("offsets");
    let header = br#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(&[0; 12]);
    std::fs::write(&tmp.0, &bytes).unwrap();
    assert!(matches!(load(&tmp.0), Err(Error::Corrupt { .. })));
    let data = [0u8; 8];
    let view = safetensors::tensor::TensorView::new(Dtype::F64, vec![1], &data).unwrap();
    std::fs::write(&tmp.0, safetensors::serialize([("w", view)], None).unwrap()).unwrap();
    let e = load_with(&tmp.0, &module_limits()).unwrap_err();
    assert!(
        matches!(&e, Error::WrongDtype { name, .. } if name == "w"),
        "{e:?}"
    );
    assert!(load(&tmp.0).is_ok());
}

#[test]
fn non_finite_weights_and_negative_variances_are_named_and_model_untouched() {
    let tmp = Tmp::new("nan");
    let target = model(2);
    let before = state_dict(&target);
    for (name, value, says) in [
        ("0.weight", f32::NAN, "entry `0.weight` in "),
        ("0.bias", f32::INFINITY, "holds inf at index 1"),
        (
            "1.running_var",
            -1.0,
            "holds the negative variance -1 at index 1",
        ),
        ("1.running_mean", f32::NEG_INFINITY, "holds -inf at index 1"),
    ] {
        let mut sd: Vec<(String, Tensor)> = state_dict(&model(1))
            .into_iter()
            .map(|(n, t)| (n, Tensor::from_vec(t.to_vec(), t.dims())))
            .collect();
        let entry = &mut sd.iter_mut().find(|(n, _)| n == name).unwrap().1;
        let mut v = entry.to_vec();
        v[1] = value;
        *entry = Tensor::from_vec(v, entry.dims());
        save(&tmp.0, &sd, &BTreeMap::new()).unwrap();
        let e = load_module(&tmp.0, &target).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidValue { name: n, index: 1, .. } if n == name),
            "{e:?}"
        );
        assert!(e.to_string().contains(says), "{e}");
        assert!(e.to_string().contains("use an earlier checkpoint"), "{e}");
        assert_eq!(state_dict(&target).len(), before.len());
        for ((n, a), (_, b)) in before.iter().zip(state_dict(&target).iter()) {
            assert_eq!(a, b, "{n} changed");
        }
    }
}
