//! Every registered activation: list them, describe one, print values and derivatives as CSV,
//! or draw them. The tool is `minidl::experiments::activations` (its docs say what each flag
//! does), so a binary that registers its own activations can call it too.
//!
//! ```text
//! cargo run --release --example activations -- --list
//! cargo run --release --example activations -- --describe mish
//! cargo run --release --example activations -- --csv                       # grid −6 … 6, step 0.25
//! cargo run --release --example activations -- --csv --x -20,-1,0,1,20     # explicit points
//! cargo run --release --example activations -- --plot activations-plots    # one SVG each + index.html
//! ```

use std::process::ExitCode;

fn main() -> ExitCode {
    minidl::experiments::activations::main()
}
