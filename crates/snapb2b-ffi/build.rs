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

    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=SNAPB2B_WRITE_HEADER");

    // The ABI major version is the soname's: `libsnapb2b.so.0`.
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsnapb2b.so.0");
        // Never unloaded once loaded: PHP's FFI dlcloses the library at the
        // end of every request, which threw away the client registry, the
        // parsed keys and the connections and cost a reload (0.5 ms) per
        // request; unloading code that OpenSSL's and libcurl's exit handlers
        // and threads may still point into is unsafe anyway.
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
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

    // PHP's FFI::cdef takes declarations only: no preprocessor lines, no
    // comments. Same source, so the two headers cannot disagree.
    let mut php_config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    php_config.header = None;
    php_config.include_guard = None;
    php_config.cpp_compat = false;
    php_config.documentation = false;
    php_config.sys_includes = Vec::new();
    // FFI::cdef cannot read `#define`s; the bindings keep such constants
    // themselves and a test compares them with the C header.
    php_config
        .export
        .item_types
        .retain(|t| *t != cbindgen::ItemType::Constants);
    php_config.after_includes = None;
    php_config.autogen_warning = None;
    let php = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(php_config)
        .generate()
        .expect("cbindgen generated the C header, so it generates the PHP one");
    php.write_to_file(out_dir.join("snapb2b_php.h"));

    if env::var("SNAPB2B_WRITE_HEADER").as_deref() == Ok("1") {
        generated.write_to_file(crate_dir.join("include/snapb2b.h"));
        php.write_to_file(crate_dir.join("../../bindings/php/snapb2b_ffi.h"));
    }
}
