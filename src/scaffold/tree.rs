//! Rendering a directory of template files into a destination directory:
//! templated file and directory names, file contents, verbatim copies
//! (`_copy_without_render` / `copyWithoutTemplating`, binary files),
//! permissions, and — for cookiecutter — its newline handling. Every output
//! path is checked to stay inside the destination, and every template file
//! is read through the template directory's [`Root`]: a symlink in the
//! template may point inside it (cookiecutter follows those), never out.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use minijinja::Value;
use regex::Regex;

use super::binary;
use super::error::ScaffoldError;
use super::paths::contained;
use super::render::{Dialect, Renderer};
use crate::confine::Root;

/// How a tree is rendered.
#[derive(Debug, Clone)]
pub struct TreeOptions {
    /// Globs (relative to the template directory, unrendered names) of files
    /// and directories copied as they are. Cookiecutter: fnmatch semantics
    /// (`*` crosses `/`); Backstage: glob semantics (`**` crosses `/`).
    pub copy_without_render: Vec<String>,
    /// Render file and directory names.
    pub templated_names: bool,
    /// Copy binary files without rendering them.
    pub binary_passthrough: bool,
}

impl Default for TreeOptions {
    fn default() -> Self {
        TreeOptions {
            copy_without_render: Vec::new(),
            templated_names: true,
            binary_passthrough: true,
        }
    }
}

/// Renders every file under `src` (a directory inside the template
/// directory `root`) into `dest` (which must exist). Returns the files
/// written, relative to `dest`, in walk order.
pub fn render_tree(
    r: &Renderer,
    root: &Root,
    src: &Path,
    dest: &Path,
    ctx: &serde_json::Value,
    opts: &TreeOptions,
) -> Result<Vec<PathBuf>, ScaffoldError> {
    let src = root
        .resolve(src)
        .map_err(|e| ScaffoldError::confined(format!("template directory {}", src.display()), e))?;
    let walker = Walker {
        r,
        root,
        dest,
        ctx: r.context_value(ctx),
        copy_only: CopyOnly::new(r.dialect(), &opts.copy_without_render)?,
        opts,
        newline: configured_newline(r.dialect(), ctx),
    };
    let mut written = Vec::new();
    walker.walk(&src, "", &mut written)?;
    Ok(written)
}

/// Cookiecutter's `_new_lines`: a fixed newline for every rendered file.
fn configured_newline(dialect: Dialect, ctx: &serde_json::Value) -> Option<String> {
    if dialect != Dialect::Cookiecutter {
        return None;
    }
    ctx.get("cookiecutter")
        .and_then(|c| c.get("_new_lines"))
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

struct Walker<'a> {
    r: &'a Renderer,
    root: &'a Root,
    dest: &'a Path,
    ctx: Value,
    copy_only: CopyOnly,
    opts: &'a TreeOptions,
    newline: Option<String>,
}

impl Walker<'_> {
    fn walk(&self, dir: &Path, rel: &str, written: &mut Vec<PathBuf>) -> Result<(), ScaffoldError> {
        let mut entries: Vec<(String, PathBuf, fs::FileType)> = self
            .root
            .read_dir(dir)
            .map_err(|e| ScaffoldError::confined(format!("template directory {rel}"), e))?
            .into_iter()
            .map(|e| (e.name.to_string_lossy().into_owned(), e.path, e.file_type))
            .collect();
        entries.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        let mut dirs = Vec::new();
        let mut files = Vec::new();
        for (name, path, file_type) in entries {
            let child_rel = join_rel(rel, &name);
            let is_dir = if file_type.is_symlink() {
                let target = self.check_link(&path, &child_rel)?;
                target.is_dir()
            } else {
                file_type.is_dir()
            };
            if is_dir {
                dirs.push((child_rel, path, file_type.is_symlink()));
            } else {
                files.push((child_rel, path));
            }
        }
        // Directories first, then files, as cookiecutter's os.walk loop does.
        for (child_rel, path, is_link) in dirs {
            if self.copy_only.matches(&child_rel) {
                let out_rel = self.render_name(&child_rel)?;
                let out = self.output_path(&child_rel, &out_rel)?;
                copy_dir_verbatim(self.root, &path, &out, &self.dest_rel(&out), written)?;
                continue;
            }
            let out_rel = self.render_name(&child_rel)?;
            if out_rel
                .rsplit('/')
                .next()
                .is_some_and(|n| n.trim().is_empty())
            {
                return Err(ScaffoldError::UnsafePath {
                    what: format!("directory {child_rel}"),
                    path: out_rel,
                    reason: "the directory name renders empty".into(),
                });
            }
            let out = self.output_path(&child_rel, &out_rel)?;
            fs::create_dir_all(&out).map_err(|e| ScaffoldError::io(&out, e))?;
            // os.walk does not descend into symlinked directories.
            if !is_link {
                self.walk(&path, &child_rel, written)?;
            }
        }
        for (child_rel, path) in files {
            self.file(&child_rel, &path, written)?;
        }
        Ok(())
    }

    fn file(
        &self,
        rel: &str,
        path: &Path,
        written: &mut Vec<PathBuf>,
    ) -> Result<(), ScaffoldError> {
        let out_rel = self.render_name(rel)?;
        if out_rel.is_empty() || out_rel.ends_with('/') {
            return Ok(()); // a name that renders empty means "skip this file"
        }
        let out = self.output_path(rel, &out_rel)?;
        if out.is_dir() {
            return Ok(());
        }
        let (bytes, mode) = self
            .root
            .read_with_mode(path)
            .map_err(|e| ScaffoldError::confined(format!("template entry {rel}"), e))?;
        let mode = mode & 0o7777;
        let verbatim = self.copy_only.matches(rel)
            || (self.opts.binary_passthrough && binary::is_binary(Path::new(rel), &bytes));
        let content = if verbatim {
            bytes
        } else {
            self.render_content(rel, path, bytes)?
        };
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent).map_err(|e| ScaffoldError::io(parent, e))?;
        }
        fs::write(&out, &content).map_err(|e| ScaffoldError::io(&out, e))?;
        fs::set_permissions(&out, fs::Permissions::from_mode(mode))
            .map_err(|e| ScaffoldError::io(&out, e))?;
        written.push(self.dest_rel(&out));
        Ok(())
    }

    fn render_content(
        &self,
        rel: &str,
        path: &Path,
        bytes: Vec<u8>,
    ) -> Result<Vec<u8>, ScaffoldError> {
        let text = String::from_utf8(bytes).map_err(|_| ScaffoldError::InvalidTemplate {
            path: path.to_path_buf(),
            message:
                "not UTF-8 text and not detected as binary; add it to the copy-without-render globs"
                    .into(),
        })?;
        if self.r.dialect() != Dialect::Cookiecutter {
            let out = self
                .r
                .render_with(&format!("file {rel}"), &text, self.ctx.clone())?;
            return Ok(out.into_bytes());
        }
        // Jinja2 reads every newline of a template as "\n"; cookiecutter then
        // writes the file with the newline of the template's first line.
        let newline = self
            .newline
            .clone()
            .unwrap_or_else(|| detect_newline(text.as_bytes()).to_string());
        let normalized = normalize_newlines(&text);
        let out = self
            .r
            .render_with(&format!("file {rel}"), &normalized, self.ctx.clone())?;
        Ok(if newline == "\n" {
            out.into_bytes()
        } else {
            out.replace('\n', &newline).into_bytes()
        })
    }

    fn render_name(&self, rel: &str) -> Result<String, ScaffoldError> {
        if !self.opts.templated_names {
            return Ok(rel.to_string());
        }
        self.r
            .render_with(&format!("name {rel}"), rel, self.ctx.clone())
    }

    fn output_path(&self, rel: &str, out_rel: &str) -> Result<PathBuf, ScaffoldError> {
        contained(self.dest, out_rel).map_err(|reason| ScaffoldError::UnsafePath {
            what: rel.to_string(),
            path: out_rel.to_string(),
            reason,
        })
    }

    fn dest_rel(&self, out: &Path) -> PathBuf {
        out.strip_prefix(self.dest).unwrap_or(out).to_path_buf()
    }

    /// A symlink in the template must point inside the template.
    fn check_link(&self, path: &Path, rel: &str) -> Result<PathBuf, ScaffoldError> {
        self.root
            .resolve(path)
            .map_err(|e| ScaffoldError::confined(format!("template entry {rel}"), e))
    }
}

fn join_rel(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_string()
    } else {
        format!("{rel}/{name}")
    }
}

/// `shutil.copytree`: contents, names and modes as they are; symlinks are
/// followed (as copytree does) only when they stay inside the template.
fn copy_dir_verbatim(
    root: &Root,
    src: &Path,
    out: &Path,
    out_rel: &Path,
    written: &mut Vec<PathBuf>,
) -> Result<(), ScaffoldError> {
    let refused = |e| ScaffoldError::confined(format!("template entry {}", src.display()), e);
    fs::create_dir_all(out).map_err(|e| ScaffoldError::io(out, e))?;
    for entry in root.read_dir(src).map_err(refused)? {
        let name = entry.name.as_os_str();
        let target = out.join(name);
        let refused =
            |e| ScaffoldError::confined(format!("template entry {}", entry.path.display()), e);
        let meta = root.metadata(&entry.path).map_err(refused)?;
        if meta.is_dir() {
            copy_dir_verbatim(root, &entry.path, &target, &out_rel.join(name), written)?;
        } else {
            let bytes = root.read(&entry.path).map_err(refused)?;
            fs::write(&target, bytes).map_err(|e| ScaffoldError::io(&target, e))?;
            fs::set_permissions(
                &target,
                fs::Permissions::from_mode(meta.permissions().mode()),
            )
            .map_err(|e| ScaffoldError::io(&target, e))?;
            written.push(out_rel.join(name));
        }
    }
    let mode = root.metadata(src).map_err(refused)?.permissions().mode();
    fs::set_permissions(out, fs::Permissions::from_mode(mode & 0o7777))
        .map_err(|e| ScaffoldError::io(out, e))?;
    Ok(())
}

/// "\r\n" and "\r" become "\n", as Jinja2's lexer reads templates.
pub fn normalize_newlines(s: &str) -> String {
    if !s.contains('\r') {
        return s.to_string();
    }
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// The newline Python's `open(…).readline()` reports in `f.newlines` for this
/// file: the kinds seen in the chunks read until the first line ended (the
/// first of them when mixed, in Python's order "\r", "\n", "\r\n"), or
/// "\n" when there is none.
pub fn detect_newline(bytes: &[u8]) -> &'static str {
    const CHUNK: usize = 8192;
    let mut end = 0;
    let decoded_end = loop {
        end = (end + CHUNK).min(bytes.len());
        // A "\r" at the end of a chunk waits for the next one (it may be "\r\n").
        let upto = if end < bytes.len() && bytes[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        if bytes[..upto].iter().any(|b| *b == b'\n' || *b == b'\r') || end == bytes.len() {
            break upto;
        }
    };
    let data = &bytes[..decoded_end];
    let (mut cr, mut lf, mut crlf) = (false, false, false);
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'\r' if data.get(i + 1) == Some(&b'\n') => {
                crlf = true;
                i += 1;
            }
            b'\r' => cr = true,
            b'\n' => lf = true,
            _ => {}
        }
        i += 1;
    }
    if cr {
        "\r"
    } else if lf {
        "\n"
    } else if crlf {
        "\r\n"
    } else {
        "\n"
    }
}

/// Which unrendered paths are copied verbatim.
enum CopyOnly {
    None,
    Fnmatch(Vec<Regex>),
    Glob(globset::GlobSet),
}

impl CopyOnly {
    fn new(dialect: Dialect, patterns: &[String]) -> Result<Self, ScaffoldError> {
        if patterns.is_empty() {
            return Ok(CopyOnly::None);
        }
        match dialect {
            Dialect::Cookiecutter => Ok(CopyOnly::Fnmatch(
                patterns
                    .iter()
                    .map(|p| {
                        Regex::new(&fnmatch_to_regex(p)).map_err(|e| ScaffoldError::InvalidValue {
                            name: "_copy_without_render".into(),
                            message: format!("bad pattern {p:?}: {e}"),
                        })
                    })
                    .collect::<Result<_, _>>()?,
            )),
            Dialect::Backstage => {
                let mut b = globset::GlobSetBuilder::new();
                for p in patterns {
                    let p = p.trim_start_matches("./");
                    let glob = globset::GlobBuilder::new(p)
                        .literal_separator(true)
                        .build()
                        .map_err(|e| ScaffoldError::InvalidValue {
                            name: "copyWithoutTemplating".into(),
                            message: format!("bad glob {p:?}: {e}"),
                        })?;
                    b.add(glob);
                }
                Ok(CopyOnly::Glob(b.build().map_err(|e| {
                    ScaffoldError::InvalidValue {
                        name: "copyWithoutTemplating".into(),
                        message: e.to_string(),
                    }
                })?))
            }
        }
    }

    fn matches(&self, rel: &str) -> bool {
        match self {
            CopyOnly::None => false,
            CopyOnly::Fnmatch(res) => res.iter().any(|re| re.is_match(rel)),
            CopyOnly::Glob(set) => set.is_match(rel),
        }
    }
}

/// Python's `fnmatch.translate`: `*` any run (including `/`), `?` one
/// character, `[…]` / `[!…]` sets; everything else literal; anchored.
pub fn fnmatch_to_regex(pat: &str) -> String {
    let chars: Vec<char> = pat.chars().collect();
    let mut out = String::from("(?s)^");
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' => {
                while i < chars.len() && chars[i] == '*' {
                    i += 1;
                }
                out.push_str(".*");
            }
            '?' => out.push('.'),
            '[' => {
                let mut j = i;
                if j < chars.len() && chars[j] == '!' {
                    j += 1;
                }
                if j < chars.len() && chars[j] == ']' {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    out.push_str("\\[");
                } else {
                    let body: String = chars[i..j].iter().collect();
                    i = j + 1;
                    let (neg, body) = match body.strip_prefix('!') {
                        Some(rest) => (true, rest.to_string()),
                        None => (false, body),
                    };
                    let escaped: String = body
                        .chars()
                        .map(|c| match c {
                            '\\' | '[' | ']' | '^' | '&' | '~' => format!("\\{c}"),
                            c => c.to_string(),
                        })
                        .collect();
                    out.push('[');
                    if neg {
                        out.push('^');
                    }
                    out.push_str(&escaped);
                    out.push(']');
                }
            }
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push('$');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_semantics() {
        let m = |p: &str, s: &str| Regex::new(&fnmatch_to_regex(p)).unwrap().is_match(s);
        assert!(m("*.html", "a/b/c.html"));
        assert!(m("static/*", "static/x/y.js"));
        assert!(!m("static/*", "other/static/x"));
        assert!(m("file?.txt", "file1.txt"));
        assert!(m("[!a]*", "b.txt"));
        assert!(!m("[!a]*", "a.txt"));
        assert!(m("{a,b}", "{a,b}"));
    }

    #[test]
    fn newline_detection_follows_python() {
        assert_eq!(detect_newline(b"a\r\nb\r\n"), "\r\n");
        assert_eq!(detect_newline(b"a\nb\r\n"), "\n");
        assert_eq!(detect_newline(b"no newline"), "\n");
        assert_eq!(detect_newline(b"a\rb"), "\r");
    }
}
