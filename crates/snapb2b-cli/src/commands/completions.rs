//! `snapb2b completions SHELL`: a completion script generated from the
//! tables the parser uses (`COMMANDS` and each command's `Spec`), so the
//! two cannot drift.

use super::{call, headers, Command, COMMANDS};
use crate::args::{Parsed, Spec, PATH_OPTIONS};
use crate::cli::{print_line, CliError, CliResult, Stdin};
use crate::help::{HELP_WORD, SANDBOX, SANDBOX_SUMMARY, TOP_OPTIONS, VERSION_WORD};

pub const SHELLS: &[&str] = &["bash", "zsh", "fish"];

pub const COMMAND: Command = Command {
    name: "completions",
    summary: "print a bash, zsh or fish completion script",
    usage: "\
usage: snapb2b completions bash|zsh|fish

Prints a completion script for the shell: commands, each command's options,
and file names where a file is expected. To use it now:

  bash   source <(snapb2b completions bash)
  zsh    source <(snapb2b completions zsh)
  fish   snapb2b completions fish | source

`make install` installs all three where the shells look for them.

options:
  -h, --help   this text
",
    spec: Spec {
        values: &[],
        flags: &[],
        max_positional: 1,
    },
    run,
};

fn run(args: &Parsed, _stdin: &Stdin) -> CliResult<i32> {
    let shell = match args.positional().first().map(|s| s.to_str()) {
        None => return Err(CliError::usage("a shell is required: bash, zsh or fish")),
        Some(Some(s)) if SHELLS.contains(&s) => s,
        Some(_) => {
            return Err(CliError::usage(
                "unknown shell (not shown): choose bash, zsh or fish",
            ))
        }
    };
    print_line(script(shell).trim_end())?;
    Ok(0)
}

/// What a command's positional arguments are.
enum Positional {
    None,
    Files,
    Words(Vec<&'static str>),
}

/// One word after `snapb2b`, as the completers see it.
struct Sub {
    name: &'static str,
    summary: &'static str,
    /// (option, takes a file path)
    values: Vec<(&'static str, bool)>,
    flags: Vec<&'static str>,
    positional: Positional,
}

impl Sub {
    fn options(&self) -> Vec<&'static str> {
        self.values
            .iter()
            .map(|v| v.0)
            .chain(self.flags.iter().copied())
            .collect()
    }
}

const HELP_FLAGS: &[&str] = &["-h", "--help"];

/// The sandbox's options, read from its usage text (its parser is a crate of
/// its own): `--opt WORD` takes a value, a file path for DIR, FILE and PEM.
fn sandbox_sub() -> Sub {
    let words: Vec<&str> = snapb2b_sandbox::USAGE
        .split(|c: char| c.is_whitespace() || c == '[' || c == ']')
        .filter(|w| !w.is_empty())
        .collect();
    let mut sub = Sub {
        name: SANDBOX,
        summary: SANDBOX_SUMMARY,
        values: Vec::new(),
        flags: Vec::new(),
        positional: Positional::Words(vec!["notify"]),
    };
    for (i, w) in words.iter().enumerate() {
        // Only whole option words: the usage's prose also mentions options
        // next to punctuation (`--token-url;`).
        let option_word = w.len() > 2
            && w.starts_with("--")
            && w[2..]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !option_word || sub.options().contains(w) {
            continue;
        }
        match words.get(i + 1) {
            Some(next) if next.starts_with(|c: char| c.is_ascii_uppercase()) => {
                sub.values.push((w, ["DIR", "FILE", "PEM"].contains(next)))
            }
            _ => sub.flags.push(w),
        }
    }
    sub
}

fn subs() -> Vec<Sub> {
    let mut subs: Vec<Sub> = COMMANDS
        .iter()
        .map(|c| Sub {
            name: c.name,
            summary: c.summary,
            values: c
                .spec
                .values
                .iter()
                .map(|v| (*v, PATH_OPTIONS.contains(v)))
                .collect(),
            flags: c.spec.flags.iter().chain(HELP_FLAGS).copied().collect(),
            positional: match c.spec.max_positional {
                0 => Positional::None,
                _ if c.name == COMMAND.name => Positional::Words(SHELLS.to_vec()),
                // METHOD PATH: methods offered, no file names.
                _ if [call::COMMAND.name, headers::COMMAND.name].contains(&c.name) => {
                    Positional::Words(call::METHODS.to_vec())
                }
                _ => Positional::Files,
            },
        })
        .collect();
    subs.push(sandbox_sub());
    subs.push(Sub {
        name: HELP_WORD,
        summary: "the usage of a command",
        values: Vec::new(),
        flags: Vec::new(),
        positional: Positional::Words(COMMANDS.iter().map(|c| c.name).chain([SANDBOX]).collect()),
    });
    subs.push(Sub {
        name: VERSION_WORD,
        summary: "print the version",
        values: Vec::new(),
        flags: Vec::new(),
        positional: Positional::None,
    });
    subs
}

fn top_options() -> Vec<(&'static str, &'static str)> {
    TOP_OPTIONS
        .iter()
        .flat_map(|(names, what)| names.iter().map(move |n| (*n, *what)))
        .collect()
}

pub fn script(shell: &str) -> String {
    let subs = subs();
    match shell {
        "bash" => bash(&subs),
        "zsh" => zsh(&subs),
        _ => fish(&subs),
    }
}

/// `s` single-quoted for sh, bash and zsh.
fn sq(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn bash(subs: &[Sub]) -> String {
    let top: Vec<&str> = subs
        .iter()
        .map(|s| s.name)
        .chain(top_options().iter().map(|o| o.0))
        .collect();
    let mut s = format!(
        "# bash completion for snapb2b (generated by `snapb2b completions bash`)
_snapb2b() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}
    local words='' files=''
    COMPREPLY=()
    if ((COMP_CWORD == 1)); then
        words={}
    else
        case ${{COMP_WORDS[1]}} in
",
        sq(&top.join(" "))
    );
    for sub in subs {
        let opts = sq(&sub.options().join(" "));
        s.push_str(&format!(
            "        {})\n            case $prev in\n",
            sub.name
        ));
        for (path, then) in [(true, "files=1"), (false, "return 0")] {
            let names: Vec<&str> = sub
                .values
                .iter()
                .filter(|v| v.1 == path)
                .map(|v| v.0)
                .collect();
            if !names.is_empty() {
                s.push_str(&format!("            {}) {then} ;;\n", names.join("|")));
            }
        }
        let positional = match &sub.positional {
            Positional::None => None,
            Positional::Files => Some("files=1".to_string()),
            Positional::Words(w) => Some(format!("words={}", sq(&w.join(" ")))),
        };
        let otherwise = match positional {
            None => format!("words={opts}"),
            Some(p) => format!("if [[ $cur == -* ]]; then words={opts}; else {p}; fi"),
        };
        s.push_str(&format!(
            "            *) {otherwise} ;;
            esac ;;
"
        ));
    }
    s.push_str(
        "        *) return 0 ;;
        esac
    fi
    if [[ -n $files ]]; then
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")
    else
        mapfile -t COMPREPLY < <(compgen -W \"$words\" -- \"$cur\")
    fi
}
complete -F _snapb2b snapb2b
",
    );
    s
}

fn zsh(subs: &[Sub]) -> String {
    let mut s = String::from(
        "#compdef snapb2b
# zsh completion for snapb2b (generated by `snapb2b completions zsh`)
_snapb2b() {
  local -a commands
  commands=(
",
    );
    for sub in subs {
        s.push_str(&format!(
            "    {}\n",
            sq(&format!("{}:{}", sub.name, sub.summary))
        ));
    }
    for (name, what) in top_options() {
        s.push_str(&format!("    {}\n", sq(&format!("{name}:{what}"))));
    }
    s.push_str(
        "  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'snapb2b command' commands
    return
  fi
  local cmd=$words[2]
  shift words
  (( CURRENT-- ))
  case $cmd in
",
    );
    for sub in subs {
        let mut specs: Vec<String> = sub
            .values
            .iter()
            .map(|(name, path)| {
                sq(&format!(
                    "{name}=:{}",
                    if *path { "file:_files" } else { "value: " }
                ))
            })
            .collect();
        specs.extend(sub.flags.iter().map(|f| sq(f)));
        match &sub.positional {
            Positional::None => {}
            Positional::Files => specs.push(sq("1:file:_files")),
            Positional::Words(w) => specs.push(sq(&format!("1:word:({})", w.join(" ")))),
        }
        s.push_str(&format!("    ({})\n      _arguments \\\n", sub.name));
        for spec in specs {
            s.push_str(&format!("        {spec} \\\n"));
        }
        s.push_str("        && return ;;\n");
    }
    s.push_str(
        "  esac
  return 1
}
if [[ $funcstack[1] == _snapb2b ]]; then
  _snapb2b \"$@\"
else
  compdef _snapb2b snapb2b
fi
",
    );
    s
}

/// `s` single-quoted for fish (which also escapes backslashes there).
fn fq(s: &str) -> String {
    format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'"))
}

/// `-s h` or `-l help`.
fn fish_option(name: &str) -> String {
    match name.strip_prefix("--") {
        Some(long) => format!("-l {long}"),
        None => format!("-s {}", name.trim_start_matches('-')),
    }
}

fn fish(subs: &[Sub]) -> String {
    let mut s = String::from(
        "# fish completion for snapb2b (generated by `snapb2b completions fish`)
complete -c snapb2b -f
",
    );
    for sub in subs {
        s.push_str(&format!(
            "complete -c snapb2b -n __fish_use_subcommand -a {} -d {}\n",
            sub.name,
            fq(sub.summary)
        ));
    }
    for (name, what) in top_options() {
        s.push_str(&format!(
            "complete -c snapb2b -n __fish_use_subcommand {} -d {}\n",
            fish_option(name),
            fq(what)
        ));
    }
    for sub in subs {
        let when = format!(
            "complete -c snapb2b -n '__fish_seen_subcommand_from {}'",
            sub.name
        );
        for (name, path) in &sub.values {
            let takes = if *path { "-r -F" } else { "-x" };
            s.push_str(&format!("{when} {} {takes}\n", fish_option(name)));
        }
        for flag in &sub.flags {
            s.push_str(&format!("{when} {}\n", fish_option(flag)));
        }
        match &sub.positional {
            Positional::None => {}
            Positional::Files => s.push_str(&format!("{when} -F\n")),
            Positional::Words(w) => s.push_str(&format!("{when} -x -a {}\n", fq(&w.join(" ")))),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command as Process;

    /// Runs `shell args... script` with the script as a file; `None` when
    /// the shell is not installed.
    fn shell(shell: &str, args: &[&str], script: &str) -> Option<std::process::Output> {
        // One file per call: the tests run in parallel.
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "snapb2b-completions-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        std::fs::write(&path, script).unwrap();
        let out = Process::new(shell).args(args).arg(&path).output();
        let _ = std::fs::remove_file(&path);
        match out {
            Ok(out) => Some(out),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => panic!("{shell}: {e}"),
        }
    }

    /// Every command, option and shell the parser knows, as the script
    /// spells it for `shell`.
    fn known_words(shell: &str) -> Vec<String> {
        let mut words: Vec<String> = COMMANDS.iter().map(|c| c.name.to_string()).collect();
        words.extend(SHELLS.iter().map(|s| s.to_string()));
        for c in COMMANDS {
            for o in c.spec.values.iter().chain(c.spec.flags) {
                words.push(if shell == "fish" {
                    fish_option(o)
                } else {
                    o.to_string()
                });
            }
        }
        words.push(if shell == "fish" {
            "-l dir".into()
        } else {
            "--dir".into()
        });
        words
    }

    #[test]
    fn every_command_and_option_is_in_each_script_and_each_parses() {
        for sh in SHELLS {
            let text = script(sh);
            // Whole words: `--key` must not pass on the strength of `--key-env`.
            let tokens: Vec<&str> = text
                .split(|c: char| c.is_whitespace() || "'|()=:".contains(c))
                .collect();
            for word in known_words(sh) {
                let found = if sh == &"fish" {
                    text.lines()
                        .any(|l| l.ends_with(&word) || l.contains(&format!("{word} ")))
                } else {
                    tokens.contains(&word.as_str())
                };
                assert!(found, "{sh}: {word} missing");
            }
            let check: &[&str] = match *sh {
                "fish" => &["--no-execute"],
                _ => &["-n"],
            };
            match shell(sh, check, &text) {
                None => eprintln!("{sh} is not installed: its syntax check is skipped"),
                Some(out) => assert!(
                    out.status.success() && out.stderr.is_empty(),
                    "{sh}: {}",
                    String::from_utf8_lossy(&out.stderr)
                ),
            }
        }
    }

    /// What bash's completion function offers for `words` (the last is the
    /// word being completed).
    fn bash_complete(words: &[&str]) -> Vec<String> {
        let quoted: Vec<String> = words.iter().map(|w| sq(w)).collect();
        let driver = format!(
            "{}\nCOMP_WORDS=({}); COMP_CWORD={}; _snapb2b\nfor w in \"${{COMPREPLY[@]}}\"; do printf '%s\\n' \"$w\"; done\n",
            script("bash"),
            quoted.join(" "),
            words.len() - 1
        );
        let out = shell("bash", &[], &driver).expect("bash is installed");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn bash_completes_commands_options_and_files() {
        assert_eq!(bash_complete(&["snapb2b", "to"]), ["token"]);
        let mut token: Vec<String> = super::super::token::COMMAND
            .spec
            .values
            .iter()
            .chain(super::super::token::COMMAND.spec.flags)
            .chain(&["--help"])
            .map(|s| s.to_string())
            .collect();
        token.sort();
        let mut got = bash_complete(&["snapb2b", "token", "--"]);
        got.sort();
        assert_eq!(got, token);
        assert_eq!(bash_complete(&["snapb2b", "completions", "f"]), ["fish"]);
        assert_eq!(
            bash_complete(&["snapb2b", "help", "service-"]),
            ["service-sign"]
        );
        // A value that is not a file gets nothing; a path gets file names.
        assert!(bash_complete(&["snapb2b", "sign", "--client-id", ""]).is_empty());
        let dir = std::env::temp_dir().join(format!("snapb2b-compl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("merchant key.pem"), "").unwrap();
        let prefix = format!("{}/merch", dir.display());
        let got = bash_complete(&["snapb2b", "sign", "--key", &prefix]);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(got, [format!("{}/merchant key.pem", dir.display())]);
    }
}
