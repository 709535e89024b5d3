//! The documentation checks itself: every relative link in README.md, CHANGELOG.md and
//! docs/*.md points to a file that exists (and to a heading of it, when it names one),
//! and the README's testing example is `tests/readme_testing.rs`, which runs. (The
//! README's other Rust blocks are compiled as doctests: `src/lib.rs`'s `ReadmeDoctests`.)

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Markdown files whose links are checked.
fn documents() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md"), root().join("CHANGELOG.md")];
    let mut docs: Vec<PathBuf> = fs::read_dir(root().join("docs"))
        .expect("docs/ exists")
        .map(|entry| entry.expect("a docs/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The text outside fenced code blocks, line by line.
fn prose(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .collect()
}

/// A heading's anchor as GitHub makes it: lowercase, punctuation other than `-` and `_`
/// dropped, spaces as `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Every anchor a Markdown file's headings give (a repeated heading gets `-1`, `-2`…).
fn anchors(path: &Path) -> HashSet<String> {
    let text = fs::read_to_string(path).unwrap_or_default();
    let mut seen = HashSet::new();
    for line in prose(&text) {
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let heading = heading.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let base = slug(heading);
        let mut anchor = base.clone();
        let mut n = 0;
        while seen.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        seen.insert(anchor);
    }
    seen
}

/// The targets of the inline links `[text](target)` in a line.
fn links(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("](") {
        let after = &rest[start + 2..];
        match after.find(')') {
            Some(end) => {
                found.push(after[..end].to_owned());
                rest = &after[end..];
            }
            None => break,
        }
    }
    found
}

#[test]
fn relative_links_point_to_files_and_headings_that_exist() {
    let mut broken = Vec::new();
    for document in documents() {
        let text = fs::read_to_string(&document).expect("a document");
        let mut fenced = false;
        for (number, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
            }
            if fenced {
                continue;
            }
            for target in links(line) {
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                let (file, anchor) = match target.split_once('#') {
                    Some((file, anchor)) => (file, Some(anchor)),
                    None => (target.as_str(), None),
                };
                let path = if file.is_empty() {
                    document.clone()
                } else {
                    document.parent().expect("a folder").join(file)
                };
                let name = document.strip_prefix(root()).unwrap_or(&document).display();
                if !path.exists() {
                    broken.push(format!("{name}:{}: {target}: no such file", number + 1));
                    continue;
                }
                if let Some(anchor) = anchor {
                    if path.extension().is_some_and(|ext| ext == "md")
                        && !anchors(&path).contains(anchor)
                    {
                        broken.push(format!("{name}:{}: {target}: no such heading", number + 1));
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_readme_shows_tests_readme_testing_rs_as_it_is() {
    let readme = fs::read_to_string(root().join("README.md")).expect("README.md");
    let file = fs::read_to_string(root().join("tests/readme_testing.rs")).expect("the test");
    // The first ignored Rust block of the testing section (the embedding section has its own).
    let section = readme
        .find("## Testing with `pelican::testing`")
        .expect("the README's testing section");
    let fence = "```rust,ignore\n";
    let start = section
        + readme[section..]
            .find(fence)
            .expect("the README's testing example")
        + fence.len();
    let end = start + readme[start..].find("```").expect("the end of the example");
    assert_eq!(
        &readme[start..end],
        file,
        "the README's testing example and tests/readme_testing.rs differ: change both"
    );
}

#[test]
fn anchors_are_made_as_github_makes_them() {
    assert_eq!(slug("Dry run and `--sql`"), "dry-run-and---sql");
    assert_eq!(slug("pelican::testing"), "pelicantesting");
    assert_eq!(
        slug("init against the databases' own clients"),
        "init-against-the-databases-own-clients"
    );
}
