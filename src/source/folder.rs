//! One migration's folder on disk: its `up.sql`, `down.sql` and `metadata.toml` read,
//! checked and turned into a [`Migration`].

use std::path::Path;

use super::{invalid, version_of, Checksum, Migration};
use crate::{Error, Result};

/// Reads one migration's folder; `buffer` is where its files are read, kept from one
/// folder to the next.
pub(super) fn read_folder(
    folder: &Path,
    warnings: &mut Vec<String>,
    buffer: &mut Vec<u8>,
) -> Result<Migration> {
    let Some(name) = folder.file_name().and_then(|n| n.to_str()) else {
        return Err(invalid(
            folder.to_path_buf(),
            "the folder name is not UTF-8",
        ));
    };
    let version = version_of(name).map_err(|reason| invalid(folder.to_path_buf(), reason))?;
    // What the folder holds, from one listing: a file's absence is read there rather
    // than asked of each name (an application's every start reads every migration). A
    // folder that cannot be listed would look empty: say why instead.
    let (mut has_up, mut has_down, mut has_metadata) = (false, false, false);
    for entry in std::fs::read_dir(folder).map_err(|e| unreadable(folder, &e))? {
        let entry = entry.map_err(|e| unreadable(folder, &e))?;
        let slot = match entry.file_name().to_str() {
            Some("up.sql") => &mut has_up,
            Some("down.sql") => &mut has_down,
            Some("metadata.toml") => &mut has_metadata,
            _ => continue,
        };
        *slot = entry_kind(&entry)?.is_some();
    }
    let up_path = folder.join("up.sql");
    if !has_up {
        return Err(invalid(folder.to_path_buf(), "it has no up.sql"));
    }
    // An empty one is listed, as diesel lists it, and refused only when it would run
    // (`crate::migrator::whole_files`).
    let up = without_bom(read_text(&up_path, buffer)?);
    let down_path = folder.join("down.sql");
    let down = match has_down {
        true => Some(without_bom(read_text(&down_path, buffer)?)).filter(|sql| !sql.is_empty()),
        false => None,
    };
    let metadata_path = folder.join("metadata.toml");
    let (run_in_transaction, guards) = match has_metadata {
        true => {
            let text = without_bom(read_text(&metadata_path, buffer)?);
            let metadata = read_metadata(&metadata_path, &text, warnings)?;
            (
                metadata.run_in_transaction.unwrap_or(false),
                metadata.pelican.and_then(|p| p.guards).unwrap_or(true),
            )
        }
        false => (true, true),
    };
    Ok(Migration {
        version,
        name: name.to_owned(),
        up,
        down,
        run_in_transaction,
        guards,
        folder: Some(folder.to_path_buf()),
        checksum: Checksum::default(),
        code: None,
    })
}

/// What a path in a migrations folder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Folder,
    File,
}

/// What is at `path` (following symbolic links): `None` when nothing is. A path that
/// cannot be looked at (no permission), or a symbolic link to nothing, is an error
/// naming it, never taken for a missing file.
/// What a listed entry is, from the listing itself where it can tell (no stat of the
/// entry's own), following a symbolic link with [`probe`] where there is one.
pub(super) fn entry_kind(entry: &std::fs::DirEntry) -> Result<Option<Kind>> {
    match entry.file_type() {
        Ok(kind) if kind.is_dir() => Ok(Some(Kind::Folder)),
        Ok(kind) if !kind.is_symlink() => Ok(Some(Kind::File)),
        _ => probe(&entry.path()),
    }
}

fn probe(path: &Path) -> Result<Option<Kind>> {
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_dir() => Ok(Some(Kind::Folder)),
        Ok(_) => Ok(Some(Kind::File)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            match std::fs::read_link(path) {
                Ok(target) => Err(invalid(
                    path.to_path_buf(),
                    format!(
                        "it is a symbolic link to {}, which does not exist",
                        target.display()
                    ),
                )),
                Err(_) => Ok(None),
            }
        }
        Err(error) => Err(unreadable(path, &error)),
    }
}

fn unreadable(path: &Path, error: &std::io::Error) -> Error {
    invalid(path.to_path_buf(), format!("it cannot be read: {error}"))
}

/// `text` without the UTF-8 byte order mark an editor may put first (the servers would
/// take it for part of the first statement, and a directive after it for SQL).
pub(super) fn without_bom(text: String) -> String {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    }
}

/// A file's text, read through `buffer`: to the end without asking the file's size
/// first (`std::fs::read` stats each file to size its buffer, a system call per file
/// that an application's every start would pay for each of its migrations' files),
/// then copied out at its exact size.
fn read_text(path: &Path, buffer: &mut Vec<u8>) -> Result<String> {
    use std::io::Read;
    buffer.clear();
    // Through `take`, whose reads carry no size hint (`File`'s own `read_to_end` asks
    // for the size).
    std::fs::File::open(path)
        .and_then(|file| file.take(u64::MAX).read_to_end(buffer))
        .map_err(|e| unreadable(path, &e))?;
    match std::str::from_utf8(buffer) {
        Ok(text) => Ok(text.to_owned()),
        Err(e) => Err(invalid(
            path.to_path_buf(),
            format!(
                "the file is not UTF-8 text (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )),
    }
}

/// The keys of `metadata.toml` pelican reads: diesel's `run_in_transaction`, and its
/// own `[pelican]` section (which diesel ignores).
#[derive(Debug, serde::Deserialize)]
struct Metadata {
    run_in_transaction: Option<bool>,
    pelican: Option<PelicanMetadata>,
}

/// `[pelican]` in `metadata.toml`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PelicanMetadata {
    guards: Option<bool>,
}

/// The keys [`Metadata`] knows, and those of `[pelican]`.
pub(super) const METADATA_KEYS: &[&str] = &["run_in_transaction", "pelican"];
pub(super) const PELICAN_KEYS: &[&str] = &["guards"];

/// Parses a `metadata.toml`. diesel ignores keys it does not know, so a misspelt
/// `run_in_transaction` silently runs a migration in a transaction: pelican refuses a
/// key that is a near miss of a known one, naming the one meant, and warns of any other
/// unknown key.
fn read_metadata(path: &Path, text: &str, warnings: &mut Vec<String>) -> Result<Metadata> {
    // toml quotes the value it refuses: clipped, so that a huge one is not printed whole.
    let table: toml::Table = toml::from_str(text)
        .map_err(|e| invalid(path.to_path_buf(), crate::error::clipped(e.message())))?;
    for (key, value) in &table {
        check_key(path, key, METADATA_KEYS, warnings)?;
        if key == "pelican" {
            if let Some(section) = value.as_table() {
                for key in section.keys() {
                    check_key(path, &format!("pelican.{key}"), PELICAN_KEYS, warnings)?;
                }
            }
        }
    }
    table.try_into().map_err(|e: toml::de::Error| {
        invalid(path.to_path_buf(), crate::error::clipped(e.message()))
    })
}

/// A known key passes; a near miss of one is an error naming it; any other key is a
/// warning (diesel ignores it).
fn check_key(path: &Path, key: &str, known: &[&str], warnings: &mut Vec<String>) -> Result<()> {
    // The key as messages quote it.
    let key = &crate::error::clipped(key);
    let bare = key.strip_prefix("pelican.").unwrap_or(key);
    if known.contains(&bare) {
        return Ok(());
    }
    match known.iter().find(|k| near_miss(bare, k)) {
        Some(meant) => Err(invalid(
            path.to_path_buf(),
            format!(
                "unknown key `{key}`: did you mean `{}`? (diesel would ignore it)",
                key.replace(bare, meant)
            ),
        )),
        None => {
            warnings.push(format!(
                "{}: unknown key `{key}` (diesel and pelican ignore it)",
                path.display()
            ));
            Ok(())
        }
    }
}

/// Whether `key` is a misspelling of `known`: the same once case and `-`/`_` are set
/// aside, or at most two letters added, dropped or changed (one for short keys).
pub(super) fn near_miss(key: &str, known: &str) -> bool {
    let normalize = |text: &str| text.to_lowercase().replace(['-', '_'], "");
    if normalize(key) == normalize(known) {
        return true;
    }
    let allowed = if known.chars().count() > 6 { 2 } else { 1 };
    edit_distance(&key.to_lowercase(), known) <= allowed
}

/// Levenshtein's distance between two strings, in characters.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}
