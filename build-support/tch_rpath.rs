//! Build script shared by every crate that links libtorch (models, cli).
//!
//! It records libtorch's directory as the binary's RUNPATH so `cargo test` and the `museroll`
//! binary run from any shell without `LD_LIBRARY_PATH`. `DEP_TCH_LIBTORCH_LIB` only reaches crates
//! that depend on `torch-sys` directly, hence that dependency in each such crate.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    match std::env::var_os("DEP_TCH_LIBTORCH_LIB") {
        Some(lib) => println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.to_string_lossy()),
        None => println!(
            "cargo:warning=DEP_TCH_LIBTORCH_LIB unset: add torch-sys as a direct dependency"
        ),
    }
    // Without --no-as-needed the linker drops libtorch_cuda and CUDA is never found.
    println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
    println!("cargo:rustc-link-arg=-ltorch");
}
