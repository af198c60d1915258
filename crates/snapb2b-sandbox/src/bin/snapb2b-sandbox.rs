//! `snapb2b-sandbox`: local HTTPS sandbox of the SNAP B2B token endpoints.
//! All the work is in `snapb2b_sandbox` so other binaries can embed the command.

fn main() {
    // Lossy, not `env::args()`, which panics on a non-UTF-8 argument.
    let args = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned());
    std::process::exit(snapb2b_sandbox::cli_main(args));
}
