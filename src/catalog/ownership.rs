//! `who-owns`: the owner of an entity with everything needed to reach them
//! (display name, email, chat, members, parent groups), and the mapping from a
//! checkout or git remote to the entity it belongs to, with CODEOWNERS as the
//! fallback. Live data (who is on call) is an overlay the integrations layer
//! adds through [`OwnerReport::live`]; nothing here does I/O beyond reading
//! the local repository.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::error::LookupError;
use super::model::{Entity, Link};
use super::refs::EntityRef;
use super::relations::RelationType;
use super::Catalog;
use crate::confine::{ConfineError, Root, RootKind};

/// How to reach someone.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Contact {
    /// `email`, `chat`, `oncall`, `link`.
    pub kind: String,
    /// Address or URL.
    pub value: String,
    /// Human label (`#team-payments`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A member of the owning group.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// Full reference.
    #[serde(rename = "ref")]
    pub entity_ref: String,
    /// Display name.
    pub display_name: String,
    /// Email, when the profile has one.
    pub email: Option<String>,
}

/// A group above the owner.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSummary {
    /// Full reference.
    #[serde(rename = "ref")]
    pub entity_ref: String,
    /// Display name.
    pub display_name: String,
    /// Email.
    pub email: Option<String>,
    /// `spec.type` (team, department, …).
    #[serde(rename = "type")]
    pub group_type: Option<String>,
}

/// The owner of an entity.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerInfo {
    /// Full reference (`group:default/payments`).
    #[serde(rename = "ref")]
    pub entity_ref: String,
    /// Lowercase kind (`group` or `user`).
    pub kind: String,
    /// Whether the owner exists in the catalog (a dangling owner is still shown).
    pub exists: bool,
    /// Display name.
    pub display_name: String,
    /// Email.
    pub email: Option<String>,
    /// Ways to reach the owner, best first.
    pub contacts: Vec<Contact>,
    /// Direct members (users), for a group.
    pub members: Vec<Member>,
    /// Parent chain, nearest first.
    pub parents: Vec<GroupSummary>,
}

/// A Group or User asked about: the entity itself seen as an owner.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AsOwner {
    /// Who it is: contacts, members (a group) and parent chain.
    #[serde(flatten)]
    pub info: OwnerInfo,
    /// The groups a user belongs to (a group: empty).
    pub member_of: Vec<GroupSummary>,
    /// What it owns directly (its `ownerOf` relations), sorted by reference.
    pub owns: Vec<OwnedEntity>,
}

/// One entity an owner owns.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnedEntity {
    /// Full reference.
    #[serde(rename = "ref")]
    pub entity_ref: String,
    /// Title or name.
    pub title: String,
}

/// How the entity was found.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "by", rename_all = "camelCase")]
pub enum MatchedBy {
    /// The entity argument named it.
    Name,
    /// An annotation matched the repository.
    Annotation {
        /// Annotation key.
        key: String,
        /// Its value.
        value: String,
    },
    /// No entity matched; a CODEOWNERS rule of the repository did.
    Codeowners {
        /// The CODEOWNERS file, relative to the repository.
        file: String,
        /// Line of the rule.
        line: usize,
        /// The rule's pattern.
        pattern: String,
    },
}

/// The answer for one entity.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReport {
    /// Full reference of the entity asked about (`None` for a CODEOWNERS answer).
    pub entity: Option<String>,
    /// Its title or name (the path, for a CODEOWNERS answer).
    pub title: String,
    /// How it was found.
    pub matched: MatchedBy,
    /// Its owner; `None` when `spec.owner` is missing (always for a Group
    /// or User, which own rather than are owned: see `as_owner`).
    pub owner: Option<OwnerInfo>,
    /// For a Group or User: its members, parents or groups, and what it owns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_owner: Option<AsOwner>,
    /// Further owners (a CODEOWNERS rule may name several).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub additional_owners: Vec<OwnerInfo>,
    /// Other entities of the same repository, when several matched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_matches: Vec<String>,
    /// Live outcomes of the entity by integration, filled by the
    /// integrations layer when it is configured; empty otherwise.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub live: BTreeMap<String, Value>,
    /// Who is on call now for the entity (or, failing that, its owner):
    /// `{name, email, level, until}`. Empty when nobody is or PagerDuty is
    /// not configured; `live_status` then says why.
    pub oncall: Vec<Value>,
    /// Why `oncall` is empty, when it is (snake_case: the live-data
    /// contract spells it so).
    #[serde(rename = "live_status", skip_serializing_if = "Option::is_none")]
    pub live_status: Option<String>,
    /// Where `oncall` came from, when it is not empty: `{entity,
    /// integration, via: "entity" | "owner", own}` (`own`: why the entity's
    /// own lookup gave nobody, when `via` is `owner`).
    #[serde(rename = "oncall_source", skip_serializing_if = "Option::is_none")]
    pub oncall_source: Option<Value>,
    /// The latest activity live data knows of: last commit, last deploy.
    #[serde(rename = "latest_activity", skip_serializing_if = "Option::is_none")]
    pub latest_activity: Option<Value>,
    /// Whether live data was asked for (integrations configured), so the
    /// human view shows the on-call lines only then.
    #[serde(skip)]
    pub live_configured: bool,
}

/// The owner report of one entity.
pub fn report(catalog: &Catalog, entity: &Entity, matched: MatchedBy) -> OwnerReport {
    let owner = entity
        .related(RelationType::OwnedBy)
        .next()
        .map(|r| owner_info(catalog, r));
    OwnerReport {
        entity: Some(entity.entity_ref().to_string()),
        title: entity.display_name().to_string(),
        matched,
        owner,
        as_owner: as_owner(catalog, entity),
        additional_owners: Vec::new(),
        other_matches: Vec::new(),
        live: BTreeMap::new(),
        oncall: Vec::new(),
        live_status: None,
        oncall_source: None,
        latest_activity: None,
        live_configured: false,
    }
}

/// The owner report for a path with no matching entity, from CODEOWNERS.
pub fn codeowners_report(catalog: &Catalog, path: &str, rule: CodeownersMatch) -> OwnerReport {
    let mut owners = rule
        .owners
        .iter()
        .map(|o| match codeowner_entity(catalog, o) {
            Some(e) => owner_info(catalog, &e.entity_ref()),
            None => OwnerInfo {
                entity_ref: o.clone(),
                kind: "codeowner".into(),
                exists: false,
                display_name: o.clone(),
                email: o
                    .contains('@')
                    .then(|| o.clone())
                    .filter(|m| !m.starts_with('@')),
                contacts: Vec::new(),
                members: Vec::new(),
                parents: Vec::new(),
            },
        });
    let owner = owners.next();
    OwnerReport {
        entity: None,
        title: path.to_string(),
        matched: MatchedBy::Codeowners {
            file: rule.file,
            line: rule.line,
            pattern: rule.pattern,
        },
        owner,
        as_owner: None,
        additional_owners: owners.collect(),
        other_matches: Vec::new(),
        live: BTreeMap::new(),
        oncall: Vec::new(),
        live_status: None,
        oncall_source: None,
        latest_activity: None,
        live_configured: false,
    }
}

/// Everything about an owner reference.
pub fn owner_info(catalog: &Catalog, owner: &EntityRef) -> OwnerInfo {
    let Some(entity) = catalog.get(owner) else {
        return OwnerInfo {
            entity_ref: owner.to_string(),
            kind: owner.kind.clone(),
            exists: false,
            display_name: owner.name.clone(),
            email: None,
            contacts: Vec::new(),
            members: Vec::new(),
            parents: Vec::new(),
        };
    };
    let email = entity.profile_str("email").map(str::to_string);
    let mut members: Vec<Member> = entity
        .related(RelationType::HasMember)
        .map(|m| {
            let user = catalog.get(m);
            Member {
                entity_ref: m.to_string(),
                display_name: user.map_or(m.name.clone(), |u| u.display_name().to_string()),
                email: user
                    .and_then(|u| u.profile_str("email"))
                    .map(str::to_string),
            }
        })
        .collect();
    members.sort_by(|a, b| {
        a.display_name
            .to_lowercase()
            .cmp(&b.display_name.to_lowercase())
    });
    OwnerInfo {
        entity_ref: entity.entity_ref().to_string(),
        kind: entity.kind_key(),
        exists: true,
        display_name: entity.display_name().to_string(),
        contacts: contacts(entity),
        email,
        members,
        parents: parent_chain(catalog, entity),
    }
}

/// A Group or User as an owner: who it is, its groups, what it owns.
fn as_owner(catalog: &Catalog, entity: &Entity) -> Option<AsOwner> {
    let kind = entity.kind_key();
    if kind != "group" && kind != "user" {
        return None;
    }
    let member_of = entity
        .related(RelationType::MemberOf)
        .map(|g| {
            let group = catalog.get(g);
            GroupSummary {
                entity_ref: g.to_string(),
                display_name: group.map_or(g.name.clone(), |e| e.display_name().to_string()),
                email: group
                    .and_then(|e| e.profile_str("email"))
                    .map(str::to_string),
                group_type: group.and_then(|e| e.spec_str("type")).map(str::to_string),
            }
        })
        .collect();
    let mut owns: Vec<OwnedEntity> = entity
        .related(RelationType::OwnerOf)
        .map(|r| OwnedEntity {
            entity_ref: r.to_string(),
            title: catalog.title_of(r),
        })
        .collect();
    owns.sort_by(|a, b| a.entity_ref.cmp(&b.entity_ref));
    owns.dedup_by(|a, b| a.entity_ref == b.entity_ref);
    Some(AsOwner {
        info: owner_info(catalog, &entity.entity_ref()),
        member_of,
        owns,
    })
}

/// Email, chat channels and on-call links of an entity, from its profile,
/// links and the annotations chat tools use.
pub fn contacts(entity: &Entity) -> Vec<Contact> {
    let mut out = Vec::new();
    if let Some(email) = entity.profile_str("email") {
        out.push(Contact {
            kind: "email".into(),
            value: email.into(),
            label: None,
        });
    }
    for (key, kind) in [
        ("slack.com/channel", "chat"),
        ("slack.com/channel-name", "chat"),
        ("msteams.microsoft.com/channel", "chat"),
        ("idp.dev/chat", "chat"),
    ] {
        if let Some(v) = entity.annotation(key) {
            out.push(Contact {
                kind: kind.into(),
                value: v.into(),
                label: None,
            });
        }
    }
    for link in entity.links() {
        if let Some(kind) = link_contact_kind(&link) {
            out.push(Contact {
                kind: kind.into(),
                value: link.url.clone(),
                label: link.title.clone(),
            });
        }
    }
    out
}

fn link_contact_kind(link: &Link) -> Option<&'static str> {
    let is = |v: &Option<String>, words: &[&str]| {
        v.as_deref()
            .is_some_and(|s| words.iter().any(|w| s.eq_ignore_ascii_case(w)))
    };
    if is(&link.kind, &["chat", "slack", "teams"]) || is(&link.icon, &["chat", "slack"]) {
        Some("chat")
    } else if is(&link.kind, &["oncall", "on-call", "pagerduty"]) {
        Some("oncall")
    } else if link.url.starts_with("mailto:") {
        Some("email")
    } else {
        None
    }
}

/// Parent groups, nearest first, stopping at a cycle.
fn parent_chain(catalog: &Catalog, entity: &Entity) -> Vec<GroupSummary> {
    let mut out = Vec::new();
    let mut seen = HashSet::from([entity.entity_ref().key()]);
    let mut current = entity.related(RelationType::ChildOf).next().cloned();
    while let Some(parent) = current {
        if !seen.insert(parent.key()) {
            break;
        }
        let group = catalog.get(&parent);
        out.push(GroupSummary {
            entity_ref: parent.to_string(),
            display_name: group.map_or(parent.name.clone(), |g| g.display_name().to_string()),
            email: group
                .and_then(|g| g.profile_str("email"))
                .map(str::to_string),
            group_type: group.and_then(|g| g.spec_str("type")).map(str::to_string),
        });
        current = group.and_then(|g| g.related(RelationType::ChildOf).next().cloned());
    }
    out
}

/// A git remote reduced to host and `owner/repo`, lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoId {
    /// Host (`github.com`).
    pub host: String,
    /// `owner/repo` (further path segments kept for GitLab subgroups).
    pub slug: String,
}

impl RepoId {
    /// Parses `https://host/owner/repo(.git)`, `ssh://git@host/owner/repo`,
    /// `git@host:owner/repo.git`, and Backstage's `url:` prefix. Paths after
    /// `/tree/<branch>/` or `/blob/<branch>/` are dropped.
    pub fn parse(remote: &str) -> Option<RepoId> {
        let s = remote.trim().trim_start_matches("url:");
        let (host, path) = if let Some((_, rest)) = s.split_once("://") {
            let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
            rest.split_once('/')?
        } else if let Some((head, path)) = s.split_once(':') {
            let host = head.rsplit_once('@').map_or(head, |(_, h)| h);
            (host, path)
        } else {
            return None;
        };
        let host = host.split(':').next()?.to_ascii_lowercase();
        let mut parts: Vec<&str> = Vec::new();
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            if matches!(seg, "tree" | "blob" | "-" | "src") && parts.len() >= 2 {
                break;
            }
            parts.push(seg);
        }
        if parts.len() < 2 {
            return None;
        }
        let last = parts.len() - 1;
        parts[last] = parts[last].trim_end_matches(".git");
        Some(RepoId {
            host,
            slug: parts.join("/").to_ascii_lowercase(),
        })
    }
}

/// Annotations that tie an entity to its repository.
const REPO_ANNOTATIONS: &[&str] = &[
    "github.com/project-slug",
    "backstage.io/source-location",
    "backstage.io/managed-by-location",
    "gitlab.com/project-slug",
];

/// Entities whose repository annotations point at `repo`.
pub fn entities_for_repo<'a>(catalog: &'a Catalog, repo: &RepoId) -> Vec<(&'a Entity, MatchedBy)> {
    let mut out = Vec::new();
    for entity in &catalog.entities {
        for key in REPO_ANNOTATIONS {
            let Some(value) = entity.annotation(key) else {
                continue;
            };
            let hit = if key.ends_with("project-slug") {
                value
                    .trim()
                    .trim_end_matches(".git")
                    .eq_ignore_ascii_case(&repo.slug)
            } else {
                RepoId::parse(value).is_some_and(|r| r == *repo)
            };
            if hit {
                out.push((
                    entity,
                    MatchedBy::Annotation {
                        key: key.to_string(),
                        value: value.to_string(),
                    },
                ));
                break;
            }
        }
    }
    // The repository's own entities first: prefer Components, then the rest.
    out.sort_by_key(|(e, _)| !e.kind.eq_ignore_ascii_case("component"));
    out
}

/// A CODEOWNERS rule that matched.
#[derive(Debug, Clone, Serialize)]
pub struct CodeownersMatch {
    /// The CODEOWNERS file, relative to the repository.
    pub file: String,
    /// Its line.
    pub line: usize,
    /// The pattern.
    pub pattern: String,
    /// Owners as written (`@acme/payments`, `jane@acme.com`).
    pub owners: Vec<String>,
}

/// The last CODEOWNERS rule matching `rel` (a path in the repository; for a
/// directory, anything inside it), as GitHub applies them. The file is read
/// only inside the repository: one that resolves outside it (a symlink to
/// elsewhere) is an error, never read.
pub fn codeowners(
    workdir: &Path,
    rel: &str,
    is_dir: bool,
) -> Result<Option<CodeownersMatch>, ConfineError> {
    let root = Root::new(workdir, RootKind::Repository)?;
    let mut found_file = None;
    for f in [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"] {
        match root.metadata(f) {
            Ok(m) if m.is_file() => {
                found_file = Some(f);
                break;
            }
            Err(e) if e.is_refused() => return Err(e),
            _ => {}
        }
    }
    let Some(file) = found_file else {
        return Ok(None);
    };
    let Ok(text) = root.read_to_string(file) else {
        return Ok(None);
    };
    Ok(codeowners_rule(file, &text, rel, is_dir))
}

fn codeowners_rule(file: &str, text: &str, rel: &str, is_dir: bool) -> Option<CodeownersMatch> {
    let probe = match (is_dir, rel.is_empty()) {
        (true, true) => "_".to_string(),
        (true, false) => format!("{rel}/_"),
        (false, _) => rel.to_string(),
    };
    let mut found = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.split(" #").next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let Some(pattern) = words.next() else {
            continue;
        };
        if codeowners_pattern_matches(pattern, &probe) {
            found = Some(CodeownersMatch {
                file: file.to_string(),
                line: i + 1,
                pattern: pattern.to_string(),
                owners: words.map(str::to_string).collect(),
            });
        }
    }
    found
}

/// gitignore-style matching as CODEOWNERS uses it.
fn codeowners_pattern_matches(pattern: &str, path: &str) -> bool {
    let anchored = pattern.starts_with('/') || pattern.trim_end_matches('/').contains('/');
    let mut glob = pattern.trim_start_matches('/').to_string();
    if glob.ends_with('/') {
        glob.push_str("**");
    }
    if !anchored {
        glob = format!("**/{glob}");
    }
    let build = |g: &str| {
        globset::GlobBuilder::new(g)
            .literal_separator(true)
            .build()
            .map(|g| g.compile_matcher())
    };
    // A pattern naming a directory also owns what is inside it.
    [glob.clone(), format!("{glob}/**")]
        .iter()
        .filter_map(|g| build(g).ok())
        .any(|m| m.is_match(path))
}

/// The catalog entity a CODEOWNERS owner stands for: `@org/team` → the group
/// with that `github.com/team-slug` or name; `@user` → the user with that name
/// or `github.com/user-login`; an email → the user or group with that email.
pub fn codeowner_entity<'a>(catalog: &'a Catalog, owner: &str) -> Option<&'a Entity> {
    if let Some(handle) = owner.strip_prefix('@') {
        if let Some((_, team)) = handle.split_once('/') {
            return catalog
                .of_kind("group")
                .find(|g| {
                    g.annotation("github.com/team-slug")
                        .is_some_and(|s| s.eq_ignore_ascii_case(handle))
                })
                .or_else(|| {
                    catalog
                        .of_kind("group")
                        .find(|g| g.name.eq_ignore_ascii_case(team))
                });
        }
        return catalog
            .of_kind("user")
            .find(|u| {
                u.annotation("github.com/user-login")
                    .is_some_and(|s| s.eq_ignore_ascii_case(handle))
            })
            .or_else(|| {
                catalog
                    .of_kind("user")
                    .find(|u| u.name.eq_ignore_ascii_case(handle))
            });
    }
    catalog
        .entities
        .iter()
        .filter(|e| e.kind.eq_ignore_ascii_case("user") || e.kind.eq_ignore_ascii_case("group"))
        .find(|e| {
            e.profile_str("email")
                .is_some_and(|m| m.eq_ignore_ascii_case(owner))
        })
}

/// `who-owns <git remote URL>`: the entities whose annotations name it.
pub fn for_remote(catalog: &Catalog, url: &str) -> Result<OwnerReport, LookupError> {
    let no_match = || LookupError::NoMatchForRepo {
        target: url.to_string(),
        remote: String::new(),
    };
    let repo = RepoId::parse(url).ok_or_else(no_match)?;
    best_report(catalog, entities_for_repo(catalog, &repo)).ok_or_else(no_match)
}

/// `who-owns <path>`: the entity whose annotations name the git remote of the
/// repository containing `path`, else the repository's CODEOWNERS rule.
pub fn for_path(catalog: &Catalog, path: &Path) -> Result<OwnerReport, LookupError> {
    let shown = path.display().to_string();
    let repo = git2::Repository::discover(path).map_err(|_| LookupError::NoMatchForRepo {
        target: shown.clone(),
        remote: " (it is not inside a git repository)".into(),
    })?;
    let workdir = repo
        .workdir()
        .and_then(|w| w.canonicalize().ok())
        .ok_or_else(|| LookupError::NoMatchForRepo {
            target: shown.clone(),
            remote: " (the repository has no working tree)".into(),
        })?;
    let abs = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let rel = super::snapshot::relative(&workdir, &abs);
    let remote = remote_url(&repo);
    if let Some(id) = remote.as_deref().and_then(RepoId::parse) {
        if let Some(report) = best_report(catalog, entities_for_repo(catalog, &id)) {
            return Ok(report);
        }
    }
    let rule =
        codeowners(&workdir, &rel, abs.is_dir()).map_err(|e| LookupError::NoMatchForRepo {
            target: shown.clone(),
            remote: format!(" (and its CODEOWNERS is not read: {e})"),
        })?;
    if let Some(rule) = rule {
        let label = if rel.is_empty() {
            shown.clone()
        } else {
            rel.clone()
        };
        return Ok(codeowners_report(catalog, &label, rule));
    }
    Err(LookupError::NoMatchForRepo {
        target: shown,
        remote: match remote {
            Some(r) => format!(" (remote {r}); no CODEOWNERS rule matches either"),
            None => " (the repository has no remote and no CODEOWNERS)".into(),
        },
    })
}

fn remote_url(repo: &git2::Repository) -> Option<String> {
    let remotes = repo.remotes().ok()?;
    let name = if remotes.iter().flatten().any(|r| r == "origin") {
        "origin".to_string()
    } else {
        remotes.iter().flatten().next()?.to_string()
    };
    repo.find_remote(&name).ok()?.url().map(str::to_string)
}

fn best_report(catalog: &Catalog, matches: Vec<(&Entity, MatchedBy)>) -> Option<OwnerReport> {
    let mut iter = matches.into_iter();
    let (entity, matched) = iter.next()?;
    let mut r = report(catalog, entity, matched);
    r.other_matches = iter.map(|(e, _)| e.entity_ref().to_string()).collect();
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_remotes() {
        let want = Some(RepoId {
            host: "github.com".into(),
            slug: "acme/checkout".into(),
        });
        assert_eq!(RepoId::parse("git@github.com:acme/checkout.git"), want);
        assert_eq!(RepoId::parse("https://github.com/acme/checkout"), want);
        assert_eq!(
            RepoId::parse("ssh://git@github.com:22/acme/checkout.git"),
            want
        );
        assert_eq!(
            RepoId::parse("url:https://github.com/Acme/checkout/tree/main/"),
            want
        );
        assert_eq!(RepoId::parse("https://github.com/acme"), None);
    }

    #[test]
    fn codeowners_patterns() {
        assert!(codeowners_pattern_matches("*", "a/b/c"));
        assert!(codeowners_pattern_matches("/docs/", "docs/x.md"));
        assert!(!codeowners_pattern_matches("/docs/", "src/docs.md"));
        assert!(codeowners_pattern_matches("docs/", "a/docs/x"));
        assert!(codeowners_pattern_matches("*.rs", "src/main.rs"));
        assert!(codeowners_pattern_matches(
            "/services/pay",
            "services/pay/_"
        ));
    }
}
