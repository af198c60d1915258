//! The committed headers must be exactly what cbindgen generates from the
//! code, so bindings and C users never see a stale ABI. Refresh them with
//! `make header`.

fn assert_same(generated: &str, committed: &str) {
    let fresh = std::fs::read_to_string(format!("{}/{generated}", env!("OUT_DIR")))
        .expect("build.rs writes the generated headers to OUT_DIR");
    let path = format!("{}/{committed}", env!("CARGO_MANIFEST_DIR"));
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        fresh == kept,
        "{committed} differs from the generated header: run `make header` and commit it"
    );
}

#[test]
fn committed_c_header_matches_a_fresh_generation() {
    assert_same("snapb2b.h", "include/snapb2b.h");
}

#[test]
fn committed_php_ffi_header_matches_a_fresh_generation() {
    assert_same("snapb2b_php.h", "../../bindings/php/snapb2b_ffi.h");
}
