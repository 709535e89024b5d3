//! The shape of the code a contributor relies on: pelican's modules form layers, and no
//! module uses one that uses it back (docs/architecture.md, "Layers").
//!
//! The graph is read from the sources as rustc sees them (`syn`): a file of `src/a/…`
//! belongs to the top-level module `a`, and it depends on `b` when it names
//! `crate::b::…` (in a path, a `use`, or a macro's tokens), a name `lib.rs` re-exports
//! from `b` (`crate::Error`), or reaches `b` through enough `super::`s. Unit tests
//! (`#[cfg(test)]`) are left out: a test may use anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use syn::visit::Visit;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The module path of a file: `src/a.rs` and `src/a/mod.rs` are `[a]`, `src/a/b.rs`
/// is `[a, b]`; `lib.rs` and `main.rs` are the root, `[]`.
fn module_path(file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src()).unwrap();
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_string());
    }
    parts
}

/// Whether an item is compiled only for tests: `#[cfg(test)]`, or `#[cfg(all(test, …))]`.
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && match &attr.meta {
                syn::Meta::List(list) => {
                    let tokens = list.tokens.to_string();
                    tokens == "test" || tokens.starts_with("all (test")
                }
                _ => false,
            }
    })
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    use syn::Item::*;
    match item {
        Const(i) => &i.attrs,
        Enum(i) => &i.attrs,
        ExternCrate(i) => &i.attrs,
        Fn(i) => &i.attrs,
        Impl(i) => &i.attrs,
        Macro(i) => &i.attrs,
        Mod(i) => &i.attrs,
        Static(i) => &i.attrs,
        Struct(i) => &i.attrs,
        Trait(i) => &i.attrs,
        Type(i) => &i.attrs,
        Union(i) => &i.attrs,
        Use(i) => &i.attrs,
        _ => &[],
    }
}

/// Every full path a `use` tree names, renames and globs cut at their name.
fn use_paths(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_paths(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let mut path = prefix.clone();
            path.push(n.ident.to_string());
            out.push(path);
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix.clone();
            path.push(r.ident.to_string());
            out.push(path);
        }
        syn::UseTree::Glob(_) => out.push(prefix.clone()),
        syn::UseTree::Group(g) => {
            for tree in &g.items {
                use_paths(tree, prefix, out);
            }
        }
    }
}

/// What one file names of the crate.
struct FileVisitor<'a> {
    /// The module the visitor is in (the file's, then inline `mod`s).
    module: Vec<String>,
    /// Names `lib.rs` re-exports, with the top-level module each comes from.
    reexports: &'a BTreeMap<String, String>,
    /// Top-level modules this file depends on.
    uses: BTreeSet<String>,
    /// Files declared as `#[cfg(test)] mod x;` here.
    test_files: Vec<PathBuf>,
    file: &'a Path,
}

impl FileVisitor<'_> {
    /// Notes the top-level module a path from this module reaches, if any.
    fn path(&mut self, segments: &[String]) {
        let Some(first) = segments.first() else {
            return;
        };
        let rest = if first == "crate" {
            &segments[1..]
        } else if first == "super" {
            let ups = segments.iter().take_while(|s| *s == "super").count();
            if ups < self.module.len() {
                return; // still inside this file's own top-level module
            }
            &segments[ups..]
        } else {
            return;
        };
        if let Some(name) = rest.first() {
            if let Some(module) = self.reexports.get(name) {
                self.uses.insert(module.clone());
            } else if rest.len() > 1 || name.chars().all(|c| c.is_lowercase() || c == '_') {
                self.uses.insert(name.clone());
            }
        }
    }
}

impl<'ast> Visit<'ast> for FileVisitor<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if is_test_only(item_attrs(item)) {
            if let syn::Item::Mod(m) = item {
                if m.content.is_none() {
                    let dir = if self.file.ends_with("mod.rs") || self.file.ends_with("lib.rs") {
                        self.file.parent().unwrap().to_path_buf()
                    } else {
                        self.file.with_extension("")
                    };
                    self.test_files.push(dir.join(format!("{}.rs", m.ident)));
                    self.test_files
                        .push(dir.join(m.ident.to_string()).join("mod.rs"));
                }
            }
            return;
        }
        syn::visit::visit_item(self, item);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        self.module.push(m.ident.to_string());
        syn::visit::visit_item_mod(self, m);
        self.module.pop();
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut paths = Vec::new();
        use_paths(&u.tree, &mut Vec::new(), &mut paths);
        for path in paths {
            self.path(&path);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        self.path(&segments);
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        // Macro arguments are tokens, not paths: find `crate :: name` among them.
        let tokens = m.tokens.to_string();
        for piece in tokens.split("crate :: ").skip(1) {
            let name: String = piece
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let more = piece[name.len()..].starts_with(" ::");
            self.path(&if more {
                vec!["crate".into(), name, "_".into()]
            } else {
                vec!["crate".into(), name]
            });
        }
        syn::visit::visit_macro(self, m);
    }
}

/// The crate's top-level modules and, for each, the modules it uses, with the files
/// that use them.
fn module_graph() -> BTreeMap<String, BTreeMap<String, BTreeSet<PathBuf>>> {
    static GRAPH: OnceLock<BTreeMap<String, BTreeMap<String, BTreeSet<PathBuf>>>> = OnceLock::new();
    GRAPH.get_or_init(read_module_graph).clone()
}

fn read_module_graph() -> BTreeMap<String, BTreeMap<String, BTreeSet<PathBuf>>> {
    let files = rust_files(&src());
    let parsed: Vec<(PathBuf, syn::File)> = files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let file = syn::parse_file(&text)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", f.display()));
            (f.clone(), file)
        })
        .collect();

    // `pub use a::{B, c::D}` in lib.rs: `crate::B` is module `a`'s.
    let mut reexports = BTreeMap::new();
    let lib = parsed
        .iter()
        .find(|(f, _)| f.ends_with("src/lib.rs"))
        .unwrap();
    for item in &lib.1.items {
        if let syn::Item::Use(u) = item {
            let mut paths = Vec::new();
            use_paths(&u.tree, &mut Vec::new(), &mut paths);
            for path in paths.into_iter().filter(|p| p.len() >= 2) {
                let module = if path[0] == "crate" {
                    &path[1]
                } else {
                    &path[0]
                };
                reexports.insert(path.last().unwrap().clone(), module.clone());
            }
        }
    }

    let mut test_files = BTreeSet::new();
    let mut uses = Vec::new();
    for (file, ast) in &parsed {
        let mut visitor = FileVisitor {
            module: module_path(file),
            reexports: &reexports,
            uses: BTreeSet::new(),
            test_files: Vec::new(),
            file,
        };
        visitor.visit_file(ast);
        test_files.extend(visitor.test_files);
        uses.push((file.clone(), visitor.uses));
    }

    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<PathBuf>>> = BTreeMap::new();
    for (file, used) in uses {
        let Some(module) = module_path(&file).first().cloned() else {
            continue; // lib.rs and main.rs sit above every module
        };
        if test_files.contains(&file) {
            continue;
        }
        let entry = graph.entry(module.clone()).or_default();
        for other in used.into_iter().filter(|m| *m != module) {
            let relative = file.strip_prefix(src()).unwrap().to_path_buf();
            entry.entry(other).or_default().insert(relative);
        }
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for edges in graph.values_mut() {
        edges.retain(|m, _| modules.contains(m));
    }
    graph
}

/// The graph's strongly connected components of more than one module (Tarjan's).
fn cycles(graph: &BTreeMap<String, BTreeMap<String, BTreeSet<PathBuf>>>) -> Vec<Vec<String>> {
    struct Tarjan<'g> {
        graph: &'g BTreeMap<String, BTreeMap<String, BTreeSet<PathBuf>>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        components: Vec<Vec<String>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, v: &'g str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph[v].keys() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.components.push(component);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for v in graph.keys() {
        if !tarjan.index.contains_key(v.as_str()) {
            tarjan.visit(v);
        }
    }
    tarjan.components.sort();
    tarjan.components
}

/// pelican's modules from the bottom up: a module uses only modules of lower layers, or of
/// its own layer when that makes no cycle. A new module takes its place here.
const LAYERS: &[&[&str]] = &[
    // pelican's tracing spans and events, which every layer may emit.
    &["trace"],
    // What the error needs and that needs nothing of the crate: a URL's secrets hidden
    // (what the error scrubs its messages with, and `backend` shows a URL with), and the
    // plain data errors carry (a drift's changes, a failed run's report and the words it
    // is written in), public at the paths of the modules that make them.
    &["url_secret", "outcome"],
    // The words everything speaks: the one error type, then the backends (parsing a URL
    // returns the error, so `backend` sits above it).
    &["error"],
    &["backend"],
    &["source", "split", "interrupt"],
    &["connection"],
    // Every backend's SQL and facts, behind one `Dialect` each.
    &["dialect"],
    // What runs on a connection: the lock, the ledger, statements, catalog reads.
    &[
        "plan",
        "lock",
        "ledger",
        "execute",
        "join",
        "print_schema",
        "server",
    ],
    &["catalog", "scratch", "config"],
    &["guard", "admin"],
    // Rules read from the migrations' statements, before anything runs.
    &["lint"],
    // Runs of migrations, and what is built on them.
    &["migrator", "unfinished"],
    &["snapshot", "script", "generate", "setup"],
    // The fresh build (a snapshot, then the newer migrations, stamped): what boot's fresh
    // path runs, and what adoption starts its scratch database with.
    &["fresh"],
    &["adopt"],
    &["boot"],
    &["check"],
    &["testing"],
    // Many targets, each run as a single run would be.
    &["fleet"],
    // The command line, over all of it.
    &["cli"],
    // pelican's own tests' hooks into the internals (the binary's command tree among
    // them).
    &["__test_support"],
];

/// Uses that go up the layers, known and not yet removed (issue 24 removed the last
/// ones). The list may only shrink: the test fails on a new one and on a listed one
/// that is gone, so it stays true.
const KNOWN_UPWARD: &[(&str, &str)] = &[];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|layer| layer.contains(&module))
        .unwrap_or_else(|| panic!("module `{module}` has no place in LAYERS: add it"))
}

#[test]
fn modules_use_only_the_layers_below_them() {
    let graph = module_graph();
    let mut upward = Vec::new();
    for (from, edges) in &graph {
        for (to, files) in edges {
            if layer_of(to) > layer_of(from) {
                let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
                upward.push(((from.as_str(), to.as_str()), files.join(", ")));
            }
        }
    }
    let new: Vec<String> = upward
        .iter()
        .filter(|(edge, _)| !KNOWN_UPWARD.contains(edge))
        .map(|((from, to), files)| format!("  {from} -> {to}  ({files})"))
        .collect();
    let gone: Vec<String> = KNOWN_UPWARD
        .iter()
        .filter(|edge| !upward.iter().any(|(e, _)| e == *edge))
        .map(|(from, to)| format!("  {from} -> {to}"))
        .collect();
    assert!(
        new.is_empty() && gone.is_empty(),
        "uses up the layers that are not known:\n{}\nknown ones that are gone (remove them \
         from KNOWN_UPWARD):\n{}",
        new.join("\n"),
        gone.join("\n")
    );
}

#[test]
fn no_module_uses_a_module_that_uses_it() {
    // Without the known upward uses, nothing may go round: same-layer uses included.
    let mut graph = module_graph();
    for (from, to) in KNOWN_UPWARD {
        if let Some(edges) = graph.get_mut(*from) {
            edges.remove(*to);
        }
    }
    let found = cycles(&graph);
    let mut report = String::new();
    for component in &found {
        report.push_str(&format!("cycle: {}\n", component.join(", ")));
        for from in component {
            for (to, files) in &graph[from] {
                if component.contains(to) {
                    let files: Vec<String> =
                        files.iter().map(|f| f.display().to_string()).collect();
                    report.push_str(&format!("  {from} -> {to}  ({})\n", files.join(", ")));
                }
            }
        }
    }
    assert!(found.is_empty(), "modules that use each other:\n{report}");
}

#[test]
fn the_graph_sees_uses_of_every_kind() {
    let graph = module_graph();
    // `use crate::error::…`, `crate::Error` through lib.rs, and paths in code.
    assert!(graph.contains_key("dialect"), "{:?}", graph.keys());
    assert!(graph["migrator"].contains_key("error"));
    assert!(graph["migrator"].contains_key("dialect"));
    assert!(graph["cli"].contains_key("migrator"));
    for module in graph.keys() {
        layer_of(module);
    }
}

#[test]
fn no_source_file_is_over_900_lines() {
    // A file that long holds more than one idea: split it by idea (issue 24).
    let long: Vec<String> = rust_files(&src())
        .into_iter()
        .filter_map(|file| {
            let lines = std::fs::read_to_string(&file).unwrap().lines().count();
            (lines > 900).then(|| format!("{} ({lines} lines)", file.display()))
        })
        .collect();
    assert!(long.is_empty(), "files over 900 lines: {long:?}");
}
