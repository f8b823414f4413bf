//! Helpers: run the binary, run a scenario in-process.

use scenarios::runner::{Quiet, RunResult};
use std::path::Path;
use std::process::{Command, Output};

pub fn overlaysim(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_overlaysim")).args(args).current_dir(cwd).output().expect("the binary runs")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A refused command: exit status 2, an `error:` line holding every
/// fragment, and no panic.
pub fn refused(output: &Output, fragments: &[&str]) {
    let message = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.starts_with("error: ") && !message.contains("panicked"), "{message}");
    for fragment in fragments {
        assert!(message.contains(fragment), "{fragment:?} not in {message:?}");
    }
}

/// Runs a shipped scenario with overrides, in-process.
pub fn run_builtin(name: &str, overrides: &[&str]) -> RunResult {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let scenario = scenarios::api::load_scenario(name, &overrides).unwrap_or_else(|f| panic!("{}", f.message));
    scenarios::api::run_scenario(&scenario, None, &mut Quiet).unwrap_or_else(|f| panic!("{}", f.message))
}

pub fn number(result: &RunResult, column: &str) -> f64 {
    let value = result.summary.get(column).unwrap_or_else(|| panic!("no column {column}"));
    value.parse().unwrap_or_else(|_| panic!("{column} = {value} is not a number"))
}
