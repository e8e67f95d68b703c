//! The `kyvm` binary.

use clap::Parser;

fn main() {
    let cli = kyvm::cli::Cli::parse();
    let code = kyvm::commands::run(cli);
    std::process::exit(code);
}
