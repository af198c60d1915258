//! The committed C header must be exactly what cbindgen generates from the
//! code, so bindings and C users never see a stale ABI.

#[test]
fn committed_header_matches_a_fresh_generation() {
    let generated = std::fs::read_to_string(concat!(env!("OUT_DIR"), "/snapb2b.h"))
        .expect("build.rs writes OUT_DIR/snapb2b.h");
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/snapb2b.h"))
            .expect("include/snapb2b.h is committed");
    assert!(
        generated == committed,
        "include/snapb2b.h differs from the generated header: run `make header` and commit it"
    );
}
