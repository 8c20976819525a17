//! `museroll`: the command-line program. It parses every command, runs those without a neural
//! network itself (the work lives in `museroll-app`), and hands `train`, `generate`, `model` and
//! `migrate` to `museroll-torch`, the program next to it that links libtorch. Loading libtorch
//! and its CUDA libraries takes most of a second, which `museroll info` should not pay.

use anyhow::{bail, Context, Result};
use std::process::ExitCode;

fn main() -> ExitCode {
    museroll_cli::main(|_| run_torch())
}

/// Runs the command line as it was given in `museroll-torch`, found next to this program (after
/// symbolic links are resolved, so a link to `museroll` on the PATH finds it too): on Unix by
/// replacing this process (its exit status and signals are then the command's own), elsewhere as
/// a child whose exit code becomes ours. Returns only if it could not be started.
fn run_torch() -> Result<()> {
    let exe = std::env::current_exe().context("locating the museroll program")?;
    let program = exe.with_file_name(format!("museroll-torch{}", std::env::consts::EXE_SUFFIX));
    let mut args = std::env::args_os();
    let argv0 = args.next();
    let mut command = std::process::Command::new(&program);
    command.args(args);
    let error = start(&mut command, argv0);
    bail!(
        "{}: {error}; train, generate, model and migrate run in this program, installed next to museroll \
         (cargo build --release builds both)",
        program.display()
    )
}

/// Replaces this process with `command`, keeping `argv0` as its program name (the usage lines of
/// its help are `museroll`'s); returns why it could not.
#[cfg(unix)]
fn start(command: &mut std::process::Command, argv0: Option<std::ffi::OsString>) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    if let Some(argv0) = argv0 {
        command.arg0(argv0);
    }
    command.exec()
}

/// Runs `command` to its end and exits with its exit code; returns why it could not start.
#[cfg(not(unix))]
fn start(
    command: &mut std::process::Command,
    _argv0: Option<std::ffi::OsString>,
) -> std::io::Error {
    match command.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(error) => error,
    }
}
