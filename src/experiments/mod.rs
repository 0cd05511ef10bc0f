//! The example programs as a library: the `activations` tool and the phenomenon experiments,
//! each of which trains a set of activations on the same model, measures one phenomenon,
//! prints a table and a conclusion, and can write a report. The programs in `examples/` are
//! thin `main`s over these modules, so a crate of one's own (with activations it
//! [`register`](crate::lab::register)s at run time) runs the same programs: [`main`] is all of
//! them behind one binary (`my-lab dead_relu --activations relu,my_act`, and the `mnist` lab
//! when the first argument is a flag), or call one module's `main`, or parse its `Args` and
//! call its `run`.
//!
//! - [`activations`]: list, describe, tabulate and plot activations.
//! - [`dead_relu`]: dead ReLU units before and after training at a high learning rate.
//! - [`vanishing_gradients`]: per-layer gradient norms of a deep narrow MLP.
//! - [`convergence`]: training loss after N steps and test accuracy over seeds.
//! - [`regularisation`]: the train/test accuracy gap of relu, leaky_relu and rrelu.
//! - [`common`]: what they share (flags, data, tables, report).
//!
//! Every `--activations` item is an activation spec as the `mnist` example takes it: a
//! registry name with arguments (`leaky_relu:0.1`) or a formula in `x`.

pub mod activations;
pub mod common;
pub mod convergence;
pub mod dead_relu;
pub mod regularisation;
pub mod vanishing_gradients;

use std::ffi::OsString;
use std::process::ExitCode;

/// A program [`main`] runs by name.
#[derive(Clone, Copy, Debug)]
pub struct Program {
    /// Its name, the first argument (`dead_relu`), as the example's.
    pub name: &'static str,
    /// Runs it on a command line whose first item is the program's name.
    pub main_from: fn(Vec<OsString>) -> ExitCode,
    /// What it shows, in one line.
    pub about: &'static str,
}

/// The programs [`main`] runs by name, each with its `main_from` and a line saying what it
/// shows; `mnist` (the lab, [`crate::lab::main_from`]) is the one without a name.
pub const PROGRAMS: &[Program] = &[
    Program {
        name: "activations",
        main_from: activations::main_from::<Vec<OsString>, OsString>,
        about: "list, describe, tabulate (--csv) and plot activations",
    },
    Program {
        name: "dead_relu",
        main_from: dead_relu::main_from::<Vec<OsString>, OsString>,
        about: "dead units before and after training at a high learning rate",
    },
    Program {
        name: "vanishing_gradients",
        main_from: vanishing_gradients::main_from::<Vec<OsString>, OsString>,
        about: "per-layer gradient norms of a deep narrow MLP",
    },
    Program {
        name: "convergence",
        main_from: convergence::main_from::<Vec<OsString>, OsString>,
        about: "training loss after N steps, over seeds",
    },
    Program {
        name: "regularisation",
        main_from: regularisation::main_from::<Vec<OsString>, OsString>,
        about: "the train/test gap of relu, leaky_relu at RReLU's mean slope and rrelu",
    },
];

/// Every example program from one binary: `std::env::args` as [`main_from`] takes them.
pub fn main() -> ExitCode {
    main_from(std::env::args_os())
}

/// The program named by the first argument after the binary's name (`dead_relu --seeds 3`,
/// `activations --describe my_act`; [`PROGRAMS`]) with the arguments after it; `mnist`, or
/// no name (a flag such as `--compare relu,my_act`, or nothing), is the lab
/// ([`crate::lab::main_from`]). Returns the program's exit status: 2 and one line on stderr
/// for bad input. `help` lists the programs.
pub fn main_from<I, S>(args: I) -> ExitCode
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let name = args.get(1).and_then(|a| a.to_str()).unwrap_or("");
    if name == "help" {
        let mut text =
            String::from("programs (the first argument; with none, or a flag, the mnist lab):\n");
        text.push_str(
            "  mnist                 train and compare activations on MNIST (the default)\n",
        );
        for p in PROGRAMS {
            text.push_str(&format!("  {:<21} {}\n", p.name, p.about));
        }
        text.push_str("each takes --help\n");
        let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
        return ExitCode::SUCCESS;
    }
    if let Some(p) = PROGRAMS.iter().find(|p| p.name == name) {
        return (p.main_from)(args[1..].to_vec());
    }
    if name == "mnist" {
        return crate::lab::main_from(args[1..].to_vec());
    }
    crate::lab::main_from(args)
}
