//! Fills the templates of `templates/` with the page models of [`model`]
//! and hands each file to a writer. HTML autoescaping is on for every
//! template: catalog text only ever reaches a page escaped. The SVG of
//! charts and graphs (built by [`super::charts`] and [`super::graph`],
//! which escape their text) and [`super::Section`] fragments are the only
//! values inserted as they are.
//!
//! Two modes: a site (one file per page, assets beside them, links
//! relative so it works from `file://` and under any sub-path), or one
//! self-contained file where every page is a `<section>` shown by its
//! `#fragment` and the styles, script and search index are inline.

use minijinja::value::Value as JValue;
use minijinja::{AutoEscape, Environment, State};
use rayon::prelude::*;
use serde_json::{json, Value};

use super::model::{self, page_id, scorecard_id, Index};
use super::site::{SiteError, GENERATOR_META};
use super::Inputs;

/// How the report is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One file per page.
    Site,
    /// Everything in one HTML file.
    SingleFile,
}

/// Where [`render`] puts each file: relative path and bytes.
pub type Emit<'a> = dyn Fn(&str, &[u8]) -> Result<(), SiteError> + Sync + 'a;

/// What [`render`] produced, for the summary line.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// Pages rendered.
    pub pages: usize,
}

const STYLE: &str = include_str!("templates/style.css");
const SCRIPT: &str = include_str!("templates/app.js");

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .expect("the default delimiters"),
    );
    for (name, source) in [
        ("base.html", include_str!("templates/base.html")),
        ("macros.html", include_str!("templates/macros.html")),
        ("home.html", include_str!("templates/home.html")),
        ("entity.html", include_str!("templates/entity.html")),
        ("team.html", include_str!("templates/team.html")),
        ("scorecard.html", include_str!("templates/scorecard.html")),
        ("graph.html", include_str!("templates/graph.html")),
        ("search.html", include_str!("templates/search.html")),
    ] {
        env.add_template(name, source)
            .expect("the report's templates are valid");
    }
    env.add_function("href", href);
    env
}

/// The link to page `id` from the page being rendered. Page ids are idp's
/// own slugs (`[a-z0-9_/-]`), so the link needs no escaping.
fn href(state: &State, id: &str) -> JValue {
    JValue::from_safe_string(link(state, id))
}

fn link(state: &State, id: &str) -> String {
    debug_assert!(
        id.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_/-".contains(&b)),
        "not a page id: {id}"
    );
    let single = state.lookup("single").is_some_and(|v| v.is_true());
    if single {
        return format!("#{id}");
    }
    let root = state
        .lookup("root")
        .map(|v| v.to_string())
        .unwrap_or_default();
    format!("{root}{id}.html")
}

/// The relative path from page `id` back to the site's root.
fn root_of(id: &str) -> String {
    "../".repeat(id.matches('/').count())
}

/// Renders every page of `inputs` and passes each file to `emit`
/// (relative path, bytes), in parallel.
pub fn render(
    inputs: &Inputs,
    mode: Mode,
    emit: &Emit<'_>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Rendered, SiteError> {
    let env = environment();
    let ix = Index::new(inputs);
    let site = json!({
        "revision": inputs.revision,
        "generated": inputs.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "generator": GENERATOR_META,
    });
    // Entity pages first, in parallel (the bulk of the work); then the
    // home, map, search and scorecard pages, whose models may wait for
    // inputs still being worked out (the trend).
    let entities: Vec<&crate::catalog::Entity> = {
        // The first definition of a key wins, as in the catalog.
        let mut seen = std::collections::HashSet::new();
        inputs
            .catalog
            .entities
            .iter()
            .filter(|e| seen.insert(page_id(e)))
            .collect()
    };
    let page_of = |e: &crate::catalog::Entity| -> (String, &'static str, Value) {
        let id = page_id(e);
        if id.starts_with("team/") {
            (id, "team.html", model::team(&ix, e))
        } else {
            (id, "entity.html", model::entity(&ix, e))
        }
    };
    // The other pages, each built when it is rendered and dropped after:
    // the system map and the scorecards' entity lists are large.
    let fixed: Vec<(String, &str)> = ["index", "graph", "search"]
        .into_iter()
        .map(|id| (id.to_string(), ""))
        .chain(
            inputs
                .scorecards
                .cards
                .iter()
                .map(|c| (scorecard_id(&c.name), c.name.as_str())),
        )
        .collect();
    let fixed_page = |id: &str, card: &str| -> (&'static str, Value) {
        match id {
            "index" => ("home.html", model::home(&ix)),
            "graph" => ("graph.html", model::graph_page(&ix)),
            "search" => ("search.html", json!({"title": "Search"})),
            _ => {
                let card = inputs
                    .scorecards
                    .get(card)
                    .expect("a scorecard of the inputs");
                ("scorecard.html", model::scorecard(&ix, card))
            }
        }
    };
    let index_json = serde_json::to_string(&model::search_index(&ix)).expect("json");
    // `</` cannot end the script early: every `<` in the JSON is escaped.
    let index_js = format!("window.IDP_INDEX={};\n", index_json.replace('<', "\\u003c"));
    let mut pages = entities.len();
    match mode {
        Mode::Site => {
            let body = |id: &str, template: &str, page: &Value| -> Result<(), SiteError> {
                let html = render_page(&env, template, page, &site, &root_of(id), false);
                let html = page_shell(&env, &site, page, &root_of(id), id, &html);
                emit(&format!("{id}.html"), html.as_bytes())
            };
            entities.par_iter().try_for_each(|e| {
                let (id, template, page) = page_of(e);
                body(&id, template, &page)?;
                progress(1);
                Ok::<(), SiteError>(())
            })?;
            pages += fixed.len();
            for (id, card) in &fixed {
                let (template, page) = fixed_page(id, card);
                body(id, template, &page)?;
                progress(1);
            }
            emit("assets/style.css", STYLE.as_bytes())?;
            emit("assets/app.js", SCRIPT.as_bytes())?;
            emit("assets/search-index.js", index_js.as_bytes())?;
        }
        Mode::SingleFile => {
            let rest: Vec<(String, String)> = entities
                .par_iter()
                .map(|e| {
                    let (id, template, page) = page_of(e);
                    let html = render_page(&env, template, &page, &site, "", true);
                    progress(1);
                    (id, html)
                })
                .collect();
            pages += fixed.len();
            let mut sections: Vec<(String, String)> = fixed
                .iter()
                .map(|(id, card)| {
                    let (template, page) = fixed_page(id, card);
                    (
                        id.clone(),
                        render_page(&env, template, &page, &site, "", true),
                    )
                })
                .collect();
            progress(fixed.len() as u64);
            sections.extend(rest);
            let html = env
                .get_template("base.html")
                .and_then(|t| {
                    t.render(minijinja::context! {
                        single => true,
                        site => JValue::from(minijinja::value::Serde(&site)),
                        page => JValue::from(minijinja::value::Serde(json!({"title": "Catalog report"}))),
                        sections => JValue::from(minijinja::value::Serde(sections.iter().map(|(id, html)| json!({"id": id, "html": html})).collect::<Vec<_>>())),
                        style => STYLE,
                        script => SCRIPT,
                        index_js => index_js,
                        generator => JValue::from_safe_string(GENERATOR_META.to_string()),
                    })
                })
                .unwrap_or_else(|e| template_bug(&e));
            emit("report.html", html.as_bytes())?;
        }
    }
    Ok(Rendered { pages })
}

/// A page's `<main>` content.
fn render_page(
    env: &Environment,
    template: &str,
    page: &Value,
    site: &Value,
    root: &str,
    single: bool,
) -> String {
    env.get_template(template)
        .and_then(|t| {
            t.render(minijinja::context! {
                page => jinja(page),
                site => jinja(site),
                root => root,
                single => single,
            })
        })
        .unwrap_or_else(|e| template_bug(&e))
}

/// The page around the content (site mode).
fn page_shell(
    env: &Environment,
    site: &Value,
    page: &Value,
    root: &str,
    id: &str,
    main: &str,
) -> String {
    // The shell shows only the title: the rest of the page (megabytes for
    // the system map) is not converted a second time.
    let shell: serde_json::Map<String, Value> = page
        .get("title")
        .map(|t| ("title".to_string(), t.clone()))
        .into_iter()
        .collect();
    env.get_template("base.html")
        .and_then(|t| {
            t.render(minijinja::context! {
                single => false,
                site => JValue::from(minijinja::value::Serde(site)),
                page => JValue::from(minijinja::value::Serde(&shell)),
                root => root,
                id => id,
                main => JValue::from_safe_string(main.to_string()),
                generator => JValue::from_safe_string(GENERATOR_META.to_string()),
            })
        })
        .unwrap_or_else(|e| template_bug(&e))
}

/// A page model as a template value, built directly: the generic route
/// (serializing the JSON into minijinja's serializer) was the largest
/// single cost of rendering an entity page.
fn jinja(v: &Value) -> JValue {
    match v {
        Value::Null => JValue::from(()),
        Value::Bool(b) => JValue::from(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => JValue::from(i),
            (_, Some(u)) => JValue::from(u),
            _ => JValue::from(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => JValue::from(s.as_str()),
        Value::Array(a) => JValue::from(a.iter().map(jinja).collect::<Vec<_>>()),
        Value::Object(m) => JValue::from_pairs(m.iter().map(|(k, v)| (k.as_str(), jinja(v)))),
    }
}

/// The templates are idp's own and tested; a failure is a bug.
fn template_bug(e: &minijinja::Error) -> String {
    panic!("idp report template failed: {e:#}")
}
