//! The layers stay layers: within every crate of the workspace, the
//! top-level modules import each other without a cycle (`use crate::…`,
//! paths through `crate::…`, grouped `crate::{…}`), so each can be read,
//! tested and replaced from the bottom up. A module's own submodules and
//! tests count as the module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The top-level module a file belongs to (`None` for the crate root).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative.components().next()?.as_os_str().to_string_lossy().into_owned();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (!matches!(name.as_str(), "lib" | "main")).then_some(name)
}

/// Every top-level module a file's text names through `crate::`.
fn named_modules(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let identifier =
        |rest: &str| rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The group's items at depth 0: `a::{b, c}, d` names a and d.
            let (mut depth, mut start) = (0usize, 0usize);
            for (k, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        names.insert(identifier(group[start..k].trim()));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.insert(identifier(group[start..k].trim()));
                        start = k + 1;
                    }
                    _ => {}
                }
            }
            names.remove("");
            names.remove("self");
        } else {
            names.insert(identifier(rest));
        }
    }
    names
}

/// The import graph of one crate's top-level modules.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(src, f)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = modules.iter().map(|m| (m.clone(), BTreeSet::new())).collect();
    for file in &files {
        let Some(from) = module_of(src, file) else { continue };
        let text = std::fs::read_to_string(file).unwrap();
        for to in named_modules(&text) {
            if to != from && modules.contains(&to) {
                edges.get_mut(&from).unwrap().insert(to);
            }
        }
    }
    edges
}

/// A cycle in the graph, as the modules along it, if there is one.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|p| p == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in &edges[node] {
            if let Some(cycle) = visit(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges.keys().find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}

#[test]
fn no_crate_has_an_import_cycle_between_its_modules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut modules = 0;
    for krate in ["sim-core", "protocols", "reports", "scenarios"] {
        let edges = graph(&root.join(krate).join("src"));
        modules += edges.len();
        if let Some(cycle) = find_cycle(&edges) {
            panic!("{krate}: an import cycle: {}", cycle.join(" -> "));
        }
    }
    assert!(modules > 30, "only {modules} modules found: is the walk broken?");
}

#[test]
fn the_cycle_finder_finds_a_planted_cycle_and_reads_grouped_imports() {
    let names = named_modules("use crate::{config::{self, Scenario}, runner};\nlet x = crate::oracle::f();");
    assert_eq!(names.into_iter().collect::<Vec<_>>(), ["config", "oracle", "runner"]);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")] {
        edges.entry(from.into()).or_default().insert(to.into());
        edges.entry(to.into()).or_default();
    }
    assert_eq!(find_cycle(&edges), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    edges.get_mut("c").unwrap().clear();
    assert_eq!(find_cycle(&edges), None);
}

#[test]
fn only_main_uses_the_command_line_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("tests"), &mut files);
    rust_files(&root.join("examples"), &mut files);
    for file in files {
        let in_cli = file.components().any(|c| c.as_os_str() == "cli");
        if in_cli || file.ends_with("main.rs") || file.ends_with("lib.rs") || file.ends_with("layers.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("crate::cli") && !text.contains("scenarios::cli"), "{} uses the CLI", file.display());
    }
}

#[test]
fn the_runner_and_check_know_no_family_and_the_families_know_no_other() {
    let edges = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let families = ["rings", "gossip"];
    for module in ["runner", "check", "config", "sweep", "verify", "figures", "provenance", "output"] {
        for family in families {
            assert!(!edges[module].contains(family), "{module} imports the {family} family");
        }
    }
    assert!(!edges["rings"].contains("gossip") && !edges["gossip"].contains("rings"), "the families import each other");
    for family in families {
        assert!(!edges[family].contains("api"), "{family} imports the front door above it");
    }
    // The seam is used: each family builds on the runner and the checks.
    for family in families {
        assert!(edges[family].contains("runner") && edges[family].contains("check"), "{family}: {:?}", edges[family]);
    }
}
