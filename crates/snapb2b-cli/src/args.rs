//! A small hand-written argument parser: `--name value`, `--name=value`,
//! boolean `--flag`s, positionals, `--` to end options, and `-h`/`--help`.
//!
//! Messages name options, never their values, unless a value is short and
//! plain: an argument may be a secret pasted in the wrong place.
//!
//! Arguments are `OsString`s: file paths (the values of [`PATH_OPTIONS`] and
//! positionals) are kept exactly as the OS gave them, UTF-8 or not, and so
//! are the values of [`AT_FILE_OPTIONS`] (`@FILE` names a path); every other
//! value must be UTF-8 text.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use snapb2b::redact;

use crate::cli::CliError;

/// Options whose value is a file path, or `-` for stdin, in every command
/// that takes them (completions offer file names for these).
pub const PATH_OPTIONS: &[&str] = &[
    "--key",
    "--config",
    "--public-key",
    "--body-file",
    "--secret-file",
    "--access-token-file",
    "--passphrase-file",
    "--auth-code-file",
    "--refresh-token-file",
    "--customer-token-file",
    "--out",
];

/// Options whose value is text or, as curl writes it, `@FILE` (`@-`: stdin).
pub const AT_FILE_OPTIONS: &[&str] = &["--data"];

/// Options that may be given more than once (each value kept, in order).
pub const REPEATABLE_OPTIONS: &[&str] = &["-H"];

/// What one subcommand accepts.
pub struct Spec {
    /// Options taking a value.
    pub values: &'static [&'static str],
    /// Boolean options.
    pub flags: &'static [&'static str],
    /// Maximum number of positional arguments.
    pub max_positional: usize,
}

#[derive(Debug, Default)]
pub struct Parsed {
    values: Vec<(&'static str, OsString)>,
    flags: Vec<&'static str>,
    positional: Vec<OsString>,
}

pub enum Parse {
    Help,
    Args(Parsed),
}

/// Where an input comes from: `-` is stdin, anything else a file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Input<'a> {
    Stdin,
    File(&'a Path),
}

impl<'a> Input<'a> {
    pub fn from_arg(arg: &'a OsStr) -> Input<'a> {
        if arg == "-" {
            Input::Stdin
        } else {
            Input::File(Path::new(arg))
        }
    }
}

pub fn parse(spec: &Spec, args: &[OsString]) -> Result<Parse, CliError> {
    let mut out = Parsed::default();
    let mut i = 0;
    let mut options_done = false;
    while i < args.len() {
        let arg = &args[i];
        let bytes = arg.as_bytes();
        i += 1;
        if options_done || bytes == b"-" || !bytes.starts_with(b"-") {
            if out.positional.len() >= spec.max_positional {
                // Not echoed: a stray argument may be a misplaced secret.
                return Err(CliError::usage(match spec.max_positional {
                    0 => "this command takes no positional arguments (value not shown)".to_string(),
                    n => format!("too many arguments: at most {n} (extra value not shown)"),
                }));
            }
            out.positional.push(arg.clone());
            continue;
        }
        if bytes == b"--" {
            options_done = true;
            continue;
        }
        if bytes == b"-h" || bytes == b"--help" {
            return Ok(Parse::Help);
        }
        // Split at the first `=` (ASCII, so both halves stay valid OS strings).
        let (name, inline) = match bytes.iter().position(|&b| b == b'=') {
            Some(at) => (&bytes[..at], Some(OsStr::from_bytes(&bytes[at + 1..]))),
            None => (bytes, None),
        };
        let Ok(name) = std::str::from_utf8(name) else {
            return Err(CliError::usage("unknown option (not UTF-8; not shown)"));
        };
        if let Some(&known) = spec.values.iter().find(|v| **v == name) {
            let value = match inline {
                Some(v) => v.to_os_string(),
                None => {
                    let Some(v) = args.get(i) else {
                        return Err(CliError::usage(format!("{known} needs a value")));
                    };
                    i += 1;
                    v.clone()
                }
            };
            if out.values.iter().any(|(n, _)| *n == known) && !REPEATABLE_OPTIONS.contains(&known) {
                return Err(CliError::usage(format!("{known} is given more than once")));
            }
            let raw_ok = PATH_OPTIONS.contains(&known) || AT_FILE_OPTIONS.contains(&known);
            if !raw_ok && value.to_str().is_none() {
                return Err(CliError::usage(format!(
                    "{known} needs UTF-8 text (value not shown)"
                )));
            }
            out.values.push((known, value));
        } else if let Some(&known) = spec.flags.iter().find(|f| **f == name) {
            if inline.is_some() {
                return Err(CliError::usage(format!("{known} takes no value")));
            }
            if !out.flags.contains(&known) {
                out.flags.push(known);
            }
        } else {
            return Err(CliError::usage(format!(
                "unknown option {}",
                redact::value(name)
            )));
        }
    }
    Ok(Parse::Args(out))
}

impl Parsed {
    fn raw(&self, name: &str) -> Option<&OsStr> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_os_str())
    }

    /// The text of a value option (UTF-8, checked by `parse`). Path options
    /// are read with [`Parsed::input`], `@FILE` ones with [`Parsed::os_value`].
    pub fn value(&self, name: &str) -> Option<&str> {
        debug_assert!(!PATH_OPTIONS.contains(&name), "{name} is a path option");
        debug_assert!(!AT_FILE_OPTIONS.contains(&name), "{name} may be @FILE");
        self.raw(name).and_then(OsStr::to_str)
    }

    /// The value of one of [`AT_FILE_OPTIONS`], as the OS gave it.
    pub fn os_value(&self, name: &str) -> Option<&OsStr> {
        debug_assert!(
            AT_FILE_OPTIONS.contains(&name),
            "{name} is not an @FILE option"
        );
        self.raw(name)
    }

    /// Every value of a repeatable option, in the order given.
    pub fn values(&self, name: &str) -> Vec<&str> {
        debug_assert!(
            REPEATABLE_OPTIONS.contains(&name),
            "{name} is not repeatable"
        );
        self.values
            .iter()
            .filter(|(n, _)| *n == name)
            .filter_map(|(_, v)| v.to_str())
            .collect()
    }

    pub fn required(&self, name: &str) -> Result<&str, CliError> {
        self.value(name)
            .ok_or_else(|| CliError::usage(format!("{name} is required")))
    }

    /// A path option's value (one of [`PATH_OPTIONS`]).
    pub fn input(&self, name: &str) -> Option<Input<'_>> {
        debug_assert!(PATH_OPTIONS.contains(&name), "{name} is not a path option");
        self.raw(name).map(Input::from_arg)
    }

    pub fn required_input(&self, name: &str) -> Result<Input<'_>, CliError> {
        self.input(name)
            .ok_or_else(|| CliError::usage(format!("{name} is required")))
    }

    pub fn flag(&self, name: &str) -> bool {
        self.flags.contains(&name)
    }

    pub fn positional(&self) -> &[OsString] {
        &self.positional
    }

    /// Names of the given options among `names`.
    pub fn given<'a>(&self, names: &[&'a str]) -> Vec<&'a str> {
        names
            .iter()
            .copied()
            .filter(|n| self.raw(n).is_some() || self.flag(n))
            .collect()
    }

    /// At most one of `names` (usage error naming them otherwise).
    pub fn at_most_one<'a>(&self, names: &[&'a str]) -> Result<Option<&'a str>, CliError> {
        let given = self.given(names);
        if given.len() > 1 {
            return Err(CliError::usage(format!(
                "{} cannot be combined",
                given.join(" and ")
            )));
        }
        Ok(given.first().copied())
    }

    /// Exactly one of `names`.
    pub fn exactly_one<'a>(&self, names: &[&'a str]) -> Result<&'a str, CliError> {
        self.at_most_one(names)?
            .ok_or_else(|| CliError::usage(format!("one of {} is required", names.join(", "))))
    }

    /// A non-negative integer option.
    pub fn number(&self, name: &str) -> Result<Option<u64>, CliError> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => v.parse::<u64>().map(Some).map_err(|_| {
                CliError::usage(format!(
                    "{name} needs a non-negative integer, got {}",
                    redact::value(v)
                ))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Spec = Spec {
        values: &["--key", "--client-id"],
        flags: &["--headers"],
        max_positional: 1,
    };

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn ok(list: &[&str]) -> Parsed {
        match parse(&SPEC, &args(list)) {
            Ok(Parse::Args(p)) => p,
            Ok(Parse::Help) => panic!("help"),
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn both_value_forms_flags_and_positionals() {
        let p = ok(&["--key", "-", "--client-id=A=B", "--headers", "file"]);
        assert_eq!(p.input("--key"), Some(Input::Stdin));
        assert_eq!(p.value("--client-id"), Some("A=B"));
        assert!(p.flag("--headers"));
        assert_eq!(p.positional(), ["file"]);
        let p = ok(&["--", "--key"]);
        assert_eq!(p.positional(), ["--key"]);
        assert!(matches!(
            parse(&SPEC, &args(&["--key", "x", "-h"])),
            Ok(Parse::Help)
        ));
    }

    #[test]
    fn paths_need_not_be_utf8_but_other_values_must() {
        let raw = |b: &[u8]| OsStr::from_bytes(b).to_os_string();
        for list in [
            vec![raw(b"--key"), raw(b"\xffkey.pem"), raw(b"\xfe")],
            vec![raw(b"--key=\xffkey.pem"), raw(b"\xfe")],
        ] {
            let Ok(Parse::Args(p)) = parse(&SPEC, &list) else {
                panic!("refused")
            };
            assert_eq!(
                p.input("--key"),
                Some(Input::File(Path::new(OsStr::from_bytes(b"\xffkey.pem"))))
            );
            assert_eq!(p.positional(), [raw(b"\xfe")]);
        }
        for list in [
            vec![raw(b"--client-id"), raw(b"\xffsecret")],
            vec![raw(b"--client-id=\xffsecret")],
            vec![raw(b"--\xffsecret")],
        ] {
            let Err(e) = parse(&SPEC, &list) else {
                panic!("accepted")
            };
            let text = format!("{e:?}");
            assert!(
                text.contains("not shown") && !text.contains("secret"),
                "{text}"
            );
        }
    }

    #[test]
    fn repeatable_options_keep_every_value_and_at_file_values_may_be_any_bytes() {
        const CALL: Spec = Spec {
            values: &["-H", "--data"],
            flags: &[],
            max_positional: 0,
        };
        let list = [
            OsString::from("-H"),
            "A: 1".into(),
            "-H".into(),
            "B: 2=3".into(),
            OsStr::from_bytes(b"--data=@\xff.json").to_os_string(),
        ];
        let Ok(Parse::Args(p)) = parse(&CALL, &list) else {
            panic!("refused")
        };
        assert_eq!(p.values("-H"), ["A: 1", "B: 2=3"]);
        assert_eq!(p.os_value("--data"), Some(OsStr::from_bytes(b"@\xff.json")));
    }

    #[test]
    fn mistakes() {
        for bad in [
            &["--key"][..],
            &["--bogus"],
            &["--headers=1"],
            &["a", "b"],
            &["--key", "a", "--key", "b"],
        ] {
            assert!(parse(&SPEC, &args(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn secrets_are_not_echoed() {
        for list in [
            &["a", "myclientsecret"][..],
            &["-----BEGIN PRIVATE KEY-----MIIEv"],
        ] {
            let Err(e) = parse(&SPEC, &args(list)) else {
                panic!("accepted")
            };
            let text = format!("{e:?}");
            assert!(
                !text.contains("MIIEv") && !text.contains("myclient"),
                "{text}"
            );
        }
        // Unknown options go through the library's one redaction rule.
        let unknown = |a: &str| format!("{:?}", parse(&SPEC, &args(&[a])).err().unwrap());
        assert!(unknown("--kye").contains("`--kye`"));
        assert!(unknown("--a b").contains("(value not shown)"));
    }
}
