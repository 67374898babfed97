//! Catalog-relative path arithmetic: resolving `./x` and `../y` against a
//! descriptor's directory without ever leaving the catalog root.

/// Resolves `target` relative to the directory of `file` (both
/// catalog-relative, `/`-separated). `None` when the result would leave the
/// catalog root. A leading `/` means the catalog root.
pub fn resolve_relative(file: &str, target: &str) -> Option<String> {
    let dir = file.rsplit_once('/').map_or("", |(d, _)| d);
    join_within(dir, target)
}

/// Joins and normalises `dir/path` (`..` allowed as long as it stays inside
/// the catalog; a leading `/` means the catalog root).
pub fn join_within(dir: &str, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = if path.starts_with('/') {
        Vec::new()
    } else {
        dir.split('/').filter(|s| !s.is_empty()).collect()
    };
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::resolve_relative;

    #[test]
    fn resolves_within_root() {
        assert_eq!(
            resolve_relative("a/b.yaml", "./c.yaml").as_deref(),
            Some("a/c.yaml")
        );
        assert_eq!(
            resolve_relative("a/b.yaml", "../c.yaml").as_deref(),
            Some("c.yaml")
        );
        assert_eq!(
            resolve_relative("b.yaml", "x/../y.yaml").as_deref(),
            Some("y.yaml")
        );
        assert_eq!(resolve_relative("b.yaml", "../y.yaml"), None);
        assert_eq!(
            resolve_relative("a/b.yaml", "/y.yaml").as_deref(),
            Some("y.yaml")
        );
    }
}
