//! What several test files share: the data of the project's Python venv.

use std::path::{Path, PathBuf};

/// The match of `pattern` (see [`museroll_core::venv::find`]) in this workspace's `.venv`.
/// Missing data fails the test with how to install it: a test that skipped would pass without
/// checking anything.
pub fn venv_data(pattern: &str) -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the core crate lies two levels below the workspace");
    museroll_core::venv::require(workspace, pattern).unwrap_or_else(|e| panic!("{e}"))
}
