//! Three-way merge of directory trees: how `idp scaffold update` brings a
//! template's changes into a project without losing the project's own edits.
//!
//! Copier's model. Three trees take part, all holding only what the template
//! produces: *base* is the template version the project was made from,
//! rendered again with the recorded answers; *theirs* is the new template
//! version rendered with the same answers; *ours* is the project as it is
//! now. Per file:
//!
//! | base vs theirs | ours                     | result                                   |
//! |----------------|--------------------------|------------------------------------------|
//! | same           | anything                 | kept as it is (the template did not move) |
//! | changed        | = base, or missing base  | theirs taken                              |
//! | changed        | = theirs                 | nothing to do                             |
//! | changed        | changed too (text)       | three-way text merge (diffy)              |
//! | changed        | changed too (binary)     | ours kept, theirs written to `<file>.new` |
//! | changed        | deleted by the user      | stays deleted, reported                   |
//! | removed        | = base                   | deleted                                   |
//! | removed        | changed by the user      | kept, reported                            |
//! | added          | missing                  | created                                   |
//! | added          | exists and differs       | merged against an empty base              |
//!
//! Files that only the project has are never looked at. A text conflict is
//! written with inline markers (`<<<<<<<`, `|||||||`, `=======`, `>>>>>>>`),
//! or, in `.rej` mode, the file keeps the project's side of every conflict
//! (the template's clean changes applied) and the rejected hunks go to
//! `<file>.rej` as a unified diff that `patch` can apply.
//!
//! Planning ([`plan`]) reads only; [`MergePlan::apply`] writes. This module
//! never prints.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// An error reading or writing a tree.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A file or directory could not be read or written.
    #[error("{action} {path}: {error}")]
    Io {
        /// What was being done ("read", "write", "remove", …).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error (in the message, so not chained as a source:
        /// error reports would say it twice).
        error: std::io::Error,
    },
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> MergeError + 'a {
    move |error| MergeError::Io {
        action,
        path: path.to_path_buf(),
        error,
    }
}

/// How text conflicts are left for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConflictMode {
    /// Conflict markers inside the file (git's and copier's default).
    #[default]
    Inline,
    /// The project's side kept in the file; the template's rejected hunks in
    /// `<file>.rej`.
    Rej,
}

/// The names shown on conflict markers and in `.rej` headers.
#[derive(Debug, Clone)]
pub struct Labels {
    /// The project (`<<<<<<< …`).
    pub ours: String,
    /// The template version the project was made from (`||||||| …`).
    pub base: String,
    /// The new template version (`>>>>>>> …`).
    pub theirs: String,
}

impl Default for Labels {
    fn default() -> Self {
        Labels {
            ours: "project".into(),
            base: "template (old)".into(),
            theirs: "template (new)".into(),
        }
    }
}

/// Options of a merge.
#[derive(Debug, Clone, Default)]
pub struct MergeOptions {
    /// Inline markers or `.rej` files.
    pub conflict: ConflictMode,
    /// Marker labels.
    pub labels: Labels,
}

/// One file's content and whether it is executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The executable bit (unix).
    pub executable: bool,
}

impl FileEntry {
    /// A non-executable file.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        FileEntry {
            bytes: bytes.into(),
            executable: false,
        }
    }

    /// Binary the way git decides it: a NUL byte in the first 8000 bytes.
    fn is_binary(&self) -> bool {
        self.bytes.iter().take(8000).any(|b| *b == 0)
    }
}

/// The regular files of a directory tree, by path relative to its root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Files by relative path.
    pub files: BTreeMap<PathBuf, FileEntry>,
}

/// Top-level names that are never part of a merge: the project's git
/// repository and idp's own bookkeeping.
pub const IGNORED_TOP_LEVEL: &[&str] = &[".git", ".idp"];

impl Snapshot {
    /// Reads every regular file under `root` (symlinks are not followed and
    /// not included), except the [`IGNORED_TOP_LEVEL`] entries.
    pub fn read(root: &Path) -> Result<Self, MergeError> {
        let mut snap = Snapshot::default();
        read_dir_into(root, Path::new(""), &mut snap.files)?;
        Ok(snap)
    }
}

fn read_dir_into(
    root: &Path,
    rel: &Path,
    out: &mut BTreeMap<PathBuf, FileEntry>,
) -> Result<(), MergeError> {
    let dir = root.join(rel);
    let entries = std::fs::read_dir(&dir).map_err(io("read directory", &dir))?;
    for entry in entries {
        let entry = entry.map_err(io("read directory", &dir))?;
        let name = entry.file_name();
        if rel.as_os_str().is_empty() && IGNORED_TOP_LEVEL.iter().any(|n| name == *n) {
            continue;
        }
        let rel_path = rel.join(&name);
        let kind = entry.file_type().map_err(io("stat", &entry.path()))?;
        if kind.is_dir() {
            read_dir_into(root, &rel_path, out)?;
        } else if kind.is_file() {
            if let Some(file) = read_file(&root.join(&rel_path))? {
                out.insert(rel_path, file);
            }
        }
    }
    Ok(())
}

/// Reads one regular file; `None` when nothing (or no regular file) is there.
pub fn read_file(path: &Path) -> Result<Option<FileEntry>, MergeError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("stat", path)(e)),
    };
    if !meta.is_file() {
        return Ok(None);
    }
    let bytes = std::fs::read(path).map_err(io("read", path))?;
    Ok(Some(FileEntry {
        bytes,
        executable: is_executable(&meta),
    }))
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    false
}

/// What happened, or would happen, to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// New in the template: created.
    Added,
    /// The project still had the old template's content: replaced by the new.
    Updated,
    /// Both sides changed it; the changes merged cleanly.
    Merged,
    /// Removed from the template, unmodified in the project: deleted.
    Deleted,
    /// Both sides changed it and the changes collide.
    Conflict(ConflictKind),
    /// The template changed it but the project's state wins; nothing written.
    Skipped(SkipReason),
}

/// How a conflict was left for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    /// Conflict markers in the file (this many conflicting regions).
    Markers(usize),
    /// The project's side in the file, the template's rejected hunks in
    /// `<file>.rej` (this many conflicting regions).
    Rej(usize),
    /// A binary file: the project's kept, the template's in `<file>.new`.
    Binary,
}

/// Why a file the template changed was left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// The project deleted the file; the template changed it since.
    DeletedInProject,
    /// The template removed the file; the project had changed it.
    ModifiedInProject,
    /// The project has something other than a regular file there.
    NotAFile,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Added => f.write_str("added"),
            Outcome::Updated => f.write_str("updated"),
            Outcome::Merged => f.write_str("merged"),
            Outcome::Deleted => f.write_str("deleted"),
            Outcome::Conflict(ConflictKind::Markers(n)) => {
                write!(
                    f,
                    "conflict ({n} region{}, markers in the file)",
                    plural(*n)
                )
            }
            Outcome::Conflict(ConflictKind::Rej(n)) => {
                write!(
                    f,
                    "conflict ({n} region{}, rejected hunks in .rej)",
                    plural(*n)
                )
            }
            Outcome::Conflict(ConflictKind::Binary) => {
                f.write_str("conflict (binary: yours kept, the template's in .new)")
            }
            Outcome::Skipped(SkipReason::DeletedInProject) => {
                f.write_str("skipped (you deleted it; the template changed it)")
            }
            Outcome::Skipped(SkipReason::ModifiedInProject) => {
                f.write_str("skipped (the template removed it; you changed it, so it is kept)")
            }
            Outcome::Skipped(SkipReason::NotAFile) => {
                f.write_str("skipped (not a regular file in the project)")
            }
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// One write the plan makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Create or replace a file (relative path).
    File {
        /// Relative path.
        path: PathBuf,
        /// New content and mode.
        entry: FileEntry,
    },
    /// Delete a file (relative path).
    Remove {
        /// Relative path.
        path: PathBuf,
    },
}

/// What happens to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Relative path in the project.
    pub path: PathBuf,
    /// What happens.
    pub outcome: Outcome,
    /// The writes that make it happen (empty for a skip).
    pub writes: Vec<Write>,
}

/// Every change a merge makes, in path order.
#[derive(Debug, Clone, Default)]
pub struct MergePlan {
    /// Changed files only: files the merge leaves as they are are not listed.
    pub changes: Vec<FileChange>,
}

/// Counts per outcome, for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Created.
    pub added: usize,
    /// Replaced by the new template's content.
    pub updated: usize,
    /// Merged cleanly.
    pub merged: usize,
    /// Deleted.
    pub deleted: usize,
    /// Left with conflicts.
    pub conflicts: usize,
    /// Left alone, reported.
    pub skipped: usize,
}

impl MergePlan {
    /// Counts per outcome.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for change in &self.changes {
            match change.outcome {
                Outcome::Added => c.added += 1,
                Outcome::Updated => c.updated += 1,
                Outcome::Merged => c.merged += 1,
                Outcome::Deleted => c.deleted += 1,
                Outcome::Conflict(_) => c.conflicts += 1,
                Outcome::Skipped(_) => c.skipped += 1,
            }
        }
        c
    }

    /// Writes the plan into `project`. Directories are created as needed;
    /// directories left empty by a deletion are removed.
    pub fn apply(&self, project: &Path) -> Result<(), MergeError> {
        for change in &self.changes {
            for write in &change.writes {
                match write {
                    Write::File { path, entry } => write_file(&project.join(path), entry)?,
                    Write::Remove { path } => {
                        let full = project.join(path);
                        std::fs::remove_file(&full).map_err(io("remove", &full))?;
                        remove_empty_parents(project, path);
                    }
                }
            }
        }
        Ok(())
    }
}

fn write_file(path: &Path, entry: &FileEntry) -> Result<(), MergeError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io("create directory", parent))?;
    }
    std::fs::write(path, &entry.bytes).map_err(io("write", path))?;
    set_executable(path, entry.executable)
}

#[cfg(unix)]
fn set_executable(path: &Path, executable: bool) -> Result<(), MergeError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(io("stat", path))?;
    let mut perms = meta.permissions();
    let mode = perms.mode();
    let new = if executable {
        // x wherever r is, as git checks out 100755 files
        mode | ((mode & 0o444) >> 2)
    } else {
        mode & !0o111
    };
    if new != mode {
        perms.set_mode(new);
        std::fs::set_permissions(path, perms).map_err(io("chmod", path))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn set_executable(_path: &Path, _executable: bool) -> Result<(), MergeError> {
    Ok(())
}

fn remove_empty_parents(project: &Path, rel: &Path) {
    let mut dir = rel.parent();
    while let Some(d) = dir {
        if d.as_os_str().is_empty() {
            break;
        }
        // Fails (and stops) at the first directory that is not empty.
        if std::fs::remove_dir(project.join(d)).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// Plans the merge of the template's change from `base` to `theirs` into
/// the project at `project`. Reads the project's files that the template
/// produces; writes nothing.
pub fn plan(
    base: &Snapshot,
    theirs: &Snapshot,
    project: &Path,
    opts: &MergeOptions,
) -> Result<MergePlan, MergeError> {
    let paths: BTreeSet<&PathBuf> = base.files.keys().chain(theirs.files.keys()).collect();
    let mut changes = Vec::new();
    for rel in paths {
        let full = project.join(rel);
        let ours = match read_file(&full)? {
            Some(f) => Ours::File(f),
            None if std::fs::symlink_metadata(&full).is_ok() => Ours::Other,
            None => Ours::Missing,
        };
        if let Some(change) =
            merge_file(rel, base.files.get(rel), theirs.files.get(rel), &ours, opts)
        {
            changes.push(change);
        }
    }
    Ok(MergePlan { changes })
}

/// What the project has at a path.
#[derive(Debug, Clone)]
pub enum Ours {
    /// A regular file.
    File(FileEntry),
    /// Nothing.
    Missing,
    /// A directory, symlink or other non-file.
    Other,
}

/// Decides one file. `None`: nothing to do.
pub fn merge_file(
    rel: &Path,
    base: Option<&FileEntry>,
    theirs: Option<&FileEntry>,
    ours: &Ours,
    opts: &MergeOptions,
) -> Option<FileChange> {
    let change = |outcome, writes| {
        Some(FileChange {
            path: rel.to_path_buf(),
            outcome,
            writes,
        })
    };
    let put = |entry: &FileEntry| Write::File {
        path: rel.to_path_buf(),
        entry: entry.clone(),
    };
    if base == theirs {
        return None; // the template did not change this file
    }
    let ours_file = match ours {
        Ours::File(f) => Some(f),
        Ours::Missing => None,
        Ours::Other => return change(Outcome::Skipped(SkipReason::NotAFile), vec![]),
    };
    match (base, theirs, ours_file) {
        (_, Some(t), Some(o)) if o == t => None, // already what the template wants
        (None, None, _) => None,
        // The template removed the file.
        (Some(_), None, None) => None,
        (Some(b), None, Some(o)) if o.bytes == b.bytes => change(
            Outcome::Deleted,
            vec![Write::Remove {
                path: rel.to_path_buf(),
            }],
        ),
        (Some(_), None, Some(_)) => change(Outcome::Skipped(SkipReason::ModifiedInProject), vec![]),
        // The template added the file.
        (None, Some(t), None) => change(Outcome::Added, vec![put(t)]),
        (None, Some(t), Some(o)) => merge_both_changed(rel, &FileEntry::new(""), t, o, opts),
        // The template changed the file.
        (Some(_), Some(_), None) => change(Outcome::Skipped(SkipReason::DeletedInProject), vec![]),
        (Some(b), Some(t), Some(o)) if o.bytes == b.bytes => {
            // The project kept the old content; a mode change the user made
            // survives only if the template did not change the mode itself.
            let executable = if o.executable != b.executable && t.executable == b.executable {
                o.executable
            } else {
                t.executable
            };
            let entry = FileEntry {
                bytes: t.bytes.clone(),
                executable,
            };
            if entry == *o {
                return None;
            }
            change(Outcome::Updated, vec![put(&entry)])
        }
        (Some(b), Some(t), Some(o)) => merge_both_changed(rel, b, t, o, opts),
    }
}

/// Both the project and the template changed the file (or both added it).
fn merge_both_changed(
    rel: &Path,
    base: &FileEntry,
    theirs: &FileEntry,
    ours: &FileEntry,
    opts: &MergeOptions,
) -> Option<FileChange> {
    // The mode: whichever side changed it wins; the project if both did.
    let executable = if ours.executable != base.executable {
        ours.executable
    } else {
        theirs.executable
    };
    let with_suffix = |suffix: &str| {
        let mut name = rel.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    if base.is_binary() || theirs.is_binary() || ours.is_binary() {
        return Some(FileChange {
            path: rel.to_path_buf(),
            outcome: Outcome::Conflict(ConflictKind::Binary),
            writes: vec![Write::File {
                path: with_suffix(".new"),
                entry: theirs.clone(),
            }],
        });
    }
    let segments = merge_segments(&base.bytes, &ours.bytes, &theirs.bytes);
    let conflicts = segments
        .iter()
        .filter(|s| matches!(s, Segment::Conflict { .. }))
        .count();
    let file = |bytes: Vec<u8>| Write::File {
        path: rel.to_path_buf(),
        entry: FileEntry { bytes, executable },
    };
    if conflicts == 0 {
        let merged = join(&segments, Side::Ours);
        if merged == ours.bytes && executable == ours.executable {
            return None; // the project already had the template's change
        }
        return Some(FileChange {
            path: rel.to_path_buf(),
            outcome: Outcome::Merged,
            writes: vec![file(merged)],
        });
    }
    Some(match opts.conflict {
        ConflictMode::Inline => FileChange {
            path: rel.to_path_buf(),
            outcome: Outcome::Conflict(ConflictKind::Markers(conflicts)),
            writes: vec![file(with_markers(&segments, &opts.labels))],
        },
        ConflictMode::Rej => {
            let kept = join(&segments, Side::Ours);
            let rejected = join(&segments, Side::Theirs);
            let name = rel.to_string_lossy().replace('\\', "/");
            let patch = diffy::DiffOptions::new()
                .set_original_filename(format!("a/{name}"))
                .set_modified_filename(format!("b/{name}"))
                .create_patch_bytes(&kept, &rejected)
                .to_bytes();
            let mut writes = vec![Write::File {
                path: with_suffix(".rej"),
                entry: FileEntry::new(patch),
            }];
            if kept != ours.bytes || executable != ours.executable {
                writes.insert(0, file(kept));
            }
            FileChange {
                path: rel.to_path_buf(),
                outcome: Outcome::Conflict(ConflictKind::Rej(conflicts)),
                writes,
            }
        }
    })
}

/// A run of a three-way merge.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Text both sides agree on (after taking each side's clean changes).
    Clean(Vec<u8>),
    /// Colliding changes.
    Conflict {
        ours: Vec<u8>,
        base: Vec<u8>,
        theirs: Vec<u8>,
    },
}

#[derive(Clone, Copy)]
enum Side {
    Ours,
    Theirs,
}

/// A marker length no real file uses, so diffy's output can be split back
/// into segments without ambiguity.
const PARSE_MARKER_LEN: usize = 41;

/// Three-way merges the texts into clean and conflicting segments.
fn merge_segments(base: &[u8], ours: &[u8], theirs: &[u8]) -> Vec<Segment> {
    let merged = diffy::MergeOptions::new()
        .set_conflict_marker_length(PARSE_MARKER_LEN)
        .set_conflict_style(diffy::ConflictStyle::Diff3)
        .set_incomplete_hunk_style(diffy::IncompleteHunkStyle::Git)
        .merge_bytes(base, ours, theirs);
    let text = match merged {
        Ok(clean) => return vec![Segment::Clean(clean)],
        Err(with_markers) => with_markers,
    };
    let marker = |c: u8| -> Vec<u8> { std::iter::repeat_n(c, PARSE_MARKER_LEN).collect() };
    let (open, mid, sep, close) = (marker(b'<'), marker(b'|'), marker(b'='), marker(b'>'));
    let is = |line: &[u8], m: &[u8]| {
        line.starts_with(m) && matches!(line.get(m.len()), None | Some(b' ' | b'\n' | b'\r'))
    };
    enum State {
        Clean,
        Ours,
        Base,
        Theirs,
    }
    let mut segments = Vec::new();
    let mut state = State::Clean;
    let (mut clean, mut o, mut b, mut t) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for line in text.split_inclusive(|c| *c == b'\n') {
        match state {
            State::Clean if is(line, &open) => {
                if !clean.is_empty() {
                    segments.push(Segment::Clean(std::mem::take(&mut clean)));
                }
                state = State::Ours;
            }
            State::Clean => clean.extend_from_slice(line),
            State::Ours if is(line, &mid) => state = State::Base,
            State::Ours => o.extend_from_slice(line),
            State::Base if is(line, &sep) => state = State::Theirs,
            State::Base => b.extend_from_slice(line),
            State::Theirs if is(line, &close) => {
                segments.push(Segment::Conflict {
                    ours: std::mem::take(&mut o),
                    base: std::mem::take(&mut b),
                    theirs: std::mem::take(&mut t),
                });
                state = State::Clean;
            }
            State::Theirs => t.extend_from_slice(line),
        }
    }
    if !clean.is_empty() {
        segments.push(Segment::Clean(clean));
    }
    // With the git style, diffy adds a newline after a last line that had
    // none before writing a marker; only a conflict at the very end of the
    // file can hold such a line. Take it back out.
    if let Some(Segment::Conflict {
        ours: so,
        base: sb,
        theirs: st,
    }) = segments.last_mut()
    {
        for (section, original) in [(so, ours), (sb, base), (st, theirs)] {
            if !original.ends_with(b"\n") && section.ends_with(b"\n") {
                section.pop();
            }
        }
    }
    segments
}

/// The file with every conflict resolved to one side.
fn join(segments: &[Segment], side: Side) -> Vec<u8> {
    let mut out = Vec::new();
    for s in segments {
        match (s, side) {
            (Segment::Clean(text), _) => out.extend_from_slice(text),
            (Segment::Conflict { ours, .. }, Side::Ours) => out.extend_from_slice(ours),
            (Segment::Conflict { theirs, .. }, Side::Theirs) => out.extend_from_slice(theirs),
        }
    }
    out
}

/// The file with git-style diff3 conflict markers.
fn with_markers(segments: &[Segment], labels: &Labels) -> Vec<u8> {
    let mut out = Vec::new();
    let section = |out: &mut Vec<u8>, text: &[u8]| {
        out.extend_from_slice(text);
        if !text.is_empty() && !text.ends_with(b"\n") {
            out.push(b'\n');
        }
    };
    for s in segments {
        match s {
            Segment::Clean(text) => out.extend_from_slice(text),
            Segment::Conflict { ours, base, theirs } => {
                out.extend_from_slice(format!("<<<<<<< {}\n", labels.ours).as_bytes());
                section(&mut out, ours);
                out.extend_from_slice(format!("||||||| {}\n", labels.base).as_bytes());
                section(&mut out, base);
                out.extend_from_slice(b"=======\n");
                section(&mut out, theirs);
                out.extend_from_slice(format!(">>>>>>> {}\n", labels.theirs).as_bytes());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> FileEntry {
        FileEntry::new(s)
    }

    fn decide(base: Option<&str>, theirs: Option<&str>, ours: Option<&str>) -> Option<FileChange> {
        decide_with(base, theirs, ours, &MergeOptions::default())
    }

    fn decide_with(
        base: Option<&str>,
        theirs: Option<&str>,
        ours: Option<&str>,
        opts: &MergeOptions,
    ) -> Option<FileChange> {
        let ours = match ours {
            Some(s) => Ours::File(f(s)),
            None => Ours::Missing,
        };
        merge_file(
            Path::new("a.txt"),
            base.map(f).as_ref(),
            theirs.map(f).as_ref(),
            &ours,
            opts,
        )
    }

    fn written(change: &FileChange, path: &str) -> String {
        change
            .writes
            .iter()
            .find_map(|w| match w {
                Write::File { path: p, entry } if p == Path::new(path) => {
                    Some(String::from_utf8(entry.bytes.clone()).unwrap())
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("{path} not written: {change:?}"))
    }

    const BASE: &str = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n";

    #[test]
    fn unchanged_in_template_keeps_ours() {
        assert_eq!(decide(Some(BASE), Some(BASE), Some("mine\n")), None);
        assert_eq!(decide(Some(BASE), Some(BASE), None), None);
    }

    #[test]
    fn ours_equal_to_base_takes_theirs() {
        let c = decide(Some("a\n"), Some("b\n"), Some("a\n")).unwrap();
        assert_eq!(c.outcome, Outcome::Updated);
        assert_eq!(written(&c, "a.txt"), "b\n");
    }

    #[test]
    fn ours_already_equal_to_theirs_is_nothing() {
        assert_eq!(decide(Some("a\n"), Some("b\n"), Some("b\n")), None);
    }

    #[test]
    fn both_changed_apart_merges_cleanly() {
        let ours = BASE.replace("two", "TWO");
        let theirs = BASE.replace("six", "SIX");
        let c = decide(Some(BASE), Some(&theirs), Some(&ours)).unwrap();
        assert_eq!(c.outcome, Outcome::Merged);
        assert_eq!(
            written(&c, "a.txt"),
            "one\nTWO\nthree\nfour\nfive\nSIX\nseven\n"
        );
    }

    #[test]
    fn both_changed_same_line_leaves_markers() {
        let ours = BASE.replace("four", "four (mine)");
        let theirs = BASE.replace("four", "four (template)");
        let c = decide(Some(BASE), Some(&theirs), Some(&ours)).unwrap();
        assert_eq!(c.outcome, Outcome::Conflict(ConflictKind::Markers(1)));
        assert_eq!(
            written(&c, "a.txt"),
            "one\ntwo\nthree\n<<<<<<< project\nfour (mine)\n||||||| template (old)\nfour\n=======\nfour (template)\n>>>>>>> template (new)\nfive\nsix\nseven\n"
        );
    }

    #[test]
    fn conflict_at_end_without_newline_keeps_markers_on_their_own_lines() {
        let c = decide(Some("a\nb"), Some("a\nt"), Some("a\no")).unwrap();
        assert_eq!(
            written(&c, "a.txt"),
            "a\n<<<<<<< project\no\n||||||| template (old)\nb\n=======\nt\n>>>>>>> template (new)\n"
        );
    }

    #[test]
    fn rej_mode_keeps_ours_applies_clean_hunks_and_writes_rejects() {
        let opts = MergeOptions {
            conflict: ConflictMode::Rej,
            ..Default::default()
        };
        let ours = BASE.replace("one", "ONE").replace("four", "four (mine)");
        let theirs = BASE
            .replace("seven", "SEVEN")
            .replace("four", "four (template)");
        let c = decide_with(Some(BASE), Some(&theirs), Some(&ours), &opts).unwrap();
        assert_eq!(c.outcome, Outcome::Conflict(ConflictKind::Rej(1)));
        // the template's clean change (SEVEN) is in, the conflict keeps mine
        assert_eq!(
            written(&c, "a.txt"),
            "ONE\ntwo\nthree\nfour (mine)\nfive\nsix\nSEVEN\n"
        );
        let rej = written(&c, "a.txt.rej");
        assert!(rej.starts_with("--- a/a.txt\n+++ b/a.txt\n"), "{rej}");
        assert!(rej.contains("-four (mine)\n+four (template)\n"), "{rej}");
        assert!(!rej.contains("SEVEN\n+"), "{rej}");
    }

    #[test]
    fn rej_patch_applies_to_the_written_file() {
        let opts = MergeOptions {
            conflict: ConflictMode::Rej,
            ..Default::default()
        };
        let ours = BASE.replace("four", "4");
        let theirs = BASE.replace("four", "IV");
        let c = decide_with(Some(BASE), Some(&theirs), Some(&ours), &opts).unwrap();
        // ours is unchanged by the clean part, so only the .rej is written
        assert_eq!(c.writes.len(), 1);
        let rej = written(&c, "a.txt.rej");
        let patch = diffy::Patch::from_str(&rej).unwrap();
        assert_eq!(diffy::apply(&ours, &patch).unwrap(), theirs);
    }

    #[test]
    fn deleted_by_template_and_unmodified_is_deleted() {
        let c = decide(Some("a\n"), None, Some("a\n")).unwrap();
        assert_eq!(c.outcome, Outcome::Deleted);
        assert_eq!(
            c.writes,
            vec![Write::Remove {
                path: "a.txt".into()
            }]
        );
    }

    #[test]
    fn deleted_by_template_but_modified_is_kept_and_reported() {
        let c = decide(Some("a\n"), None, Some("mine\n")).unwrap();
        assert_eq!(c.outcome, Outcome::Skipped(SkipReason::ModifiedInProject));
        assert!(c.writes.is_empty());
    }

    #[test]
    fn deleted_on_both_sides_is_nothing() {
        assert_eq!(decide(Some("a\n"), None, None), None);
    }

    #[test]
    fn deleted_by_user_and_changed_by_template_is_reported() {
        let c = decide(Some("a\n"), Some("b\n"), None).unwrap();
        assert_eq!(c.outcome, Outcome::Skipped(SkipReason::DeletedInProject));
        assert!(c.writes.is_empty());
    }

    #[test]
    fn added_by_template_is_created() {
        let c = decide(None, Some("new\n"), None).unwrap();
        assert_eq!(c.outcome, Outcome::Added);
        assert_eq!(written(&c, "a.txt"), "new\n");
    }

    #[test]
    fn added_on_both_sides_differently_conflicts() {
        let c = decide(None, Some("theirs\n"), Some("ours\n")).unwrap();
        assert_eq!(c.outcome, Outcome::Conflict(ConflictKind::Markers(1)));
        assert!(written(&c, "a.txt").contains("<<<<<<< project\nours\n"));
    }

    #[test]
    fn added_on_both_sides_identically_is_nothing() {
        assert_eq!(decide(None, Some("same\n"), Some("same\n")), None);
    }

    #[test]
    fn binary_conflict_keeps_ours_and_writes_new() {
        let base = FileEntry::new(b"\x00\x01base".to_vec());
        let theirs = FileEntry::new(b"\x00\x01theirs".to_vec());
        let ours = Ours::File(FileEntry::new(b"\x00\x01ours".to_vec()));
        let c = merge_file(
            Path::new("logo.png"),
            Some(&base),
            Some(&theirs),
            &ours,
            &MergeOptions::default(),
        )
        .unwrap();
        assert_eq!(c.outcome, Outcome::Conflict(ConflictKind::Binary));
        assert_eq!(
            c.writes,
            vec![Write::File {
                path: "logo.png.new".into(),
                entry: theirs
            }]
        );
    }

    #[test]
    fn binary_unmodified_by_user_is_updated() {
        let base = FileEntry::new(b"\x00old".to_vec());
        let theirs = FileEntry::new(b"\x00new".to_vec());
        let ours = Ours::File(base.clone());
        let c = merge_file(
            Path::new("b.bin"),
            Some(&base),
            Some(&theirs),
            &ours,
            &MergeOptions::default(),
        )
        .unwrap();
        assert_eq!(c.outcome, Outcome::Updated);
    }

    #[test]
    fn directory_where_template_has_a_file_is_skipped() {
        let c = merge_file(
            Path::new("a.txt"),
            Some(&f("a\n")),
            Some(&f("b\n")),
            &Ours::Other,
            &MergeOptions::default(),
        )
        .unwrap();
        assert_eq!(c.outcome, Outcome::Skipped(SkipReason::NotAFile));
    }

    #[test]
    fn mode_change_in_template_is_taken() {
        let base = f("#!/bin/sh\n");
        let theirs = FileEntry {
            bytes: b"#!/bin/sh\n".to_vec(),
            executable: true,
        };
        let c = merge_file(
            Path::new("run.sh"),
            Some(&base),
            Some(&theirs),
            &Ours::File(base.clone()),
            &MergeOptions::default(),
        )
        .unwrap();
        assert_eq!(c.outcome, Outcome::Updated);
        assert_eq!(
            c.writes,
            vec![Write::File {
                path: "run.sh".into(),
                entry: theirs
            }]
        );
    }

    #[test]
    fn plan_and_apply_on_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let project = tmp.path();
        std::fs::create_dir_all(project.join("docs")).unwrap();
        std::fs::write(project.join("keep.txt"), "k\n").unwrap();
        std::fs::write(project.join("docs/old.md"), "old\n").unwrap();
        std::fs::write(project.join("mine.txt"), "only mine\n").unwrap();
        let snap = |files: &[(&str, &str)]| Snapshot {
            files: files
                .iter()
                .map(|(p, c)| (PathBuf::from(p), f(c)))
                .collect(),
        };
        let base = snap(&[("keep.txt", "k\n"), ("docs/old.md", "old\n")]);
        let theirs = snap(&[("keep.txt", "k2\n"), ("src/new.rs", "fn main() {}\n")]);
        let plan = plan(&base, &theirs, project, &MergeOptions::default()).unwrap();
        assert_eq!(
            plan.counts(),
            Counts {
                added: 1,
                updated: 1,
                deleted: 1,
                ..Default::default()
            }
        );
        plan.apply(project).unwrap();
        assert_eq!(
            std::fs::read_to_string(project.join("keep.txt")).unwrap(),
            "k2\n"
        );
        assert_eq!(
            std::fs::read_to_string(project.join("src/new.rs")).unwrap(),
            "fn main() {}\n"
        );
        assert!(!project.join("docs").exists(), "empty docs/ removed");
        assert_eq!(
            std::fs::read_to_string(project.join("mine.txt")).unwrap(),
            "only mine\n"
        );
        // a second plan against the now-updated project has nothing to do
        let again = super::plan(&base, &theirs, project, &MergeOptions::default()).unwrap();
        assert!(again.changes.is_empty(), "{:?}", again.changes);
    }

    #[test]
    fn snapshot_skips_git_and_idp() {
        let tmp = tempfile::tempdir().unwrap();
        for p in [".git/config", ".idp/answers.yaml", "a/.idp/x", "b.txt"] {
            let full = tmp.path().join(p);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, "x").unwrap();
        }
        let snap = Snapshot::read(tmp.path()).unwrap();
        let names: Vec<_> = snap
            .files
            .keys()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["a/.idp/x", "b.txt"]);
    }
}
