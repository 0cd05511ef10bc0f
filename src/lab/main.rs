//! [`main`]: the `mnist` example's command line as a library call, so that a binary of your own
//! (one that [`register`](super::register)s its own activations first) is the whole lab.

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use super::run;
use crate::cli::{print_clap_error, stdout_is_usable, LabArgs};

/// The lab from your own binary: the `mnist` example's command line exactly. Parses
/// `std::env::args` as [`LabArgs`] (a bad flag: one line, exit status 2; `--help` lists every
/// activation, the registered ones included), runs [`run`](super::run) printing to standard
/// output, and returns its exit status: 0, or 2 with `error: …` on stderr for bad input
/// ([`LabError::exit`](super::LabError::exit)).
///
/// ```no_run
/// use std::process::ExitCode;
///
/// fn main() -> ExitCode {
///     // minidl::lab::register(MY_ENTRY).expect("a free name");
///     minidl::lab::main()
/// }
/// ```
pub fn main() -> ExitCode {
    main_from(std::env::args_os())
}

/// [`main`] with the command line given (its first item is the program's name) instead of
/// `std::env::args`. A bad command line prints one line on stderr and returns status 2;
/// `--help` prints the help on stdout and returns 0. Unlike [`main`], it never ends the
/// process itself.
pub fn main_from<I, S>(args: I) -> ExitCode
where
    I: IntoIterator<Item = S>,
    S: Into<OsString> + Clone,
{
    main_with(args, |args: &LabArgs, out| run(args, out).map(drop))
}

/// A program's `main` around its `run`, for any command line `A`: parses `args` (the first item
/// is the program's name) as `A`, runs `run` printing to standard output, and returns the exit
/// status: 0; or 2 after one line on stderr, for a command line clap refuses or a
/// [`LabError`](super::LabError) (`error: …`, [`LabError::exit`](super::LabError::exit));
/// `--help` prints the help on stdout and returns 0. It never ends the process itself. The
/// `experiments` programs' `main_from`s are this with their own `Args` and `run`.
pub fn main_with<A, I, S>(
    args: I,
    run: impl FnOnce(&A, &mut dyn Write) -> Result<(), super::LabError>,
) -> ExitCode
where
    A: Parser,
    I: IntoIterator<Item = S>,
    S: Into<OsString> + Clone,
{
    // as `cli::parse_args`: clap's errors and a closed standard output, without exiting
    let args = match A::try_parse_from(args) {
        Ok(args) => args,
        Err(e) => return ExitCode::from(u8::try_from(print_clap_error(&e)).unwrap_or(2)),
    };
    if !stdout_is_usable() {
        return ExitCode::from(2);
    }
    match run(&args, &mut io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.exit(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_returns_status_2_without_ending_the_process() {
        // an activation the registry does not know: LabError, before any data loads
        let unknown = [
            "mnist",
            "--activation",
            "no_such_act",
            "--dataset",
            "synthetic",
        ];
        assert_eq!(main_from(unknown), ExitCode::from(2));
        // a flag clap refuses
        assert_eq!(main_from(["mnist", "--epochs", "0"]), ExitCode::from(2));
        assert_eq!(main_from(["mnist", "--no-such-flag"]), ExitCode::from(2));
    }
}
