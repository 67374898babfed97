//! Backstage `kind: Template` entities (`scaffolder.backstage.io/v1beta3`),
//! run locally: the parameter pages are answered (`--set`, `--values`,
//! prompts; `parameters`, `values`, `prompts`, `pickers`), validated, and
//! the steps run in order into the destination (`steps`, `actions`) with
//! Backstage's filters (`filters`). `--register` commits the generated
//! descriptor to the catalog repository on a branch (`register`).
//!
//! The template context is Backstage's: `parameters`, `secrets`,
//! `steps.<id>.output`, `user.ref` / `user.entity`, `context.task.id`,
//! `templateInfo.entityRef` and `environment`. `user` is the catalog User
//! whose profile e-mail is git's `user.email`, else whose name is `$USER`
//! (or the e-mail's local part); without a match a User entity is made up
//! from git's `user.name` / `user.email` and `$USER` (`guest` when nothing
//! is known).

pub mod actions;
pub mod filters;
pub mod parameters;
pub mod pickers;
pub mod prompts;
pub mod publish;
pub mod register;
pub mod steps;
pub mod values;

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::catalog::Catalog;

use super::render::{Dialect, Renderer};
use super::{LoadedTemplate, RenderOutcome, ScaffoldError, ScaffoldOptions};

pub use actions::{PublishPlan, Registration};

/// The only Template apiVersion idp runs.
pub const API_VERSION: &str = "scaffolder.backstage.io/v1beta3";

/// Everything a Backstage run produced beyond the files.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// `catalog:register` requests, in step order.
    pub registrations: Vec<Registration>,
    /// `publish:*` plans, in step order.
    pub publish: Vec<PublishPlan>,
}

/// Runs a Backstage template's steps into `dest`.
pub fn run(
    t: &LoadedTemplate,
    opts: &ScaffoldOptions,
    catalog: Option<&Catalog>,
    dest: &Path,
) -> Result<RenderOutcome, ScaffoldError> {
    run_with_extras(t, opts, catalog, dest).map(|(outcome, _)| outcome)
}

/// Like [`run`], also returning the registrations and publish plans.
pub fn run_with_extras(
    t: &LoadedTemplate,
    opts: &ScaffoldOptions,
    catalog: Option<&Catalog>,
    dest: &Path,
) -> Result<(RenderOutcome, Extras), ScaffoldError> {
    prepare(t, opts, catalog)?.run(dest)
}

/// A Backstage template whose parameters are answered (asked, given or
/// defaulted) and checked: running its steps asks nothing more.
pub struct Prepared {
    steps: Vec<steps::Step>,
    spec: Value,
    ctx: Value,
    renderer: Renderer,
    template_dir: PathBuf,
    fuel: u64,
    effects: actions::Effects,
    answers: values::Answers,
}

impl Prepared {
    /// The answers to record (secrets removed).
    pub fn answers(&self) -> &Map<String, Value> {
        &self.answers.recordable
    }

    /// Whether the project gets a local git repository with a first
    /// commit, once its directory is known (step messages say so).
    pub fn set_first_commit(&mut self, yes: bool) {
        self.effects.first_commit = yes;
    }

    /// Runs the steps in order into `dest` (the workspace).
    pub fn run(self, dest: &Path) -> Result<(RenderOutcome, Extras), ScaffoldError> {
        let Prepared {
            steps,
            spec,
            mut ctx,
            renderer: r,
            template_dir,
            fuel,
            effects,
            answers,
        } = self;
        let mut log: Vec<String> = Vec::new();
        let mut files: Vec<PathBuf> = Vec::new();
        let mut extras = Extras::default();
        let states = {
            let mut env = actions::ActionEnv {
                template_dir: &template_dir,
                workspace: dest,
                fuel,
                output: r.output_budget().clone(),
                effects,
                log: &mut log,
                files: &mut files,
                registrations: &mut extras.registrations,
                publish: &mut extras.publish,
            };
            steps::run(&steps, &r, &mut ctx, &mut env)?
        };
        let output = steps::render_output(spec.get("output"), &steps, &states, &r, &ctx)?;

        let (warnings, log): (Vec<String>, Vec<String>) =
            log.into_iter().partition(|l| l.starts_with("warning: "));
        let mut all_warnings = answers.warnings;
        all_warnings.extend(
            warnings
                .into_iter()
                .map(|w| w.trim_start_matches("warning: ").to_string()),
        );
        let outcome = RenderOutcome {
            files,
            answers: answers.recordable,
            project_dir: dest.to_path_buf(),
            log,
            warnings: all_warnings,
            output: (!output.is_null()).then_some(output),
            first_commit: extras
                .publish
                .first()
                .map(|p| (p.default_branch.clone(), p.commit_message.clone())),
            register: extras
                .registrations
                .iter()
                .map(|r| r.path.clone())
                .collect(),
        };
        Ok((outcome, extras))
    }
}

/// Checks that the template can run here (apiVersion, actions, with
/// `--publish` the integration) and settles its parameters, asking on the
/// terminal when `opts` allows. Writes nothing, so an interrupted prompt
/// leaves nothing behind.
pub fn prepare(
    t: &LoadedTemplate,
    opts: &ScaffoldOptions,
    catalog: Option<&Catalog>,
) -> Result<Prepared, ScaffoldError> {
    let file = t
        .file
        .clone()
        .unwrap_or_else(|| t.dir.join("template.yaml"));
    let entity = t
        .entity
        .as_ref()
        .ok_or_else(|| ScaffoldError::InvalidTemplate {
            path: file.clone(),
            message: "no Template entity was loaded".into(),
        })?;
    let api_version = entity
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if api_version != API_VERSION {
        return Err(ScaffoldError::Unsupported(format!(
            "{}: Template apiVersion {api_version:?}; idp runs {API_VERSION} templates",
            file.display()
        )));
    }
    let spec = entity.get("spec").cloned().unwrap_or(Value::Null);
    let params = parameters::Parameters::parse(spec.get("parameters"), &file)?;
    let steps = steps::parse(spec.get("steps"), &file)?;
    let run_opts = steps::RunOptions {
        skip_unknown_actions: opts.skip_unknown_actions,
    };
    // Fail before asking anything when the template cannot run here.
    steps::check_actions(&steps, run_opts, &file)?;
    if opts.publish {
        for s in steps.iter().filter(|s| s.action.starts_with("publish:")) {
            publish::integration(&s.action, &s.id, catalog, &opts.env)?;
        }
    }

    let mut asker = prompts::TerminalAsker::default();
    let asker: Option<&mut dyn values::Asker> = if opts.interactive {
        Some(&mut asker)
    } else {
        None
    };
    let answers = values::resolve(&params, &opts.values, opts.defaults, asker, catalog)?;

    // Declared parameters left empty are null, so templates can test them
    // (`{% if values.system %}`) under strict undefined checks.
    let mut parameters = answers.parameters.clone();
    for (name, schema) in params.declared() {
        let secret_only = schema.get("ui:field").and_then(Value::as_str) == Some("Secret");
        if !secret_only {
            parameters.entry(name).or_insert(Value::Null);
        }
    }
    let template_ref = entity_ref_of(entity);
    let ctx = json!({
        "parameters": parameters,
        "secrets": answers.secrets,
        "steps": {},
        "user": current_user(catalog, login(&opts.env)),
        "context": { "task": { "id": "local" } },
        "environment": { "parameters": {}, "secrets": {} },
        "templateInfo": {
            "entityRef": template_ref,
            "baseUrl": format!("file://{}", t.dir.display()),
        },
    });

    let mut renderer = Renderer::new(Dialect::Backstage, opts.fuel);
    renderer.set_output_budget(crate::scaffold::OutputBudget::new(opts.max_output_bytes));
    filters::install(&mut renderer);
    Ok(Prepared {
        steps,
        spec,
        ctx,
        renderer,
        template_dir: t.dir.clone(),
        fuel: opts.fuel,
        effects: actions::Effects {
            dry_run: opts.dry_run,
            publish: opts.publish,
            register: opts.register,
            first_commit: opts.first_commit,
        },
        answers,
    })
}

/// The project's first commit: on the branch and with the message a
/// `publish:*` step asked for (`defaultBranch`, `gitCommitMessage`), else
/// git's default branch and `default_message`. Returns the commit id.
pub fn first_commit(
    dir: &Path,
    outcome: &RenderOutcome,
    default_message: &str,
) -> Result<String, ScaffoldError> {
    let message = match &outcome.first_commit {
        Some((branch, message)) => {
            let mut init = git2::RepositoryInitOptions::new();
            init.initial_head(branch);
            git2::Repository::init_opts(dir, &init)
                .map_err(|e| ScaffoldError::git(format!("init {}", dir.display()), e))?;
            message.as_str()
        }
        None => default_message,
    };
    super::repo::init_and_commit(dir, message)
}

/// `--publish`, after the project's first commit: creates each planned
/// repository and pushes the project to it, with the token `env` holds.
pub fn publish_all(
    extras: &Extras,
    catalog: Option<&Catalog>,
    project: &Path,
    env: &crate::vars::Vars,
) -> Result<Vec<publish::Published>, ScaffoldError> {
    extras
        .publish
        .iter()
        .map(|plan| {
            let cfg = publish::integration(&plan.action, &plan.step, catalog, env)?;
            publish::publish(plan, &cfg, project)
        })
        .collect()
}

/// The rendered `spec.output` as lines to print after the run: one per
/// link (`title: url` or `title: entityRef`) and each text block under
/// its title. `taken` are references the new project would define but
/// another entity of the catalog already holds (a name clash): a link to
/// one of them would open that other entity, so it says so instead.
pub fn output_lines(output: Option<&Value>, taken: &[String]) -> Vec<String> {
    let Some(output) = output else {
        return Vec::new();
    };
    let str_of = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let mut lines = Vec::new();
    for link in output
        .get("links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let url = str_of(link, "url");
        let target = url.clone().or_else(|| str_of(link, "entityRef"));
        let Some(mut target) = target else { continue };
        if url.is_none() && taken.iter().any(|t| t.eq_ignore_ascii_case(&target)) {
            target = format!("none yet: {target} is another, existing entity (the name is taken)");
        }
        match str_of(link, "title") {
            Some(title) => lines.push(format!("{title}: {target}")),
            None => lines.push(target),
        }
    }
    for text in output
        .get("text")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(content) = str_of(text, "content") else {
            continue;
        };
        lines.push(format!(
            "{}:",
            str_of(text, "title").unwrap_or_else(|| "Output".into())
        ));
        lines.extend(content.lines().map(|l| format!("  {l}")));
    }
    lines
}

fn entity_ref_of(entity: &Value) -> String {
    let name = entity
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let ns = entity
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    format!("template:{ns}/{name}")
}

/// The login name of the person running idp: `$USER`, else `$LOGNAME`.
fn login(env: &crate::vars::Vars) -> Option<&str> {
    env.get("USER")
        .or_else(|| env.get("LOGNAME"))
        .filter(|s| !s.is_empty())
}

/// `user.ref` and `user.entity` for the person running idp (see the module
/// documentation for where they come from); `login` is their login name.
pub fn current_user(catalog: Option<&Catalog>, login: Option<&str>) -> Value {
    let config = git2::Config::open_default().ok();
    let git = |key: &str| {
        config
            .as_ref()
            .and_then(|c| c.get_string(key).ok())
            .filter(|s| !s.is_empty())
    };
    let git_name = git("user.name");
    let email = git("user.email");
    let login = login.map(str::to_string);
    if let Some(cat) = catalog {
        let by_email = email.as_deref().and_then(|mail| {
            cat.of_kind("User").find(|u| {
                u.profile_str("email")
                    .is_some_and(|m| m.eq_ignore_ascii_case(mail))
            })
        });
        let local_part = email
            .as_deref()
            .and_then(|m| m.split('@').next())
            .map(str::to_string);
        let by_name = || {
            [login.as_deref(), local_part.as_deref()]
                .into_iter()
                .flatten()
                .find_map(|n| cat.of_kind("User").find(|u| u.name.eq_ignore_ascii_case(n)))
        };
        if let Some(u) = by_email.or_else(by_name) {
            return json!({ "ref": u.entity_ref().to_string(), "entity": u.doc() });
        }
    }
    let name = login
        .or_else(|| {
            email
                .as_deref()
                .and_then(|m| m.split('@').next())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "guest".to_string());
    let mut profile = Map::new();
    if let Some(n) = &git_name {
        profile.insert("displayName".into(), Value::from(n.clone()));
    }
    if let Some(m) = &email {
        profile.insert("email".into(), Value::from(m.clone()));
    }
    json!({
        "ref": format!("user:default/{name}"),
        "entity": {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "User",
            "metadata": { "name": name, "namespace": "default" },
            "spec": { "profile": profile, "memberOf": [] },
        },
    })
}
