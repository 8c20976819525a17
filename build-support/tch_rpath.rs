//! Build script shared by every crate that links libtorch (models, cli).
//!
//! It links libtorch into the targets that need it and records libtorch's directory as their
//! RUNPATH, so `cargo test` and `museroll-torch` run from any shell without `LD_LIBRARY_PATH`.
//! `DEP_TCH_LIBTORCH_LIB` only reaches crates that depend on `torch-sys` directly, hence that
//! dependency in each such crate.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    // In the cli crate only the program of the neural commands and the integration tests link
    // libtorch: `museroll` itself must start without loading it (and its CUDA libraries). A
    // target-specific instruction naming a binary the package lacks is an error, hence the match.
    let instructions: &[&str] = match std::env::var("CARGO_PKG_NAME").as_deref() {
        Ok("museroll-cli") => &[
            "rustc-link-arg-bin=museroll-torch=",
            "rustc-link-arg-tests=",
        ],
        _ => &["rustc-link-arg="],
    };
    let lib = std::env::var_os("DEP_TCH_LIBTORCH_LIB");
    if lib.is_none() {
        println!("cargo:warning=DEP_TCH_LIBTORCH_LIB unset: add torch-sys as a direct dependency");
    }
    for instruction in instructions {
        if let Some(lib) = &lib {
            println!("cargo:{instruction}-Wl,-rpath,{}", lib.to_string_lossy());
        }
        // Without --no-as-needed the linker drops libtorch_cuda and CUDA is never found.
        println!("cargo:{instruction}-Wl,--no-as-needed");
        println!("cargo:{instruction}-ltorch");
    }
}
