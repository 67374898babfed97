//! Backstage's template filters, as the scaffolder backend defines them
//! (`plugins/scaffolder-backend/src/lib/templating/filters`): `parseRepoUrl`,
//! `parseEntityRef`, `pick` and `projectSlug`, plus Nunjucks' `dump` (JSON
//! text) that Backstage templates use everywhere. Nunjucks prints `null` as
//! nothing, so the Backstage renderer does too.

use minijinja::value::Kwargs;
use minijinja::{Error, ErrorKind, Value};
use serde_json::{Map, Value as Json};

use crate::scaffold::extensions::{over_limit, MAX_INDENT};
use crate::scaffold::render::Renderer;

/// The kind of source-control integration a host belongs to: it decides
/// which `repoUrl` query parameters are required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostType {
    /// GitHub and GitHub Enterprise (the default): `owner` and `repo`.
    Github,
    /// GitLab: `owner` and `repo`, or `project`.
    Gitlab,
    /// Bitbucket: `project` and `repo` (and `workspace` on bitbucket.org).
    Bitbucket,
    /// Azure DevOps: `project` and `repo`.
    Azure,
    /// Gitea: `repo`.
    Gitea,
    /// Gerrit: `repo`.
    Gerrit,
}

impl HostType {
    /// Guesses the integration from the host name, as Backstage's default
    /// integrations do (`github.com`, `gitlab.com`, `bitbucket.org`,
    /// `dev.azure.com`); other hosts are taken for GitHub Enterprise unless
    /// their name says otherwise.
    pub fn of_host(host: &str) -> HostType {
        let h = host.to_ascii_lowercase();
        if h.contains("gitlab") {
            HostType::Gitlab
        } else if h.contains("bitbucket") {
            HostType::Bitbucket
        } else if h.contains("dev.azure.com") || h.contains("visualstudio.com") {
            HostType::Azure
        } else if h.contains("gitea") {
            HostType::Gitea
        } else if h.contains("gerrit") {
            HostType::Gerrit
        } else {
            HostType::Github
        }
    }

    /// The action suffix of `publish:<type>`.
    pub fn name(self) -> &'static str {
        match self {
            HostType::Github => "github",
            HostType::Gitlab => "gitlab",
            HostType::Bitbucket => "bitbucket",
            HostType::Azure => "azure",
            HostType::Gitea => "gitea",
            HostType::Gerrit => "gerrit",
        }
    }
}

/// A parsed `repoUrl` (`github.com?owner=acme&repo=x`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoSpec {
    /// Host, with its port if any.
    pub host: String,
    /// `owner` (GitHub, GitLab).
    pub owner: Option<String>,
    /// `repo`.
    pub repo: String,
    /// `organization` (Azure).
    pub organization: Option<String>,
    /// `workspace` (Bitbucket Cloud).
    pub workspace: Option<String>,
    /// `project` (Bitbucket, Azure, GitLab project id).
    pub project: Option<String>,
    /// The integration the host belongs to.
    pub host_type: HostType,
}

impl RepoSpec {
    /// Parses a repo URL as Backstage's `parseRepoUrl` does: `https://` is
    /// put in front, the query names the parts, and the parts the host's
    /// integration needs must be present.
    pub fn parse(repo_url: &str) -> Result<RepoSpec, String> {
        let parsed = url::Url::parse(&format!("https://{repo_url}"))
            .map_err(|e| format!("invalid repo URL {repo_url:?}: {e}"))?;
        let host = match (parsed.host_str(), parsed.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => return Err(format!("invalid repo URL {repo_url:?}: no host")),
        };
        let param = |name: &str| {
            parsed
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim_matches('/').to_string())
        };
        let host_type = HostType::of_host(&host);
        let spec = RepoSpec {
            owner: param("owner"),
            repo: param("repo").unwrap_or_default(),
            organization: param("organization"),
            workspace: param("workspace"),
            project: param("project"),
            host,
            host_type,
        };
        let needed: &[&str] = match host_type {
            HostType::Bitbucket if spec.host == "www.bitbucket.org" => {
                &["workspace", "project", "repo"]
            }
            HostType::Bitbucket | HostType::Azure => &["project", "repo"],
            HostType::Gitlab if spec.project.is_some() => &[],
            HostType::Gitea | HostType::Gerrit => &["repo"],
            HostType::Github | HostType::Gitlab => &["repo", "owner"],
        };
        for n in needed {
            if param(n).is_none_or(|v| v.is_empty()) {
                return Err(format!(
                    "invalid repo URL {repo_url:?}: missing {n} (expected e.g. {}?owner=acme&repo=my-service)",
                    spec.host
                ));
            }
        }
        Ok(spec)
    }

    /// The object `parseRepoUrl` returns: `host`, `repo` and whichever of
    /// `owner`, `organization`, `workspace`, `project` were given.
    pub fn to_json(&self) -> Json {
        let mut m = Map::new();
        m.insert("host".into(), Json::from(self.host.clone()));
        if let Some(o) = &self.owner {
            m.insert("owner".into(), Json::from(o.clone()));
        }
        m.insert("repo".into(), Json::from(self.repo.clone()));
        for (k, v) in [
            ("organization", &self.organization),
            ("workspace", &self.workspace),
            ("project", &self.project),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), Json::from(v.clone()));
            }
        }
        Json::Object(m)
    }

    /// `owner/repo` (Backstage's `projectSlug`).
    pub fn slug(&self) -> String {
        format!(
            "{}/{}",
            self.owner
                .as_deref()
                .or(self.workspace.as_deref())
                .or(self.project.as_deref())
                .unwrap_or_default(),
            self.repo
        )
    }
}

/// Parses `[kind:][namespace/]name` as `@backstage/catalog-model`'s
/// `parseEntityRef` does: parts kept as written, namespace `default`.
pub fn parse_entity_ref(
    text: &str,
    default_kind: Option<&str>,
    default_namespace: Option<&str>,
) -> Result<(String, String, String), String> {
    let (kind, namespace, name) = crate::catalog::refs::split_ref(text);
    let kind = kind.or(default_kind).filter(|k| !k.is_empty()).ok_or_else(|| {
        format!("entity reference {text:?} had missing or empty kind (e.g. did not start with \"component:\" or similar)")
    })?;
    let namespace = namespace.or(default_namespace).unwrap_or("default");
    if namespace.is_empty() || name.is_empty() || name.contains(['/', ':']) {
        return Err(format!(
            "entity reference {text:?} is malformed; expected [kind:][namespace/]name"
        ));
    }
    Ok((kind.to_string(), namespace.to_string(), name.to_string()))
}

/// A JSON value as a MiniJinja value.
pub fn mj(v: &Json) -> Value {
    Value::from(minijinja::value::Serde(v))
}

fn to_json(v: &Value) -> Result<Json, Error> {
    if v.is_undefined() || v.is_none() {
        return Ok(Json::Null);
    }
    serde_json::to_value(v).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))
}

fn invalid(msg: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg)
}

/// lodash `get`: `a.b[0].c` into a JSON value.
fn lodash_get<'a>(value: &'a Json, path: &str) -> Option<&'a Json> {
    let mut cur = value;
    for part in path
        .split(['.', '[', ']'])
        .filter(|p| !p.is_empty())
        .map(|p| p.trim_matches(['\'', '"']))
    {
        cur = match cur {
            Json::Object(m) => m.get(part)?,
            Json::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Adds Backstage's filters to a renderer (Backstage dialect, or the
/// cookiecutter-compatible one `fetch:template` uses).
pub fn install(r: &mut Renderer) {
    let env = r.env_mut();
    env.add_filter("parseRepoUrl", |url: String| -> Result<Value, Error> {
        let spec = RepoSpec::parse(&url).map_err(invalid)?;
        Ok(mj(&spec.to_json()))
    });
    env.add_filter("projectSlug", |url: String| -> Result<String, Error> {
        Ok(RepoSpec::parse(&url).map_err(invalid)?.slug())
    });
    env.add_filter(
        "parseEntityRef",
        |v: Value, context: Option<Value>| -> Result<Value, Error> {
            let ctx = match &context {
                Some(c) => to_json(c)?,
                None => Json::Null,
            };
            let dk = ctx.get("defaultKind").and_then(Json::as_str);
            let dn = ctx.get("defaultNamespace").and_then(Json::as_str);
            let (kind, namespace, name) = match to_json(&v)? {
                Json::String(s) => parse_entity_ref(&s, dk, dn).map_err(invalid)?,
                Json::Object(o) => {
                    let get = |k: &str| o.get(k).and_then(Json::as_str).map(str::to_string);
                    let name = get("name")
                        .ok_or_else(|| invalid("parseEntityRef: the object has no name".into()))?;
                    let kind = get("kind").or(dk.map(str::to_string)).ok_or_else(|| {
                        invalid(format!(
                            "parseEntityRef: {name:?} has no kind and no defaultKind was given"
                        ))
                    })?;
                    let ns = get("namespace")
                        .or(dn.map(str::to_string))
                        .unwrap_or_else(|| "default".into());
                    (kind, ns, name)
                }
                other => {
                    return Err(invalid(format!(
                        "parseEntityRef expects a string, got {other}"
                    )))
                }
            };
            Ok(mj(
                &serde_json::json!({ "kind": kind, "namespace": namespace, "name": name }),
            ))
        },
    );
    env.add_filter("pick", |v: Value, path: String| -> Result<Value, Error> {
        let json = to_json(&v)?;
        Ok(lodash_get(&json, &path).map(mj).unwrap_or(Value::from(())))
    });
    env.add_filter(
        "dump",
        |v: Value, indent: Option<Value>, _kw: Kwargs| -> Result<String, Error> {
            let json = to_json(&v)?;
            let indent = indent.and_then(|i| i64::try_from(i).ok()).unwrap_or(0);
            if indent > MAX_INDENT as i64 {
                return Err(over_limit("dump: indent", indent, MAX_INDENT));
            }
            if indent > 0 {
                let pad = b" ".repeat(indent as usize);
                let mut out = Vec::new();
                let fmt = serde_json::ser::PrettyFormatter::with_indent(&pad);
                let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
                serde::Serialize::serialize(&json, &mut ser).map_err(|e| invalid(e.to_string()))?;
                Ok(String::from_utf8_lossy(&out).into_owned())
            } else {
                Ok(json.to_string())
            }
        },
    );
    // Print values as JavaScript does (Nunjucks): null as nothing, booleans
    // as true/false, whole floats without `.0`.
    env.set_formatter(|out, state, value| {
        use minijinja::value::ValueKind;
        match value.kind() {
            ValueKind::None => Ok(()),
            ValueKind::Bool => {
                let b = value.is_true();
                out.write_str(if b { "true" } else { "false" })
                    .map_err(|e| Error::new(ErrorKind::WriteFailure, e.to_string()))
            }
            ValueKind::Number => match f64::try_from(value.clone()) {
                Ok(f) if value.as_i64().is_none() && f.fract() == 0.0 && f.abs() < 1e15 => out
                    .write_str(&format!("{}", f as i64))
                    .map_err(|e| Error::new(ErrorKind::WriteFailure, e.to_string())),
                _ => minijinja::escape_formatter(out, state, value),
            },
            _ => minijinja::escape_formatter(out, state, value),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scaffold::render::{Dialect, DEFAULT_FUEL};
    use serde_json::json;

    fn render(t: &str, ctx: Json) -> String {
        let mut r = Renderer::new(Dialect::Backstage, DEFAULT_FUEL);
        install(&mut r);
        r.render_str("t", t, &ctx).unwrap()
    }

    #[test]
    fn repo_url_parts_and_slug() {
        let ctx = json!({"u": "github.com?owner=acme&repo=svc"});
        assert_eq!(
            render(
                "${{ (u | parseRepoUrl).owner }}/${{ (u | parseRepoUrl).repo }}",
                ctx.clone()
            ),
            "acme/svc"
        );
        assert_eq!(render("${{ u | projectSlug }}", ctx), "acme/svc");
        assert!(RepoSpec::parse("github.com?repo=x")
            .unwrap_err()
            .contains("missing owner"));
        assert_eq!(
            RepoSpec::parse("gitlab.example.com?project=42")
                .unwrap()
                .host_type,
            HostType::Gitlab
        );
    }

    #[test]
    fn entity_ref_pick_and_dump() {
        let ctx = json!({"o": "group:payments", "t": "techdocs", "obj": {"a": {"b": [1, {"c": "x"}]}}, "n": null});
        assert_eq!(
            render("${{ (o | parseEntityRef).namespace }}", ctx.clone()),
            "default"
        );
        assert_eq!(
            render("${{ t | parseEntityRef({ 'defaultKind': 'group', 'defaultNamespace': 'ns' }) | dump }}", ctx.clone()),
            r#"{"kind":"group","namespace":"ns","name":"techdocs"}"#
        );
        assert_eq!(render("${{ obj | pick('a.b[1].c') }}", ctx.clone()), "x");
        assert_eq!(render("[${{ n }}]", ctx), "[]");
    }

    #[test]
    fn dump_refuses_a_huge_indent() {
        // Found by fuzzing (fuzz/regressions/backstage_render): a 100 GB
        // allocation that aborted idp.
        let mut r = Renderer::new(Dialect::Backstage, DEFAULT_FUEL);
        install(&mut r);
        let err = r
            .render_str("t", "${{ o | dump(99999999999) }}", &json!({"o": {"a": 1}}))
            .unwrap_err();
        assert!(err.to_string().contains("over idp's limit"), "{err}");
        assert_eq!(render("${{ o | dump(1) }}", json!({"o": [1]})), "[\n 1\n]");
    }
}
