//! Unit tests of the shared command-line arguments: defaults, parsing and the bounds of each flag.

use super::*;
use clap::CommandFactory;

fn parse(args: &[&str]) -> Result<LabArgs, clap::Error> {
    LabArgs::try_parse_from(std::iter::once("mnist").chain(args.iter().copied()))
}

#[test]
fn the_command_is_well_formed() {
    LabArgs::command().debug_assert();
}

#[test]
fn defaults() {
    let a = parse(&[]).unwrap();
    assert_eq!(a.activation, "relu");
    assert_eq!(a.compare, None);
    assert_eq!(a.model.model, ModelKind::Mlp);
    assert_eq!(a.model.hidden, None);
    assert_eq!(a.train.optimizer, OptimizerKind::Adam);
    assert_eq!(a.train.learning_rate(ModelKind::Mlp), 1e-3);
    assert_eq!(a.train.learning_rate(ModelKind::Cnn), 2e-3);
    assert_eq!(a.train.lr_decay, LrDecay::Cosine);
    assert_eq!(
        (a.train.epochs, a.train.batch_size, a.train.seed),
        (3, 64, 0)
    );
    assert_eq!(a.data.dataset, DatasetChoice::Auto);
    assert!(!a.output.quiet && a.output.report.is_none());
    assert_eq!(a.activation_specs(), ["relu"]);
    assert_eq!(LabArgs::default(), a);
}

#[test]
fn every_flag_parses() {
    let a = parse(&[
        "--activation",
        "leaky_relu:0.1",
        "--model",
        "cnn",
        "--init",
        "kaiming",
        "--optimizer",
        "momentum",
        "--epochs",
        "2",
        "--batch-size",
        "32",
        "--seed",
        "7",
        "--dataset",
        "synthetic",
        "--data-dir",
        "d",
        "--download",
        "--limit-train",
        "500",
        "--threads",
        "2",
        "--save",
        "a.safetensors",
        "--resume",
        "b.safetensors",
        "--report",
        "out",
        "--metrics",
        "m.jsonl",
        "--quiet",
    ])
    .unwrap();
    assert_eq!(a.activation_specs(), ["leaky_relu:0.1"]);
    assert_eq!(a.model.model, ModelKind::Cnn);
    assert_eq!(a.train.init, InitKind::Kaiming);
    assert_eq!(a.train.learning_rate(ModelKind::Cnn), 0.01);
    assert_eq!(
        (a.train.epochs, a.train.batch_size, a.train.seed),
        (2, 32, 7)
    );
    assert_eq!(a.data.dataset, DatasetChoice::Synthetic);
    assert_eq!(a.data.limit_train, Some(500));
    assert!(a.data.download && a.output.quiet);
    assert_eq!(a.train.threads, Some(2));
    assert_eq!(a.save, Some(PathBuf::from("a.safetensors")));
    assert_eq!(a.resume, Some(PathBuf::from("b.safetensors")));
    assert_eq!(a.output.metrics, Some(PathBuf::from("m.jsonl")));

    let a = parse(&[
        "--hidden",
        "256,128,64",
        "--lr",
        "0.5",
        "--optimizer",
        "sgd",
    ])
    .unwrap();
    assert_eq!(a.model.hidden, Some(vec![256, 128, 64]));
    assert_eq!(a.train.learning_rate(ModelKind::Cnn), 0.5);
    let a = parse(&[
        "--hidden", "32", "--epochs", "1", "--hidden", "16", "--epochs", "2",
    ]);
    let a = a.unwrap();
    assert_eq!(a.model.hidden, Some(vec![16]), "the last one wins");
    assert_eq!(a.train.epochs, 2);
    for (flag, decay, text) in [
        ("0.5", LrDecay::PerEpoch(0.5), "0.5"),
        ("1", LrDecay::PerEpoch(1.0), "constant"),
        ("constant", LrDecay::PerEpoch(1.0), "constant"),
        ("cosine", LrDecay::Cosine, "cosine"),
    ] {
        let a = parse(&["--lr-decay", flag]).unwrap();
        assert_eq!(a.train.lr_decay, decay);
        assert_eq!(decay.to_string(), text);
        assert_eq!(LrDecay::parse(text), Ok(decay));
    }
    let a = parse(&["--depth", "10", "--width", "32"]).unwrap();
    assert_eq!((a.model.depth, a.model.width), (Some(10), Some(32)));
}

#[test]
fn bad_values_are_errors_with_exit_status_2() {
    for args in [
        &["--epochs", "0"][..],
        &["--lr", "-1"],
        &["--lr", "nan"],
        &["--lr-decay", "0"],
        &["--lr-decay", "1.5"],
        &["--lr-decay", "cos"],
        &["--batch-size", "x"],
        &["--hidden", "128,0"],
        &["--threads", "0"],
        &["--threads", "257"],
        &["--epochs", "10001"],
        &["--epochs", "18446744073709551616"],
        &["--seed", "-1"],
        &["--hidden", "-4"],
        &["--depth", "0"],
        &["--model", "rnn"],
        &["--optimizer", "lbfgs"],
        &["--hidden", "64", "--depth", "3"],
        &["--width", "64"],
        &["--activation", "relu", "--compare", "relu,mish"],
        &["--no-such-flag"],
    ] {
        let e = parse(args).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{args:?}");
    }
    let msg = parse(&["--lr", "abc"]).unwrap_err().to_string();
    assert!(msg.contains("expected a positive number"), "{msg}");
}

#[test]
fn compare_lists_split_into_specs() {
    assert_eq!(
        split_specs("relu,sigmoid,mish"),
        ["relu", "sigmoid", "mish"]
    );
    assert_eq!(
        split_specs(" relu , rrelu:0.1,0.3 ,mish,"),
        ["relu", "rrelu:0.1,0.3", "mish"]
    );
    assert_eq!(
        split_specs("elu:alpha=0.5,learnable,gelu:tanh,relu"),
        ["elu:alpha=0.5,learnable", "gelu:tanh", "relu"]
    );
    assert_eq!(
        split_specs("relu,x * tanh(softplus(x)),max(x, 0)"),
        ["relu", "x * tanh(softplus(x))", "max(x, 0)"]
    );
    assert_eq!(split_specs("a,b;c"), ["a,b", "c"]);
    // An unknown name stays a spec of its own, so the lab reports it as unknown.
    assert_eq!(split_specs("relu,nosuch"), ["relu", "nosuch"]);
    assert_eq!(split_specs(""), Vec::<String>::new());
}

#[test]
fn a_formula_keeps_its_parameters_in_a_compare_list() {
    // a `;` followed by name=value is the formula's, in a list split at commas
    assert_eq!(
        split_specs("relu,x*sigmoid(b*x);b=1"),
        ["relu", "x*sigmoid(b*x);b=1"]
    );
    assert_eq!(
        split_specs("relu,x*sigmoid(b*x);b=1,mish"),
        ["relu", "x*sigmoid(b*x);b=1", "mish"]
    );
    assert_eq!(
        split_specs("x*b*c ; b=1, c = 2,elu:alpha=0.5,learnable"),
        ["x*b*c ; b=1,c = 2", "elu:alpha=0.5,learnable"]
    );
    assert_eq!(
        split_specs("x * sigmoid(b * x) ; b=1.0"),
        ["x * sigmoid(b * x) ; b=1.0"]
    );
    // in a list split at `;`, a piece of assignments only joins the formula before it
    assert_eq!(
        split_specs("relu;x * sigmoid(b * x) ; b=1.0;mish"),
        ["relu", "x * sigmoid(b * x); b=1.0", "mish"]
    );
    assert_eq!(
        split_specs("rrelu:0.1,0.3;x*b*c; b=1, c=2;max(x, 0)"),
        ["rrelu:0.1,0.3", "x*b*c; b=1, c=2", "max(x, 0)"]
    );
    assert_eq!(
        split_specs("relu;x*b*c;b=1;c=2"),
        ["relu", "x*b*c; b=1; c=2"]
    );
    // every spec so split parses, and the formulas that declare parameters have them
    for list in [
        "relu,x*sigmoid(b*x);b=1,mish",
        "relu;x * sigmoid(b * x) ; b=1.0;mish",
        "x*b*c ; b=1, c = 2,elu:alpha=0.5,learnable",
        "rrelu:0.1,0.3;x*b*c; b=1, c=2;max(x, 0)",
    ] {
        for spec in split_specs(list) {
            let act = nn::activation::ActivationSpec::parse(&spec)
                .unwrap_or_else(|e| panic!("{list}: {spec}: {e}"));
            if let Some(f) = act.formula() {
                assert_eq!(!f.params().is_empty(), spec.contains('='), "{list}: {spec}");
            }
        }
    }
}

#[test]
fn defaults_can_be_replaced() {
    let a: LabArgs = try_parse_with_defaults(
        ["x"],
        &[("epochs", "1"), ("optimizer", "sgd"), ("lr", "0.5")],
    )
    .unwrap();
    assert_eq!(a.train.epochs, 1);
    assert_eq!(a.train.optimizer, OptimizerKind::Sgd);
    assert_eq!(a.train.lr, Some(0.5));
    let a: LabArgs = try_parse_with_defaults(["x", "--epochs", "4"], &[("epochs", "1")]).unwrap();
    assert_eq!(a.train.epochs, 4);
    let help = LabArgs::command()
        .mut_arg("epochs", |a| a.default_value("1"))
        .render_help()
        .to_string();
    assert!(help.contains("[default: 1]"), "{help}");
}

#[test]
fn help_lists_activation_names_and_lr_defaults() {
    let help = LabArgs::command().render_long_help().to_string();
    assert!(help.contains("leaky_relu"), "{help}");
    assert!(help.contains("mish"), "{help}");
    assert!(
        help.contains("1e-3 for adam and adamw (2e-3 with --model cnn)"),
        "{help}"
    );
    assert!(help.contains("0.01 for sgd and momentum"), "{help}");
    assert_eq!(OptimizerKind::Adamw.to_string(), "adamw");
    assert_eq!(DatasetChoice::Synthetic.to_string(), "synthetic");
    assert_eq!(InitKind::Kaiming.to_string(), "kaiming");
    assert_eq!(ModelKind::Cnn.to_string(), "cnn");
}

#[test]
fn seeds_are_a_count_or_a_list() {
    assert_eq!(Seeds::parse("3").unwrap().0, vec![0, 1, 2]);
    assert_eq!(Seeds::parse("1").unwrap().0, vec![0]);
    assert_eq!(Seeds::parse("4,7, 9").unwrap().0, vec![4, 7, 9]);
    assert_eq!(Seeds::parse("7,").unwrap().0, vec![7]);
    assert_eq!(Seeds::parse("4,7").unwrap().to_string(), "4,7");
    for bad in [
        "0",
        "",
        "x",
        "101",
        "99999999999999999999999",
        "1,,2",
        ",1",
        "1,x",
        "-1,2",
    ] {
        let e = Seeds::parse(bad).unwrap_err();
        assert!(!e.is_empty(), "{bad:?}");
    }
    assert!(Seeds::parse("1,x").unwrap_err().contains("\"x\""));
    assert!(Seeds::parse("101").unwrap_err().contains("from 1 to 100"));
}
