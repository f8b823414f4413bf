//! Every command in the README's `sh` blocks runs here, as written, in one
//! folder and in order (later recipes use what earlier ones wrote), with
//! `overlaysim` on the `PATH` as the binary under test. A trailing
//! `# exits N` says the status a command must end with (0 otherwise).
//! `cargo run --release -p scenarios --bin overlaysim --` is that binary
//! too; `cargo test --workspace` (this very suite) and `cargo install` run
//! in `.ci/run` instead, which this test checks.

use std::path::Path;
use std::process::Command;

const BUILD_PREFIX: &str = "cargo run --release -p scenarios --bin overlaysim --";

/// The commands of the README's `sh` blocks, continuation lines joined.
fn commands(readme: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in readme.lines() {
        if line.starts_with("```") {
            in_block = !in_block && line.trim() == "```sh";
            continue;
        }
        if !in_block {
            continue;
        }
        let line = line.trim();
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head.trim_end());
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let command = std::mem::take(&mut pending);
        if !command.is_empty() && !command.starts_with('#') {
            commands.push(command);
        }
    }
    commands
}

/// The status a command must end with: `# exits N`, else 0.
fn expected_status(command: &str) -> i32 {
    command
        .split_once("# exits ")
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn run(command: &str, dir: &Path, path: &str, task: Option<u32>) -> std::process::Output {
    let mut shell = Command::new("bash");
    shell.args(["-c", command]).current_dir(dir).env("PATH", path);
    if let Some(task) = task {
        shell.env("SLURM_ARRAY_TASK_ID", task.to_string());
    }
    shell.output().expect("bash runs")
}

#[test]
fn every_readme_command_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_overlaysim"), bin.join("overlaysim")).unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut ran = 0;
    for command in commands(&readme) {
        if command.starts_with("cargo test") || command.starts_with("cargo install") {
            let words: String = command.split('#').next().unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(ci.contains(&words), "`{words}` is in the README but not in .ci/run");
            continue;
        }
        let runnable = command.replace(BUILD_PREFIX, "overlaysim");
        assert!(runnable.starts_with("overlaysim "), "a README command this test cannot run: {command}");
        let tasks: Vec<Option<u32>> =
            if runnable.contains("SLURM_ARRAY_TASK_ID") { (1..=8).map(Some).collect() } else { vec![None] };
        for task in tasks {
            let output = run(&runnable, &work, &path, task);
            assert_eq!(
                output.status.code(),
                Some(expected_status(&command)),
                "{command} (task {task:?}):\n{}\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            ran += 1;
        }
    }
    // What the recipes promise to write.
    for written in [
        "runs/quickstart/seed-1/summary.csv",
        "figures-quick/report.html",
        "runs/ppl/results.csv",
        "sweep/all/results.csv",
        "ring.svg",
        "canary.toml",
        "runs/compare-churn/seed-1/comparison.csv",
        "runs/quickstart-all/comparison.csv",
        "runs/gossip/summary.csv",
    ] {
        assert!(work.join(written).is_file(), "{written} was not written");
    }
    // The count pins the recipes: one that is dropped shows here.
    assert_eq!(ran, 32, "commands run");
}

#[test]
fn readme_blocks_are_parsed_with_continuations_and_statuses() {
    let text = "```sh\na \\\n  b  # exits 1\n# comment\n```\n```\nnot run\n```\n```sh\nc\n```\n";
    let found = commands(text);
    assert_eq!(found, ["a b  # exits 1", "c"]);
    assert_eq!(expected_status(&found[0]), 1);
    assert_eq!(expected_status(&found[1]), 0);
}

#[test]
fn the_protocol_guide_names_files_and_functions_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let guide = std::fs::read_to_string(root.join("docs/new-protocol.md")).unwrap();
    let quoted: Vec<&str> = guide.split('`').skip(1).step_by(2).collect();
    let files: Vec<&str> = quoted.iter().copied().filter(|q| q.ends_with(".rs") && q.contains('/')).collect();
    assert!(files.len() >= 8, "{files:?}");
    for file in &files {
        let concrete = file.replace("<name>", "chord");
        assert!(root.join(&concrete).is_file(), "the guide names {file}, which does not exist");
    }
    let example = std::fs::read_to_string(root.join("scenarios/examples/successor_ring.rs")).unwrap();
    for name in ["check_invariants", "fn run(", "impl RingProtocol for", "impl RingView for"] {
        assert!(example.contains(name), "the example lost {name}");
    }
    let cli = std::fs::read_to_string(root.join("scenarios/src/api.rs")).unwrap();
    assert!(cli.contains("fn run_protocol("), "the guide's step 3 names run_protocol");
}
