//! Generates the C header with cbindgen and gives the shared library its
//! soname.
//!
//! The header is written to `$OUT_DIR/snapb2b.h` on every build; the copy in
//! `include/` is committed and a test fails when the two differ. Run
//! `make header` (SNAPB2B_WRITE_HEADER=1) to refresh the committed copy.

use std::env;
use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("out dir"));

    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=SNAPB2B_WRITE_HEADER");

    // The ABI major version is the soname's: `libsnapb2b.so.0`.
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsnapb2b.so.0");
    }

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    let generated = match cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
    {
        Ok(bindings) => bindings,
        Err(e) => {
            // A broken header must fail loudly, but only once the compiler
            // has had a chance to report the underlying Rust error.
            println!("cargo:warning=cbindgen failed: {e}");
            return;
        }
    };
    let out_header = out_dir.join("snapb2b.h");
    generated.write_to_file(&out_header);
    if env::var("SNAPB2B_WRITE_HEADER").as_deref() == Ok("1") {
        generated.write_to_file(crate_dir.join("include/snapb2b.h"));
    }
}
