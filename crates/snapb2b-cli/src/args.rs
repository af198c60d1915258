//! A small hand-written argument parser: `--name value`, `--name=value`,
//! boolean `--flag`s, positionals, `--` to end options, and `-h`/`--help`.
//!
//! Messages name options, never their values, unless a value is short and
//! plain: an argument may be a secret pasted in the wrong place.

use snapb2b::redact;

use crate::cli::CliError;

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
    values: Vec<(&'static str, String)>,
    flags: Vec<&'static str>,
    positional: Vec<String>,
}

pub enum Parse {
    Help,
    Args(Parsed),
}

pub fn parse(spec: &Spec, args: &[String]) -> Result<Parse, CliError> {
    let mut out = Parsed::default();
    let mut i = 0;
    let mut options_done = false;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if options_done || arg == "-" || !arg.starts_with('-') {
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
        if arg == "--" {
            options_done = true;
            continue;
        }
        if arg == "-h" || arg == "--help" {
            return Ok(Parse::Help);
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (arg.as_str(), None),
        };
        if let Some(&known) = spec.values.iter().find(|v| **v == name) {
            let value = match inline {
                Some(v) => v.to_string(),
                None => {
                    let Some(v) = args.get(i) else {
                        return Err(CliError::usage(format!("{known} needs a value")));
                    };
                    i += 1;
                    v.clone()
                }
            };
            if out.values.iter().any(|(n, _)| *n == known) {
                return Err(CliError::usage(format!("{known} is given more than once")));
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
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn required(&self, name: &str) -> Result<&str, CliError> {
        self.value(name)
            .ok_or_else(|| CliError::usage(format!("{name} is required")))
    }

    pub fn flag(&self, name: &str) -> bool {
        self.flags.contains(&name)
    }

    pub fn positional(&self) -> &[String] {
        &self.positional
    }

    /// Names of the given options among `names`.
    pub fn given<'a>(&self, names: &[&'a str]) -> Vec<&'a str> {
        names
            .iter()
            .copied()
            .filter(|n| self.value(n).is_some() || self.flag(n))
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

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
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
        assert_eq!(p.value("--key"), Some("-"));
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
