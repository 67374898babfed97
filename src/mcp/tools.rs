//! The MCP tools: each one's name, description (written for an agent
//! deciding whether to call it), input schema (derived by schemars from the
//! same argument types clap parses for the command) and annotations, and
//! what it runs: the same function the command runs for its `-o json`, so
//! a tool's structured result is, byte for byte as JSON, the command's.
//! A command whose `-o json` is an array answers `{"result": [...]}`:
//! MCP structured content is an object.

use std::path::{Component, Path, PathBuf};

use rmcp::model::ToolAnnotations;
use schemars::gen::SchemaSettings;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::cli::{
    DiffArgs, GraphArgs, HistoryArgs, ImpactArgs, ListArgs, ScaffoldCreateArgs, ScaffoldShowArgs,
    ScoreArgs, ShowArgs, WhoOwnsArgs,
};
use crate::command_error::{CommandError, Result};
use crate::commands::{self, Context, UsageError};
use crate::output::score::ScoreReport;

use super::server::Server;

/// What a tool answers: the structured result and a short text for people
/// (and for clients that only show text).
pub struct Answer {
    /// The command's `-o json` (wrapped in `{"result": …}` when an array).
    pub structured: Value,
    /// A one-line summary.
    pub summary: String,
    /// More text blocks (the mermaid graph, a generated descriptor).
    pub more: Vec<String>,
}

/// One tool.
pub struct Tool {
    /// Its name.
    pub name: &'static str,
    /// A title for people.
    pub title: &'static str,
    /// When to use it, for the agent.
    pub description: &'static str,
    /// The JSON Schema of its arguments.
    pub schema: Value,
    /// Reads only (every tool but scaffold_create).
    pub read_only: bool,
    /// Runs it.
    pub run: fn(&Server, &Context, Value) -> Result<Answer>,
}

impl Tool {
    /// The annotations MCP clients show and decide on.
    pub fn annotations(&self) -> ToolAnnotations {
        ToolAnnotations::with_title(self.title)
            .read_only(self.read_only)
            .destructive(false)
            .idempotent(self.read_only)
            .open_world(false)
    }
}

/// The JSON Schema of `T`, inlined (no `$ref`s), without the Rust doc of
/// the type itself.
pub fn schema_of<T: JsonSchema>() -> Value {
    let settings = SchemaSettings::draft07().with(|s| {
        s.inline_subschemas = true;
    });
    let root = settings.into_generator().into_root_schema_for::<T>();
    let mut value = serde_json::to_value(root).expect("schemas serialize");
    if let Some(map) = value.as_object_mut() {
        for key in ["$schema", "title", "description", "definitions"] {
            map.remove(key);
        }
        let props = map.entry("properties").or_insert_with(|| json!({}));
        // A list argument also takes one value (agents write both).
        if let Some(props) = props.as_object_mut() {
            for prop in props.values_mut() {
                if prop["type"] == "array" {
                    let items = prop["items"].clone();
                    let description = prop.get("description").cloned();
                    let mut any = json!({"anyOf": [items, {"type": "array", "items": items}]});
                    if let Some(d) = description {
                        any["description"] = d;
                    }
                    *prop = any;
                }
            }
        }
    }
    value
}

/// Arguments as `T`: a field of the wrong shape is an invalid-input error
/// naming it (checked against the schema first, then by serde).
fn args<T: DeserializeOwned>(schema: &Value, value: Value) -> Result<T> {
    if let Ok(validator) = jsonschema::validator_for(schema) {
        let problems: Vec<String> = validator
            .iter_errors(&value)
            .take(5)
            .map(|e| {
                let at = e.instance_path.to_string();
                let at = at.trim_start_matches('/');
                if at.is_empty() {
                    format!("arguments: {e}")
                } else {
                    format!("{at}: {e}")
                }
            })
            .collect();
        if !problems.is_empty() {
            return Err(UsageError(format!("invalid arguments: {}", problems.join("; "))).into());
        }
    }
    serde_json::from_value(value).map_err(|e| UsageError(format!("invalid arguments: {e}")).into())
}

fn wrap(array: impl Serialize) -> Value {
    json!({ "result": array })
}

fn to_value(v: impl Serialize) -> Value {
    serde_json::to_value(v).expect("results serialize")
}

/// Every tool; `scaffold_create` only when the server may write.
pub fn all(write: bool) -> Vec<Tool> {
    let mut tools = vec![
        Tool {
            name: "who_owns",
            title: "Who owns this?",
            description: "Find who owns a service, API, resource or repository, and how to reach them: \
the owning team or person with contacts (email, Slack, ...), on-call when known from the cache, and \
other matches. Use this before changing someone else's code, to find who to ask or notify, or to \
answer 'whose is this?'. `target` is an entity reference or name (`checkout`, \
`component:default/checkout`, `api:checkout-api`), a path inside a service's git checkout, or a git \
remote URL. For a Group or User, answers what it owns and who its members are (`asOwner`).",
            schema: schema_of::<WhoOwnsArgs>(),
            read_only: true,
            run: who_owns,
        },
        Tool {
            name: "search_entities",
            title: "Search the catalog",
            description: "Find entities (components, APIs, resources, systems, domains, groups, users) \
in the software catalog. `query` is a fuzzy, typo-tolerant match on name, title and description, \
best match first; the filters (kind, owner, system, domain, lifecycle, type, tag, `where` \
conditions like `metadata.labels.tier=1`) narrow it down and combine with AND. Use this when you \
do not know an entity's exact name, or to list what a team owns or what a system contains. \
Returns at most `limit` entities (default 50), each with its full descriptor and `ref`; pass a \
`ref` to get_entity, impact or dependency_graph.",
            schema: schema_of::<ListArgs>(),
            read_only: true,
            run: search_entities,
        },
        Tool {
            name: "get_entity",
            title: "Get an entity",
            description: "Everything the catalog knows about one entity: its descriptor (metadata, \
spec, links, annotations), its relations in both directions (owner, system, APIs, dependencies, \
dependents), where it is defined (file and line), the level it reaches on each scorecard with \
every rule and, for failing ones, what to fix (`scorecards`), its cost last month when known, and \
its cached live facts (deployments, on-call, alerts) when the catalog configures integrations. Use \
this to understand a service before working on it. `ref` is a name or a reference like \
`component:default/checkout`.",
            schema: schema_of::<ShowArgs>(),
            read_only: true,
            run: get_entity,
        },
        Tool {
            name: "impact",
            title: "What depends on this?",
            description: "Everything that depends on an entity, transitively, with each dependent's \
depth, the path to it and its owner's contacts: who must be told before you change or remove \
this service, API or resource. Follows dependents, consumers of the APIs it provides, \
subcomponents, and the system and domain above it. `depth` limits the hops (default: all).",
            schema: schema_of::<ImpactArgs>(),
            read_only: true,
            run: impact,
        },
        Tool {
            name: "dependency_graph",
            title: "Dependency graph",
            description: "The neighbourhood of an entity: what it uses (direction `up`), what uses it \
(`down`) or both, `depth` hops each way (default 2). Returns the nodes and edges, and a mermaid \
flowchart to show the user. Use this to explain how a service fits into the architecture.",
            schema: schema_of::<GraphArgs>(),
            read_only: true,
            run: dependency_graph,
        },
        Tool {
            name: "entity_history",
            title: "Entity history",
            description: "The git commits that changed an entity's descriptor, newest first, field by \
field (owner, lifecycle, dependencies, ...), with author and date, following renames. Use this to \
find out when and by whom ownership or a dependency changed. `limit` caps the commits.",
            schema: schema_of::<HistoryArgs>(),
            read_only: true,
            run: entity_history,
        },
        Tool {
            name: "catalog_diff",
            title: "Catalog diff",
            description: "What changed in the catalog between two git revisions (`from`, and `to` or \
else the working tree): entities added, removed, changed field by field, and relations added or \
removed. Use this to review a catalog change or a pull request (`from`: `origin/main`).",
            schema: schema_of::<DiffArgs>(),
            read_only: true,
            run: catalog_diff,
        },
        Tool {
            name: "score",
            title: "Scorecards",
            description: "Does an entity meet the organisation's standards? Evaluates the catalog's \
scorecards (e.g. production readiness) and returns, per entity and scorecard, the level reached, \
every rule with whether it passed and, for failing rules, the message saying what to fix; plus \
the gate (passed or not). Use this before proposing a change to a descriptor or a service's setup, \
or to tell the user what to do to reach the next level. Give `entities` (or `entity`) to score \
only those, `scorecard` to pick scorecards.",
            schema: schema_of::<ScoreArgs>(),
            read_only: true,
            run: score,
        },
        Tool {
            name: "validate_descriptor",
            title: "Validate a descriptor",
            description: "Check a catalog-info.yaml you are about to write, without writing it: \
Backstage's own rules, reference formats, and against the catalog — the owner, system and \
dependencies it names exist, its name is not taken (duplicates). Returns errors and warnings \
with line and column, as `idp validate` does. `path` is where it would go in the catalog \
(default `catalog-info.yaml` at a new place); giving the path of an existing file checks the \
new text in place of that file.",
            schema: schema_of::<ValidateInput>(),
            read_only: true,
            run: validate_descriptor,
        },
        Tool {
            name: "list_templates",
            title: "List templates",
            description: "The project templates (golden paths) the catalog offers: Backstage Template \
entities and cookiecutter directories, with title, description, owner and tags. Use this when the \
user wants a new service, library or website, then describe_template and scaffold_preview.",
            schema: schema_of::<ListTemplatesInput>(),
            read_only: true,
            run: list_templates,
        },
        Tool {
            name: "describe_template",
            title: "Describe a template",
            description: "A template's parameters (cookiecutter variables or Backstage parameters: \
type, required, default, allowed values), its steps and hooks, and `schema`: the `values` object \
scaffold_preview and scaffold_create take, as a JSON Schema (type, enum, default, required, \
pattern, title, description). Use this to know which `values` to pass and to check them first.",
            schema: schema_of::<ScaffoldShowArgs>(),
            read_only: true,
            run: describe_template,
        },
        Tool {
            name: "scaffold_preview",
            title: "Preview a new project",
            description: "Render a template with `values` in memory and return what it would create: \
the file list and the answers, plus the generated catalog-info.yaml as text. Nothing is written \
and no template code (hooks, command steps) runs. Use this to check values before creating a \
project, or to show the user the catalog entry a new service would get.",
            schema: schema_of::<PreviewInput>(),
            read_only: true,
            run: scaffold_preview,
        },
    ];
    if write {
        tools.push(Tool {
            name: "scaffold_create",
            title: "Create a project",
            description: "Create a new project from a template, with `values`, in the directory \
`name` under the folder the server was allowed to write to (`idp mcp --allow-write DIR`); never \
anywhere else, never over an existing directory. Makes a first git commit; runs the template's \
hooks and command steps only if the server was started with --trust. Preview with \
scaffold_preview first.",
            schema: schema_of::<CreateInput>(),
            read_only: false,
            run: scaffold_create,
        });
    }
    tools
}

fn parse<T: DeserializeOwned>(server: &Server, name: &str, value: Value) -> Result<T> {
    let schema = server.tool(name).map(|t| &t.schema).expect("known tool");
    args(schema, value)
}

fn who_owns(server: &Server, ctx: &Context, value: Value) -> Result<Answer> {
    let a: WhoOwnsArgs = parse(server, "who_owns", value)?;
    let opened = server.catalogs.get(ctx)?;
    let answer = commands::who_owns::report(ctx, &opened, &a.target)?;
    let report = &answer.report;
    let summary = match (&report.entity, &report.owner, &report.as_owner) {
        (_, _, Some(_)) => format!("{} is an owner; see asOwner", a.target),
        (Some(e), Some(o), _) => format!(
            "{e} is owned by {}{}",
            o.entity_ref,
            match answer.cost.first() {
                Some(c) => format!("; cost {:.2} {} in {}", c.amount, c.currency, c.month),
                None => String::new(),
            }
        ),
        (Some(e), None, _) => format!("{e} has no owner in the catalog"),
        (None, _, _) => format!("no owner found for {}", a.target),
    };
    Ok(Answer {
        structured: to_value(&answer),
        summary,
        more: Vec::new(),
    })
}

fn search_entities(server: &Server, ctx: &Context, value: Value) -> Result<Answer> {
    let a: ListArgs = parse(server, "search_entities", value)?;
    let opened = server.catalogs.get(ctx)?;
    let entities = commands::list::select(ctx, &opened, &a)?;
    let refs: Vec<String> = entities
        .iter()
        .take(10)
        .map(|e| e.entity_ref().to_string())
        .collect();
    let summary = match entities.len() {
        0 => "no entity matches".to_string(),
        n => format!(
            "{n} entit{}: {}{}",
            if n == 1 { "y" } else { "ies" },
            refs.join(", "),
            if n > refs.len() { ", …" } else { "" }
        ),
    };
    Ok(Answer {
        structured: wrap(commands::list::json(&entities)),
        summary,
        more: Vec::new(),
    })
}

fn get_entity(server: &Server, ctx: &Context, value: Value) -> Result<Answer> {
    let a: ShowArgs = parse(server, "get_entity", value)?;
    let opened = server.catalogs.get(ctx)?;
    let entity = idp::catalog::resolve::resolve(&opened.catalog, &a.entity)?;
    let json = commands::show::json(ctx, &opened, entity)?;
    let owner = entity.spec_str("owner").unwrap_or("nobody");
    let levels: Vec<String> = json["scorecards"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            format!(
                "{}: {}",
                c["scorecard"].as_str().unwrap_or_default(),
                c["level"].as_str().unwrap_or("below the first level")
            )
        })
        .collect();
    let levels = if levels.is_empty() {
        String::new()
    } else {
        format!("; {}", levels.join(", "))
    };
    Ok(Answer {
        summary: format!("{} (owner: {owner}){levels}", entity.entity_ref()),
        structured: json,
        more: Vec::new(),
    })
}

fn impact(server: &Server, ctx: &Context, value: Value) -> Result<Answer> {
    let a: ImpactArgs = parse(server, "impact", value)?;
    let opened = server.catalogs.get(ctx)?;
    let (_, result) = commands::impact::dependents(&opened.catalog, &a)?;
    let mut owners: Vec<&str> = result
        .dependents
        .iter()
        .filter_map(|d| d.owner.as_deref())
        .collect();
    owners.sort_unstable();
    owners.dedup();
    Ok(Answer {
        summary: format!(
            "{} dependent{} of {}, owned by {}",
            result.dependents.len(),
            if result.dependents.len() == 1 {
                ""
            } else {
                "s"
            },
            result.entity,
            if owners.is_empty() {
                "nobody".to_string()
            } else {
                owners.join(", ")
            }
        ),
        structured: to_value(&result),
        more: Vec::new(),
    })
}

fn dependency_graph(server: &Server, ctx: &Context, value: Value) -> Result<Answer> {
    let a: GraphArgs = parse(server, "dependency_graph", value)?;
    let opened = server.catalogs.get(ctx)?;
    let (_, result) = commands::graph::walk(&opened.catalog, &a)?;
    let mut mermaid = Vec::new();
    crate::output::graph::mermaid(&mut mermaid, &result)?;
    Ok(Answer {
        summary: format!(
            "{}: {} nodes, {} edges{}",
            result.entity,
            result.nodes.len(),
            result.edges.len(),
            if result.has_cycle {
                ", with a cycle"
            } else {
                ""
            }
        ),
        structured: to_value(&result),
        more: vec![String::from_utf8_lossy(&mermaid).into_owned()],
    })
}

fn entity_history(server: &Server, ctx: &Context, value: Value) -> Result<Answer> {
    let a: HistoryArgs = parse(server, "entity_history", value)?;
    let (name, history) = commands::history::commits(ctx, &a)?;
    let summary = match history.entries.first() {
        Some(last) => format!(
            "{} commit{} changed {name}; the last on {} by {}: {}",
            history.entries.len(),
            if history.entries.len() == 1 { "" } else { "s" },
            last.date,
            last.author,
            last.summary
        ),
        None => format!("no commit changed {name}"),
    };
    Ok(Answer {
        structured: wrap(&history.entries),
        summary,
        more: Vec::new(),
    })
}

fn catalog_diff(server: &Server, ctx: &Context, value: Value) -> Result<Answer> {
    let a: DiffArgs = parse(server, "catalog_diff", value)?;
    let diff = commands::diff::changes(ctx, &a)?;
    Ok(Answer {
        summary: format!(
            "{} added, {} removed, {} changed, {} relations added, {} removed",
            diff.added.len(),
            diff.removed.len(),
            diff.changed.len(),
            diff.relations_added.len(),
            diff.relations_removed.len()
        ),
        structured: to_value(&diff),
        more: Vec::new(),
    })
}

fn score(server: &Server, ctx: &Context, value: Value) -> Result<Answer> {
    let a: ScoreArgs = parse(server, "score", value)?;
    let opened = server.catalogs.get(ctx)?;
    let scored = commands::score::scored(ctx, &a, Some(&opened))?;
    let report = ScoreReport {
        results: &scored.results,
        gate: &scored.gate,
    };
    let lines: Vec<String> = scored
        .results
        .iter()
        .take(10)
        .map(|r| {
            format!(
                "{} {}: {}",
                r.entity,
                r.scorecard,
                r.level.as_deref().unwrap_or("below the first level")
            )
        })
        .collect();
    Ok(Answer {
        summary: format!(
            "gate {}; {}{}",
            if scored.gate.passed {
                "passed"
            } else {
                "failed"
            },
            lines.join("; "),
            if scored.results.len() > lines.len() {
                "; …"
            } else {
                ""
            }
        ),
        structured: to_value(&report),
        more: Vec::new(),
    })
}

/// `validate_descriptor`'s arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ValidateInput {
    /// The descriptor's YAML text (one or more documents).
    pub yaml: String,
    /// Where it would be written in the catalog, relative to its root
    /// (default: catalog-info.yaml in a new directory).
    pub path: Option<String>,
}

fn validate_descriptor(server: &Server, ctx: &Context, value: Value) -> Result<Answer> {
    let a: ValidateInput = parse(server, "validate_descriptor", value)?;
    let opened = server.catalogs.get(ctx)?;
    let report = commands::validate::text_in_catalog(ctx, &opened, &a.yaml, a.path.as_deref())?;
    let first = report
        .errors
        .first()
        .map(|p| format!(": {}:{}:{} {}", p.file, p.line, p.column, p.message))
        .unwrap_or_default();
    Ok(Answer {
        summary: format!(
            "{} error{}, {} warning{}{first}",
            report.errors.len(),
            if report.errors.len() == 1 { "" } else { "s" },
            report.warnings.len(),
            if report.warnings.len() == 1 { "" } else { "s" },
        ),
        structured: to_value(&report),
        more: Vec::new(),
    })
}

/// `list_templates` takes no arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListTemplatesInput {}

fn list_templates(server: &Server, ctx: &Context, value: Value) -> Result<Answer> {
    let _: ListTemplatesInput = parse(server, "list_templates", value)?;
    let (templates, _) = commands::scaffold::templates(ctx)?;
    let names: Vec<&str> = templates.iter().map(|t| t.name.as_str()).collect();
    Ok(Answer {
        summary: format!("{} templates: {}", names.len(), names.join(", ")),
        structured: wrap(&templates),
        more: Vec::new(),
    })
}

fn describe_template(server: &Server, ctx: &Context, value: Value) -> Result<Answer> {
    let a: ScaffoldShowArgs = parse(server, "describe_template", value)?;
    let view = commands::scaffold::describe(ctx, &a.template)?;
    let names: Vec<&str> = if view.parameters.is_empty() {
        view.variables.iter().map(|v| v.name.as_str()).collect()
    } else {
        view.parameters.iter().map(|p| p.name.as_str()).collect()
    };
    let required: Vec<&str> = view.schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    Ok(Answer {
        summary: format!(
            "{} ({}): values {}{}; their JSON Schema is `schema`",
            view.name,
            view.kind,
            names.join(", "),
            if required.is_empty() {
                String::new()
            } else {
                format!(" (required: {})", required.join(", "))
            }
        ),
        structured: to_value(&view),
        more: Vec::new(),
    })
}

/// `scaffold_preview`'s arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PreviewInput {
    /// Template: a name from list_templates (or a Template entity reference).
    pub template: String,
    /// Values for the template's parameters or variables, by name
    /// (describe_template lists them); missing ones take their defaults.
    #[serde(default)]
    pub values: Map<String, Value>,
}

fn scaffold_preview(server: &Server, ctx: &Context, value: Value) -> Result<Answer> {
    let a: PreviewInput = parse(server, "scaffold_preview", value)?;
    // Rendered into a throwaway directory and read back into memory; the
    // target (where `idp scaffold` would write, from the server's working
    // directory) is never created.
    let args = create_args(a.template, None, true, false);
    let mut host = commands::scaffold::Host::in_memory(ctx);
    let created = commands::scaffold::create_project(&args, a.values, &mut host)?;
    let mut more = Vec::new();
    for (file, bytes) in created.files.iter().zip(&created.contents) {
        if file == "catalog-info.yaml" || file.ends_with("/catalog-info.yaml") {
            more.push(format!(
                "{file}:\n{}",
                String::from_utf8_lossy(bytes).into_owned()
            ));
        }
    }
    more.extend(host.kept.unwrap_or_default());
    Ok(Answer {
        summary: format!(
            "{} would create {} files in {}",
            created.template,
            created.files.len(),
            created.project
        ),
        structured: to_value(&created),
        more,
    })
}

/// `scaffold_create`'s arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateInput {
    /// Template: a name from list_templates (or a Template entity reference).
    pub template: String,
    /// Values for the template's parameters or variables, by name.
    #[serde(default)]
    pub values: Map<String, Value>,
    /// The new directory, one plain name (no `/`, no `..`), created under
    /// the folder the server may write to.
    pub name: String,
}

fn scaffold_create(server: &Server, ctx: &Context, value: Value) -> Result<Answer> {
    let a: CreateInput = parse(server, "scaffold_create", value)?;
    let Some(root) = &server.allow_write else {
        return Err(UsageError("scaffold_create needs idp mcp --allow-write DIR".into()).into());
    };
    let target = confined_target(root, &a.name)?;
    let args = create_args(a.template, Some(target), false, server.trust);
    let mut host = commands::scaffold::Host::in_memory(ctx);
    let created = commands::scaffold::create_project(&args, a.values, &mut host)?;
    Ok(Answer {
        summary: format!(
            "created {} ({} files) from {}{}",
            created.project,
            created.files.len(),
            created.template,
            if created.descriptor_failed() {
                "; its catalog-info.yaml has errors (see validation)"
            } else {
                ""
            }
        ),
        structured: to_value(&created),
        more: host.kept.unwrap_or_default(),
    })
}

/// `root/name`, when `name` is one plain directory name and nothing is
/// there yet: the only place scaffold_create may write.
fn confined_target(root: &Path, name: &str) -> Result<PathBuf> {
    let mut parts = Path::new(name).components();
    let plain = matches!(
        (parts.next(), parts.next()),
        (Some(Component::Normal(_)), None)
    ) && !name.contains(['/', '\\']);
    if !plain {
        return Err(UsageError(format!(
            "name: '{name}' is not a plain directory name (no '/', '..' or absolute paths)"
        ))
        .into());
    }
    let root = root.canonicalize().map_err(|e| {
        CommandError::from(UsageError(format!("--allow-write {}: {e}", root.display())))
    })?;
    let target = root.join(name);
    if std::fs::symlink_metadata(&target).is_ok() {
        return Err(UsageError(format!(
            "name: {} already exists; pick a new name",
            target.display()
        ))
        .into());
    }
    Ok(target)
}

/// `idp scaffold TEMPLATE [-d DIR] [--dry-run --diff] [--trust]` as a
/// parsed command line (off a terminal: nothing is asked).
fn create_args(
    template: String,
    dir: Option<PathBuf>,
    preview: bool,
    trust: bool,
) -> ScaffoldCreateArgs {
    let trust = trust && !preview;
    ScaffoldCreateArgs {
        template: Some(template),
        output_dir: dir,
        set: Vec::new(),
        values: Vec::new(),
        defaults: false,
        no_input: false,
        trust,
        force: false,
        overwrite: false,
        dry_run: preview,
        diff: preview,
        skip_unknown_actions: false,
        publish: false,
        register: false,
        push: false,
        no_git: false,
        // Python (the installed cookiecutter) only for trusted templates.
        engine: if trust {
            crate::cli::EngineArg::Auto
        } else {
            crate::cli::EngineArg::Idp
        },
        fuel: idp::scaffold::DEFAULT_FUEL,
        max_output_bytes: 100 * 1024 * 1024,
        output: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_is_an_object_schema() {
        for tool in all(true) {
            assert_eq!(tool.schema["type"], "object", "{}", tool.name);
            assert!(
                jsonschema::validator_for(&tool.schema).is_ok(),
                "{}",
                tool.name
            );
        }
    }

    #[test]
    fn the_cli_names_become_the_tool_names() {
        let s = schema_of::<ListArgs>();
        let props = s["properties"].as_object().unwrap();
        for key in ["query", "kind", "owner", "type", "where", "limit"] {
            assert!(props.contains_key(key), "{key}");
        }
        assert!(!props.contains_key("output"));
        let s = schema_of::<ImpactArgs>();
        assert_eq!(s["required"], json!(["ref"]));
    }

    #[test]
    fn a_depth_of_zero_names_the_field() {
        let schema = schema_of::<ImpactArgs>();
        let e = args::<ImpactArgs>(&schema, json!({"ref": "x", "depth": 0}))
            .err()
            .unwrap();
        assert!(e.error.to_string().contains("depth"), "{}", e.error);
    }

    #[test]
    fn only_a_plain_name_is_a_target() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["../x", "a/b", "/etc", "..", ".", ""] {
            assert!(confined_target(dir.path(), bad).is_err(), "{bad}");
        }
        assert!(confined_target(dir.path(), "svc").is_ok());
    }
}
