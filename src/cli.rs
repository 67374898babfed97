//! Command-line definitions (clap). Only parsing lives here: doc comments are
//! the `--help` text, and everything is turned into plain settings in `main`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::output::format::{
    CostFormat, DiffFormat, DoraFormat, GraphFormat, ListFormat, SchemaFormat, ScoreFormat,
    TestFormat, ViewFormat,
};

/// idp — your internal developer portal, in the terminal.
///
/// Reads your Backstage-style software catalog (catalog-info.yaml files in a
/// git repository) and answers who owns what, what exists, and whether the
/// descriptors are valid. Works offline, instantly.
#[derive(Debug, Parser)]
#[command(
    name = "idp",
    version,
    propagate_version = true,
    arg_required_else_help = true,
    after_help = "Examples:
  idp --catalog examples/acme who-owns checkout
  idp list --kind component --owner payments
  idp show api:checkout-api
  idp validate

Exit codes: 0 ok, 1 a check failed, 2 usage error or invalid input,
3 entity not found or ambiguous, 4 catalog or config cannot be read,
5 `scaffold check`: a newer template version exists."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes. `--help` lists them after the command's own
/// flags, under their own heading (as cargo and uv do). The output format
/// is not one of them: each command defines `-o` with what it can print.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Catalog to read: a directory in a git checkout, or a git URL
    /// (https://, ssh://, file://, a bare repository path).
    /// Default: $IDP_CATALOG, then `catalog:` in ~/.config/idp/config.yaml,
    /// then the enclosing git repository if it has an idp.yaml.
    #[arg(long, global = true, env = "IDP_CATALOG", value_name = "PATH|URL")]
    pub catalog: Option<String>,

    /// Read the catalog at this git revision (commit, branch, tag) instead of
    /// the working tree, straight from git objects.
    #[arg(long = "ref", global = true, value_name = "REV")]
    pub rev: Option<String>,

    /// Read the catalog as it was at this date (`2026-06-01`, the end of that
    /// day UTC) or moment (`2026-06-01T12:00:00Z`): the last commit on the
    /// catalog's default branch at or before it.
    #[arg(long, global = true, value_name = "DATE", conflicts_with = "rev")]
    pub at: Option<String>,

    /// Never touch the network: use the last fetched copy of a remote
    /// catalog, and answer live data from the cache (saying how old it is).
    #[arg(long, global = true)]
    pub offline: bool,

    /// Fetch live data again even when the cached copy is still fresh
    /// (servers that support ETags still answer "unchanged" cheaply).
    #[arg(long, global = true, conflicts_with = "offline")]
    pub refresh: bool,

    /// Leave live data out: answer from the catalog alone.
    #[arg(long, global = true)]
    pub no_live: bool,

    /// When to use colour. NO_COLOR in the environment means never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Print only the data: no notes or warnings on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Say more on stderr (where the catalog came from, load problems).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// A parse error, with a tip when `-o` is not where it belongs: it used to
/// be a global flag (`idp -o json list`), and is each command's own now.
pub fn with_output_tip(mut error: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let misplaced = error.kind() == ErrorKind::UnknownArgument
        && matches!(
            error.get(ContextKind::InvalidArg),
            Some(ContextValue::String(arg)) if arg == "-o" || arg.starts_with("--output")
        );
    if misplaced {
        error.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![
                "-o/--output is an option of the commands that print data, after the command's \
                 name (`idp list -o json`); `idp <command> --help` lists its formats"
                    .into(),
            ]),
        );
    }
    error
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Who owns an entity, a checkout, or a git remote — and how to reach them.
    ///
    /// TARGET is an entity (`checkout`, `component:default/checkout`,
    /// `api:checkout-api`), a path inside a service's git checkout (`.`), or a
    /// git remote URL. For a path, idp matches the repository's remote against
    /// the github.com/project-slug, backstage.io/source-location and
    /// backstage.io/managed-by-location annotations, and falls back to the
    /// repository's CODEOWNERS.
    ///
    /// A Group or User owns rather than is owned: for one, who-owns shows it
    /// as an owner — how to reach it, its members and parent groups (a
    /// group) or the groups it belongs to (a user), and what it owns
    /// directly. `-o json` gives that under `asOwner` (`ref`, `contacts`,
    /// `members`, `parents`, `memberOf`, `owns`), with `owner` null.
    #[command(after_help = "Examples:
  idp who-owns checkout
  idp who-owns group:payments          # members, parents and what the team owns
  idp who-owns .                       # inside a service checkout
  idp who-owns git@github.com:acme/checkout.git
  idp who-owns checkout -o json | jq -r '.owner.email'")]
    WhoOwns(WhoOwnsArgs),

    /// List entities, filtered and sorted.
    ///
    /// Filters combine with AND; a filter given twice matches either value.
    #[command(after_help = "Examples:
  idp list --kind component --lifecycle production
  idp list --owner payments --include-subgroups
  idp list --where metadata.labels.tier=1 --sort -spec.lifecycle
  idp list --kind api -o csv > apis.csv")]
    List(ListArgs),

    /// Show everything about one entity: metadata, spec, relations, links, source.
    #[command(after_help = "Examples:
  idp show checkout
  idp show api:checkout-api -o yaml
  idp show group:payments")]
    Show(ShowArgs),

    /// Validate descriptors the way Backstage does, plus catalog-wide checks.
    ///
    /// With no PATH, validates the whole catalog: every rule of
    /// @backstage/catalog-model, reference formats, entities defined twice
    /// and references to entities that do not exist. With PATHs (files or
    /// directories), reports only on those files; inside a catalog their
    /// references are still checked against the whole catalog. Exits 1 when
    /// there are errors. With GITHUB_ACTIONS=true, also prints ::error
    /// annotations.
    #[command(after_help = "Examples:
  idp validate
  idp validate components/checkout/catalog-info.yaml
  idp validate -o json | jq '.errors[] | .code'")]
    Validate(ValidateArgs),

    /// Print the JSON Schemas of the descriptor format (for editors).
    ///
    /// Add `# yaml-language-server: $schema=<path>/Entity.schema.json` to a
    /// catalog-info.yaml to get completion and checks in your editor.
    #[command(after_help = "Examples:
  idp schema                 # the schema of any entity
  idp schema component       # one kind
  idp schema --write catalog-schema")]
    Schema(SchemaArgs),

    /// Everything that depends on an entity, transitively: who to notify.
    ///
    /// Follows dependents (dependencyOf), the APIs the entity provides and
    /// their consumers, subcomponents, and the system and domain above it.
    /// Each dependent comes with its depth, the path to it and its owner's
    /// contacts: the list to paste into a change announcement.
    #[command(after_help = "Examples:
  idp impact ledger
  idp impact resource:payments-db --depth 2
  idp impact ledger -o json | jq -r '.dependents[].owner' | sort -u")]
    Impact(ImpactArgs),

    /// The neighbourhood of an entity: what it uses and what uses it.
    ///
    /// -o tree (default) in the terminal, -o dot for Graphviz, -o mermaid for
    /// GitHub markdown, -o json or yaml for scripts. Cycles are marked.
    #[command(after_help = "Examples:
  idp graph checkout
  idp graph checkout --direction up --depth 3
  idp graph checkout -o dot | dot -Tsvg > checkout.svg
  idp graph checkout -o mermaid")]
    Graph(GraphArgs),

    /// The commits that changed an entity, field by field.
    ///
    /// Follows the entity across file renames and moves between files.
    #[command(after_help = "Examples:
  idp history checkout
  idp history group:payments --limit 5
  idp history checkout -o json | jq '.[0].changes'")]
    History(HistoryArgs),

    /// What changed in the catalog between two commits (or a commit and the
    /// working tree): entities added, removed, changed field by field, and
    /// relations added or removed.
    #[command(after_help = "Examples:
  idp diff main                       # main vs. the working tree
  idp diff v2026.10 v2026.11
  idp diff origin/main HEAD -o markdown > catalog-diff.md
  idp diff main --exit-code           # exit 1 when anything changed")]
    Diff(DiffArgs),

    /// Evaluate the catalog's scorecards; gate a merge on a minimum level.
    ///
    /// Scorecards are `idp.dev/v1alpha1` Scorecard documents in the catalog:
    /// levels, rules (CEL over `entity`, `live` and `now`), exemptions and
    /// deadlines. With no ENTITY, scores every entity a scorecard applies to.
    /// Exits 1 when the gate (--min-level, or the scorecard's gate.minLevel)
    /// is not met; with --compare, only regressions against REF (and new
    /// entities below the minimum) fail it. IDP_NOW=2026-11-29T00:00:00Z
    /// fixes the run's time (enforceFrom, expires, `now`).
    #[command(after_help = "Examples:
  idp score
  idp score checkout --scorecard production-readiness
  idp score --scorecard production-readiness --min-level silver --changed-since origin/main -o junit > score.xml
  idp score --compare origin/main -o markdown > comment.md
  idp score -o sarif > score.sarif
  idp score -o json | jq '.results[] | select(.level == null) | .entity'")]
    Score(ScoreArgs),

    /// Fetch live data for many entities at once, and optionally publish it.
    ///
    /// Runs every integration configured in the catalog's idp.yaml
    /// (`integrations:`) for the entities the filters select (default: all)
    /// and prints, per integration, how many entities got facts (ok), are
    /// not linked to it (absent: no annotation) or could not be answered
    /// (unavailable), with the reasons. Results land in the live cache, so
    /// later commands answer instantly.
    ///
    /// --publish stores the whole snapshot as a commit on refs/idp/live in
    /// the catalog repository and pushes it to origin: a scheduled CI job
    /// pays the API cost once for everyone, whose `idp sync` fetches it.
    /// Tokens come from the environment only (GITHUB_TOKEN, PAGERDUTY_TOKEN,
    /// … or the variable `token_env:` names); `idp doctor` lists them.
    ///
    /// With a `dora:` section in idp.yaml (or `--integration dora`), the
    /// inputs of `idp dora` (deployments, their commits, reverts and
    /// incidents) are fetched and published too.
    ///
    /// With no integration configured there is nothing to enrich: idp says
    /// so on stderr and exits 0 (nothing is fetched or published).
    #[command(after_help = "Examples:
  idp enrich
  idp enrich --kind component --owner payments
  idp enrich checkout --integration github -o json
  idp enrich --publish                 # in a scheduled CI job
  idp enrich --refresh --publish --no-push")]
    Enrich(EnrichArgs),

    /// Create a project from a template: Backstage Template entities or
    /// cookiecutter directories, rendered locally.
    ///
    /// TEMPLATE is a path (`./templates/python-lib`, `.`), a git URL (cloned;
    /// `URL//subdir` for a template inside the repository), a Template entity
    /// in the catalog (`node-service`, `template:default/node-service`), or a
    /// directory under the catalog's templates/ folder (cookiecutter).
    ///
    /// On a terminal idp asks for every value (with its default); off one it
    /// never asks: values come from --set / --values / defaults, and a
    /// required value without a default exits 2 naming the flag.
    /// Everything is written to a temporary directory next to the target and
    /// moved into place only when rendering succeeded. The new project gets
    /// .idp/answers.yaml (never secrets; `idp scaffold update` reads it) and
    /// a first git commit (unless --no-git).
    ///
    /// Cookiecutter templates render byte for byte as `cookiecutter
    /// --no-input -o DIR TEMPLATE k=v …` does (same files, contents, newline
    /// styles and permission bits; idp adds only .idp/ and .git/). Hooks and
    /// command steps run only with --trust. The output directory is
    /// `-d DIR` / `--output-dir DIR` (cookiecutter's long flag); `-o` is the
    /// output format here as everywhere.
    #[command(
        args_conflicts_with_subcommands = true,
        subcommand_negates_reqs = true,
        after_help = "Examples:
  idp scaffold list
  idp scaffold show python-library
  idp scaffold node-service                          # asks on a terminal
  idp scaffold ./templates/python-lib --no-input -d ~/src --set project_name='Ledger API'
  idp scaffold python-library --values answers.yaml --dry-run --diff
  idp scaffold https://github.com/acme/templates.git//python-lib --defaults
  idp scaffold node-service --set name=refunds --set owner=payments --set description='Refund service' --set repoUrl='github.com?owner=acme&repo=refunds' --register --push
  idp scaffold ./templates/python-lib --no-input -o json   # the result as JSON
  idp scaffold ./templates/python-lib --engine cookiecutter --trust --no-input -d ~/src

Exit codes: 0 created, 1 the generated catalog-info.yaml is invalid (files are kept)
or a hook failed, 2 invalid input or a missing value off a terminal, 3 template not
found, 4 catalog or template unreadable."
    )]
    Scaffold(ScaffoldArgs),

    /// Check the live-data setup: integrations, tokens, reachability.
    ///
    /// Lists every integration in the catalog's idp.yaml with its kind and
    /// base URL, whether its token variable is set (never its value), and
    /// whether the base URL answers. Exits 1 when a required token is
    /// missing or a host does not answer.
    #[command(after_help = "Examples:
  idp doctor
  idp doctor -o json | jq '.integrations[] | select(.reachable | not)'")]
    Doctor(DoctorArgs),

    /// Write a static web portal of the catalog: scorecards, owners,
    /// dependencies and trends, with no server.
    ///
    /// Pages: a home page (counts, scorecard levels, entities furthest from
    /// their next level, recent changes, validation problems), one page per
    /// entity, team (Group) and scorecard (with its trend week by week from
    /// git history), a system map and a client-side search. Everything is in
    /// DIR (or one file with --single-file): no request to any other host,
    /// works from file:// and under a sub-path (GitHub Pages). Catalog text
    /// is HTML-escaped; only http(s) and mailto links are kept. The same
    /// catalog and IDP_NOW give the same bytes. Live data (on-call) comes
    /// from the cache only: run `idp enrich` first to include it. A
    /// non-empty DIR that is not a previous report is refused without
    /// --force; files idp did not write are never deleted.
    #[command(after_help = "Examples:
  idp report --output-dir site
  idp report --output-dir public --weeks 12 --history 500
  idp report --single-file report.html
  idp report --output-dir site --ref v2026.11")]
    Report(ReportArgs),
    /// Delivery performance: DORA's four keys per entity and per team.
    ///
    /// Deployment frequency (successful GitHub deployments to the production
    /// environment; `dora.fallback` in idp.yaml reads published releases or
    /// Argo CD's sync history for repositories without deployments), lead
    /// time for changes (each shipped commit to its first successful
    /// deployment, through GitHub's compare API; median and p90), change
    /// failure rate (deployments followed within `dora.failure_window` by a
    /// PagerDuty incident on the entity's service, a rollback, a failed
    /// deployment or a merged revert pull request) and failed deployment
    /// recovery time (median), each with its performance band (elite, high,
    /// medium, low: the DORA report's thresholds, or `dora.bands`) and its
    /// trend against the previous window.
    ///
    /// With no argument, every entity with a github.com/project-slug
    /// annotation, and one row per owning team; with a GROUP, the entities
    /// it (and its subgroups) owns, rolled up; with an ENTITY, that one.
    /// Requests go through the live-data cache (and the snapshot `idp enrich
    /// --publish` stores); --offline answers from them and says how old they
    /// are. A key whose data is missing is `unknown`, with the reason.
    #[command(after_help = "Examples:
  idp dora
  idp dora group:payments --window 30d
  idp dora checkout --environment prod -o json | jq '.entities[0].lead_time'
  idp dora --offline -o csv > dora.csv")]
    Dora(DoraArgs),
    /// Cost per entity, team, service or tag from FOCUS billing exports.
    ///
    /// Reads the FOCUS exports `cost.sources` in idp.yaml names (.csv,
    /// .csv.gz, .parquet; relative to the catalog root and confined to it),
    /// allocates each row to one entity (`cost.allocate` tag rules first,
    /// then `idp.dev/cost-selector` annotations; see DESIGN "Cost
    /// semantics"), and sums per BillingCurrency — never across currencies.
    /// A Group's cost is its own rows, its sub-groups' and everything they
    /// own, each row once. Periods more than k standard deviations above
    /// the trailing mean are marked `!`. The aggregate is cached, so a
    /// second run over unchanged files does not read them. Without billing
    /// files, answers from the monthly aggregate `idp cost --publish` put
    /// on refs/idp/cost (`idp sync` fetches it).
    ///
    /// Files inside the catalog are read under a budget, cost.maxBytes
    /// (default and ceiling 2 GiB of CSV text or uncompressed Parquet data;
    /// idp.yaml may only lower it): more is an error naming the file. The
    /// operator's --source files are not budgeted.
    #[command(after_help = "Examples:
  idp cost                              # the whole bill per month, with the unallocated share
  idp cost group:payments --by service  # a team's last month per service
  idp cost checkout --by day --from 2026-10-01 --to 2026-10-31
  idp cost --by entity -o csv > cost.csv
  idp cost --unallocated --by tag       # what to tag next
  idp cost --source '/data/focus/*.parquet' --publish   # scheduled job")]
    Cost(CostArgs),

    /// Fetch a remote catalog now (and rebuild the index).
    #[command(after_help = "Examples:
  idp --catalog https://github.com/acme/catalog.git sync")]
    Sync,

    /// Create a new catalog repository with example entities, ready to use.
    ///
    /// Writes a commented idp.yaml, a group, a user, a system, a component and
    /// an API into DIR (default: the current directory) and makes the first
    /// git commit. Refuses a non-empty directory unless --force, and never
    /// overwrites a file.
    #[command(after_help = "Examples:
  idp init my-catalog
  idp init                    # in the current (empty) directory
  idp init --force .          # add the starter files to an existing repo")]
    Init(InitArgs),

    /// Print the shell completion script (commands, flags, and entity names
    /// from your catalog).
    ///
    /// Source the script from your shell's startup file. Entity names, owners,
    /// systems, kinds, lifecycles and tags complete from the catalog idp would
    /// read (`--catalog` on the line, IDP_CATALOG, the user config or the
    /// enclosing repository), offline and through the index; without a
    /// readable catalog only commands and flags complete. The `idp` on your
    /// PATH answers each TAB.
    #[command(after_help = "Examples:
  echo 'source <(idp completions bash)' >> ~/.bashrc
  echo 'source <(idp completions zsh)' >> ~/.zshrc
  idp completions fish > ~/.config/fish/completions/idp.fish
  idp completions powershell >> $PROFILE
  echo 'eval (idp completions elvish | slurp)' >> ~/.config/elvish/rc.elv")]
    Completions(CompletionsArgs),

    /// Print or write the man pages (one per command).
    ///
    /// With no argument, prints idp(1); with a COMMAND, that command's page;
    /// with --out-dir, writes every page (idp.1, idp-list.1, …) there.
    #[command(after_help = "Examples:
  idp man | man -l -
  idp man who-owns | man -l -
  idp man --out-dir /usr/local/share/man/man1")]
    Man(ManArgs),

    /// Serve the catalog, scorecards and templates to AI coding agents (MCP over stdio).
    ///
    /// Speaks the Model Context Protocol on stdin/stdout, as agents (Claude
    /// Code, Cursor, VS Code) start it: tools who_owns, search_entities,
    /// get_entity, impact, dependency_graph, entity_history, catalog_diff,
    /// score, validate_descriptor, list_templates, describe_template and
    /// scaffold_preview, whose structured results are the matching
    /// commands' `-o json`; each entity's descriptor and each scorecard as
    /// a resource (idp://entity/{kind}/{namespace}/{name},
    /// idp://scorecard/{name}). The catalog is opened once and kept warm;
    /// edits to it (or a new commit of --ref) are noticed between calls.
    /// Read-only and offline (live facts from the cache) unless told
    /// otherwise; logs go to stderr, never stdout. Register it with an
    /// agent, e.g. `claude mcp add idp -- idp mcp --catalog ~/src/catalog`.
    #[command(after_help = "Examples:
  idp mcp                                  # the catalog idp finds, as every command does
  idp mcp --catalog ~/src/catalog --online
  idp mcp --allow-write . --trust          # also scaffold_create, hooks allowed
  IDP_MCP_TOKEN=s3cret idp mcp --http 127.0.0.1:8765   # streamable HTTP, loopback, bearer token")]
    Mcp(McpArgs),
}

/// `mcp`.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// Offer the scaffold_create tool, which writes new projects under DIR
    /// (and nowhere else).
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub allow_write: Option<PathBuf>,
    /// With --allow-write: let scaffold_create run templates' hooks and
    /// command steps.
    #[arg(long, requires = "allow_write")]
    pub trust: bool,
    /// Fetch live data from the integrations when the cache is stale
    /// (default: answer live facts from the cache only, never the network).
    #[arg(long, conflicts_with = "offline")]
    pub online: bool,
    /// Serve MCP over streamable HTTP at this loopback address (e.g.
    /// 127.0.0.1:8765; port 0 picks one) instead of stdio, for clients that
    /// cannot start a process. Every request needs `Authorization: Bearer
    /// TOKEN`: $IDP_MCP_TOKEN, or a token generated and printed on stderr.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<std::net::SocketAddr>,
}

/// `report`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["output_dir", "single_file"])))]
pub struct ReportArgs {
    /// Directory to write the site into (created when missing).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Write the whole report as one HTML file instead.
    #[arg(long, value_name = "FILE")]
    pub single_file: Option<PathBuf>,
    /// Write into a non-empty directory that is not a previous report (or
    /// replace a file that is not one); nothing already there is deleted.
    #[arg(long)]
    pub force: bool,
    /// Weeks of scorecard trend to compute from git history (0: none).
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub weeks: usize,
    /// Commits of history to read for recent changes and entity history.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub history: usize,
}

/// `dora`.
#[derive(Debug, Args)]
pub struct DoraArgs {
    /// An entity or a group (default: every entity linked to a repository).
    #[arg(value_name = "ENTITY|GROUP")]
    pub target: Option<String>,
    /// The window, ending now (e.g. 30d, 12w); default `dora.window` or 90d.
    /// Trends compare with the window before it.
    #[arg(long, value_name = "DURATION", value_parser = parse_window)]
    pub window: Option<WindowArg>,
    /// The deployment environment that counts as production; default
    /// `dora.environment` or production.
    #[arg(long, value_name = "NAME")]
    pub environment: Option<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t, value_name = "FORMAT")]
    pub output: DoraFormat,
}

/// A `--window` value: as typed, and its length.
#[derive(Debug, Clone)]
pub struct WindowArg {
    /// As typed (`30d`).
    pub text: String,
    /// Its length.
    pub value: std::time::Duration,
}

fn parse_window(text: &str) -> Result<WindowArg, String> {
    let value = humantime::parse_duration(text.trim())
        .map_err(|e| format!("'{text}' is not a duration like 30d, 12w or 90d: {e}"))?;
    idp::dora::config::check_window(value)?;
    Ok(WindowArg {
        text: text.trim().to_string(),
        value,
    })
}

/// `doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t, value_name = "FORMAT")]
    pub output: ViewFormat,
}

/// How `idp cost` groups rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CostBy {
    /// Calendar day (UTC).
    Day,
    /// ISO week.
    Week,
    /// Calendar month.
    Month,
    /// ServiceName.
    Service,
    /// The entity each row is allocated to.
    Entity,
    /// Tag key=value (a row counts once per tag).
    Tag,
}

/// `cost`.
#[derive(Debug, Args)]
pub struct CostArgs {
    /// An entity (its own rows) or a Group (its rows, its sub-groups' and
    /// everything they own); default the whole bill.
    pub target: Option<String>,
    /// Group by.
    #[arg(long, value_enum, default_value = "month")]
    pub by: CostBy,
    /// First day (YYYY-MM-DD or YYYY-MM).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last day, inclusive (YYYY-MM-DD, or YYYY-MM for the whole month).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Only rows no rule or selector allocates.
    #[arg(long, conflicts_with = "target")]
    pub unallocated: bool,
    /// Read these FOCUS files instead of cost.sources (any path: the
    /// operator's choice, unlike idp.yaml's). Repeatable; globs allowed.
    #[arg(long, value_name = "GLOB")]
    pub source: Vec<String>,
    /// Standard deviations above the trailing mean that make an anomaly
    /// (default cost.anomaly.k, else 3).
    #[arg(long, value_name = "K")]
    pub anomaly_k: Option<f64>,
    #[command(flatten)]
    pub publish: PublishArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t, value_name = "FORMAT")]
    pub output: CostFormat,
}

/// `who-owns`.
#[derive(Debug, Args, Deserialize, JsonSchema)]
pub struct WhoOwnsArgs {
    /// Entity reference or name, a path (`.`), or a git remote URL.
    pub target: String,
    /// Output format.
    #[serde(skip)]
    #[arg(short, long, value_enum, default_value_t, value_name = "FORMAT")]
    pub output: ViewFormat,
}

/// `impact`.
#[derive(Debug, Args, Deserialize, JsonSchema)]
pub struct ImpactArgs {
    /// Entity reference or name.
    #[serde(rename = "ref")]
    pub entity: String,
    /// Follow at most this many hops, 1 or more (default: all).
    #[arg(long, value_name = "N", value_parser = at_least_one())]
    #[schemars(range(min = 1))]
    pub depth: Option<usize>,
    /// Output format.
    #[serde(skip)]
    #[arg(short, long, value_enum, default_value_t, value_name = "FORMAT")]
    pub output: ViewFormat,
}

/// A count that must be 1 or more (`--depth 0` would answer "nothing" with
/// confidence; clap refuses it as a usage error instead).
fn at_least_one() -> impl clap::builder::TypedValueParser<Value = usize> {
    use clap::builder::TypedValueParser as _;
    clap::builder::RangedU64ValueParser::<usize>::new().try_map(|n| match n {
        0 => Err("0 would show nothing; give 1 or more"),
        n => Ok(n),
    })
}

/// `graph --direction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GraphDirection {
    /// What the entity uses.
    Up,
    /// What uses the entity.
    Down,
    /// Both.
    Both,
}

/// `graph`.
#[derive(Debug, Args, Deserialize, JsonSchema)]
pub struct GraphArgs {
    /// Entity reference or name.
    #[serde(rename = "ref")]
    pub entity: String,
    /// Hops to follow in each direction, 1 or more.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = at_least_one())]
    #[serde(default = "two")]
    #[schemars(range(min = 1))]
    pub depth: usize,
    /// Which way to walk.
    #[arg(long, value_enum, default_value_t = GraphDirection::Both)]
    #[serde(default = "both")]
    pub direction: GraphDirection,
    /// Output format.
    #[serde(skip)]
    #[arg(short, long, value_enum, default_value_t, value_name = "FORMAT")]
    pub output: GraphFormat,
}

fn two() -> usize {
    2
}

fn both() -> GraphDirection {
    GraphDirection::Both
}

/// `history`.
#[derive(Debug, Args, Deserialize, JsonSchema)]
pub struct HistoryArgs {
    /// Entity reference or name.
    #[serde(rename = "ref")]
    pub entity: String,
    /// Show at most this many commits, 1 or more.
    #[arg(long, short = 'n', value_name = "N", value_parser = at_least_one())]
    #[schemars(range(min = 1))]
    pub limit: Option<usize>,
    /// Output format.
    #[serde(skip)]
    #[arg(short, long, value_enum, default_value_t, value_name = "FORMAT")]
    pub output: ViewFormat,
}

/// `diff`.
#[derive(Debug, Args, Deserialize, JsonSchema)]
pub struct DiffArgs {
    /// The old state: a commit, branch or tag.
    pub from: String,
    /// The new state (default: the working tree).
    pub to: Option<String>,
    /// Exit 1 when there are differences (like `git diff --exit-code`).
    #[arg(long)]
    #[serde(skip)]
    pub exit_code: bool,
    /// Output format.
    #[serde(skip)]
    #[arg(short, long, value_enum, default_value_t, value_name = "FORMAT")]
    pub output: DiffFormat,
}

/// `list`.
#[derive(Debug, Clone, Args, Deserialize, JsonSchema)]
pub struct ListArgs {
    /// A fuzzy match against name, title and description: only entities
    /// that match, best match first (unless --sort).
    #[arg(long, value_name = "TEXT")]
    pub query: Option<String>,
    #[command(flatten)]
    #[serde(flatten)]
    pub filters: FilterArgs,
    /// Sort by a field (name, kind, owner, type, lifecycle, system, title or
    /// a dotted path); prefix with - for descending. Repeatable.
    #[arg(long, value_name = "FIELD", allow_hyphen_values = true)]
    #[serde(default, deserialize_with = "one_or_many")]
    pub sort: Vec<String>,
    /// Only entities at exactly this level of --scorecard (`none`: scored
    /// but below its first level).
    #[arg(long, value_name = "LEVEL", requires = "scorecard")]
    pub level: Option<String>,
    /// The scorecard --level refers to.
    #[arg(long, value_name = "NAME", requires = "level")]
    pub scorecard: Option<String>,
    /// Show at most this many entities, 1 or more (MCP: default 50).
    #[arg(long, value_name = "N", value_parser = at_least_one())]
    #[serde(default = "fifty")]
    #[schemars(range(min = 1))]
    pub limit: Option<usize>,
    /// Output format.
    #[serde(skip)]
    #[arg(short, long, value_enum, default_value_t, value_name = "FORMAT")]
    pub output: ListFormat,
}

/// `--publish`, `--no-push`, `--remote` of the commands that commit what
/// they computed on a `refs/idp/*` ref (`enrich`: refs/idp/live, `cost`:
/// refs/idp/cost) for `idp sync` to fetch.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Commit the result on this command's ref in the catalog repository
    /// (enrich: refs/idp/live, the live snapshot; cost: refs/idp/cost, the
    /// monthly aggregate) and push it to the remote.
    #[arg(long)]
    pub publish: bool,
    /// With --publish: commit the ref locally but do not push.
    #[arg(long, requires = "publish")]
    pub no_push: bool,
    /// With --publish: the remote to push to.
    #[arg(
        long,
        default_value = "origin",
        value_name = "REMOTE",
        requires = "publish"
    )]
    pub remote: String,
}

/// `enrich`.
#[derive(Debug, Args)]
pub struct EnrichArgs {
    /// Entities to enrich (default: every entity the filters select).
    pub entities: Vec<String>,
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Only this integration (by its name in idp.yaml). Repeatable.
    #[arg(long, value_name = "NAME")]
    pub integration: Vec<String>,
    #[command(flatten)]
    pub publish: PublishArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t, value_name = "FORMAT")]
    pub output: ViewFormat,
}

/// `search_entities` returns this many entities unless told otherwise
/// (an agent's context is not a pipe).
fn fifty() -> Option<usize> {
    Some(50)
}

/// A list given as one value or an array of values (agents write both).
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// Entity filters shared by `list` and `enrich`.
#[derive(Debug, Clone, Args, Deserialize, JsonSchema)]
pub struct FilterArgs {
    /// Only these kinds (component, api, resource, system, domain, group, user, …).
    #[arg(long, short = 'k', value_name = "KIND")]
    #[serde(default, deserialize_with = "one_or_many")]
    pub kind: Vec<String>,
    /// Only entities owned by this group or user.
    #[arg(long, value_name = "GROUP")]
    pub owner: Option<String>,
    /// With --owner: also entities owned by its subgroups.
    #[arg(long, requires = "owner")]
    #[serde(default)]
    pub include_subgroups: bool,
    /// Only entities in this system (and the system itself).
    #[arg(long, value_name = "SYSTEM")]
    pub system: Option<String>,
    /// Only entities in this domain: its systems and their parts.
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    /// Only this spec.lifecycle.
    #[arg(long, value_name = "LIFECYCLE")]
    #[serde(default, deserialize_with = "one_or_many")]
    pub lifecycle: Vec<String>,
    /// Only this spec.type.
    #[arg(long = "type", value_name = "TYPE")]
    #[serde(rename = "type", default, deserialize_with = "one_or_many")]
    pub kind_type: Vec<String>,
    /// Only entities with this tag (repeat: all of them).
    #[arg(long, value_name = "TAG")]
    #[serde(default, deserialize_with = "one_or_many")]
    pub tag: Vec<String>,
    /// A field condition, `dotted.path=value` or `dotted.path!=value`
    /// (e.g. metadata.labels.tier=1). Repeat: all must hold.
    #[arg(long = "where", value_name = "PATH=VALUE")]
    #[serde(rename = "where", default, deserialize_with = "one_or_many")]
    pub conditions: Vec<String>,
}

/// `score --unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UnknownArg {
    /// Unknown (a live fact unavailable) does not fail the gate; the level is marked "?".
    Ignore,
    /// Unknown counts as failing.
    Fail,
}

fn ignore() -> UnknownArg {
    UnknownArg::Ignore
}

/// `score`.
#[derive(Debug, Args, Deserialize, JsonSchema)]
pub struct ScoreArgs {
    /// Entities to score (default: every entity a scorecard applies to).
    #[serde(default, alias = "entity", deserialize_with = "one_or_many")]
    pub entities: Vec<String>,
    /// Only these scorecards (by name). Repeatable.
    #[arg(long, value_name = "NAME")]
    #[serde(default, deserialize_with = "one_or_many")]
    pub scorecard: Vec<String>,
    /// The level every scored entity must hold (overrides the scorecards' gate.minLevel).
    #[arg(long, value_name = "LEVEL")]
    pub min_level: Option<String>,
    /// Only entities whose descriptors changed since this git revision.
    #[arg(long, value_name = "REF")]
    pub changed_since: Option<String>,
    /// Report regressions against this git revision and gate on them only.
    #[arg(long, value_name = "REF")]
    pub compare: Option<String>,
    /// How a rule whose live fact is unavailable counts for the gate.
    #[arg(long, value_enum, default_value_t = UnknownArg::Ignore)]
    #[serde(default = "ignore")]
    pub unknown: UnknownArg,
    /// Output format.
    #[serde(skip)]
    #[arg(short, long, value_enum, default_value_t, value_name = "FORMAT")]
    pub output: ScoreFormat,
}

/// `show`.
#[derive(Debug, Args, Deserialize, JsonSchema)]
pub struct ShowArgs {
    /// Entity reference or name.
    #[serde(rename = "ref")]
    pub entity: String,
    /// Output format.
    #[serde(skip)]
    #[arg(short, long, value_enum, default_value_t, value_name = "FORMAT")]
    pub output: ViewFormat,
}

/// `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Files or directories to validate (default: the whole catalog).
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t, value_name = "FORMAT")]
    pub output: ViewFormat,
}

/// `init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory for the new catalog (created when missing).
    #[arg(default_value = ".", value_hint = clap::ValueHint::DirPath)]
    pub dir: PathBuf,
    /// Add the files to a non-empty directory (existing files are still never overwritten).
    #[arg(long)]
    pub force: bool,
}

/// `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to print the script for.
    pub shell: clap_complete::Shell,
}

/// `man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Only this command's page (e.g. who-owns).
    #[arg(conflicts_with = "out_dir")]
    pub command: Option<String>,
    /// Write every page into this directory instead of printing.
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub out_dir: Option<PathBuf>,
}

/// `schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// One kind (component, api, …); default: any entity.
    pub kind: Option<String>,
    /// Write every schema file into this directory instead of printing.
    #[arg(long, value_name = "DIR")]
    pub write: Option<PathBuf>,
    /// Output format (the files --write writes are JSON).
    #[arg(
        short,
        long,
        value_enum,
        default_value_t,
        value_name = "FORMAT",
        conflicts_with = "write"
    )]
    pub output: SchemaFormat,
}

/// `scaffold`: create a project, or one of the subcommands.
#[derive(Debug, Args)]
pub struct ScaffoldArgs {
    /// What to do instead of creating a project.
    #[command(subcommand)]
    pub action: Option<ScaffoldAction>,
    /// Creating a project.
    #[command(flatten)]
    pub create: ScaffoldCreateArgs,
}

/// `scaffold` subcommands.
#[derive(Debug, Subcommand)]
pub enum ScaffoldAction {
    /// List the templates the catalog offers: Template entities and
    /// cookiecutter directories under its templates/ folder.
    #[command(after_help = "Examples:
  idp scaffold list
  idp scaffold list -o json | jq -r '.[].name'")]
    List(ScaffoldListArgs),

    /// Show a template: its parameters or variables with defaults and
    /// choices, its steps, and where it comes from.
    #[command(after_help = "Examples:
  idp scaffold show python-library
  idp scaffold show template:default/node-service -o yaml
  idp scaffold show ./my-cookiecutter -o json")]
    Show(ScaffoldShowArgs),

    /// Bring a generated project up to date with its template (three-way merge).
    ///
    /// Reads DIR/.idp/answers.yaml (written by `idp scaffold`), renders the
    /// template version the project was made from and the newest one (the
    /// highest semver tag of the template's git repository, else its HEAD)
    /// with the recorded answers, and merges the template's changes into
    /// the project, as copier does: files you did not touch take the new
    /// version; files both you and the template changed are merged line by
    /// line; colliding changes are left as conflict markers (or, with
    /// `--conflict rej`, your version stays and the template's hunks go to
    /// FILE.rej); binary conflicts keep yours and write FILE.new; files the
    /// template removed are deleted unless you changed them. New questions
    /// take their defaults (or --set/--values). Then the answers file
    /// records the new version. Review with `git diff` and commit.
    ///
    /// A template from the catalog is read from the catalog location the
    /// answers file records (an absolute path or a URL); --catalog (or
    /// IDP_CATALOG) overrides it, e.g. when the catalog moved or CI has its
    /// own checkout.
    ///
    /// Refuses a project with uncommitted changes (or outside git) unless
    /// --force: your commit history is the undo. Exit status: 0 updated (or
    /// already up to date), 1 updated but conflicts remain to resolve,
    /// 2 uncommitted changes, 4 answers file missing or unreadable.
    #[command(after_help = "Examples:
  idp scaffold update                       # the project in the current directory
  idp scaffold update services/billing --dry-run
  idp scaffold update --conflict rej        # FILE.rej instead of inline markers
  idp scaffold update --set api_token=…     # a value that was never recorded (a secret)
  idp --catalog ../catalog scaffold update  # the catalog is elsewhere than recorded")]
    Update(ScaffoldUpdateArgs),

    /// Tell whether a newer version of a project's template exists (for CI).
    ///
    /// Compares the template commit recorded in DIR/.idp/answers.yaml with
    /// the newest version of the template: the highest semver tag of its git
    /// repository (v1.2.0 or 1.2.0; pre-releases ignored), else its HEAD.
    /// Commits that do not change the template's own files do not count.
    /// A template from the catalog is looked up in the catalog location the
    /// answers file records; --catalog (or IDP_CATALOG) overrides it.
    /// Exit status (copier's convention): 0 up to date, 5 a newer version
    /// exists, 4 the answers file or the template cannot be read.
    #[command(after_help = "Examples:
  idp scaffold check
  idp scaffold check services/billing || echo 'run idp scaffold update'
  idp scaffold check -o json | jq .latest
  idp --catalog \"$CATALOG_CHECKOUT\" scaffold check   # CI's own clone of the catalog")]
    Check(ScaffoldCheckArgs),

    /// Render a template once per values file and validate what it generates.
    ///
    /// Each values file (YAML or JSON, or a cookiecutter replay file) is
    /// rendered into a temporary directory without prompting, and every
    /// catalog-info.yaml it produces is validated like `idp validate`, and
    /// against the catalog: the owner and other references exist, and the
    /// names are not taken. One line per values file; -o json or junit for
    /// CI. Exits 1 if any values file fails, 2 (before rendering anything)
    /// if a values file cannot be read or parsed.
    #[command(after_help = "Examples:
  idp scaffold test node-service --values fixtures/minimal.yaml --values fixtures/full.yaml
  idp scaffold test ./templates/python-lib --values tests/*.json -o junit > scaffold-tests.xml")]
    Test(ScaffoldTestArgs),
}

/// How `scaffold update` leaves conflicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConflictArg {
    /// Conflict markers (<<<<<<< ||||||| ======= >>>>>>>) in the file.
    Inline,
    /// Your version in the file; the template's rejected hunks in FILE.rej.
    Rej,
}

/// `scaffold update`.
#[derive(Debug, Args)]
pub struct ScaffoldUpdateArgs {
    /// The generated project (the directory holding .idp/answers.yaml).
    #[arg(value_name = "DIR", default_value = ".", value_hint = clap::ValueHint::DirPath)]
    pub dir: PathBuf,

    /// How to leave conflicts: inline markers or FILE.rej files.
    #[arg(long, value_enum, default_value_t = ConflictArg::Inline)]
    pub conflict: ConflictArg,

    /// Update even with uncommitted changes, or outside a git repository.
    #[arg(long)]
    pub force: bool,

    /// Show what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Run the template's hooks while rendering the two versions (give it
    /// when the project was created with --trust, so both renders match
    /// what the hooks made).
    #[arg(long)]
    pub trust: bool,

    /// Set a value, overriding the recorded answer (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,

    /// Read values from a YAML or JSON file (repeatable; --set wins).
    #[arg(long = "values", value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub values: Vec<PathBuf>,

    /// Warn about unknown Backstage actions instead of failing.
    #[arg(long)]
    pub skip_unknown_actions: bool,

    /// Stop when a rendered file, or the project in total, would pass this
    /// many bytes (suffixes: 500KB, 100MB, 1GiB).
    #[arg(long, value_name = "BYTES", default_value = "100MB", value_parser = idp::scaffold::parse_byte_size)]
    pub max_output_bytes: u64,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t, value_name = "FORMAT")]
    pub output: ViewFormat,
}

/// `scaffold check`.
#[derive(Debug, Args)]
pub struct ScaffoldCheckArgs {
    /// The generated project (the directory holding .idp/answers.yaml).
    #[arg(value_name = "DIR", default_value = ".", value_hint = clap::ValueHint::DirPath)]
    pub dir: PathBuf,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t, value_name = "FORMAT")]
    pub output: ViewFormat,
}

/// `scaffold test`.
#[derive(Debug, Args)]
pub struct ScaffoldTestArgs {
    /// Template: catalog name, path or git URL (as for `idp scaffold`).
    pub template: String,

    /// A values file to render with (repeatable: one test per file).
    #[arg(long = "values", value_name = "FILE", required = true, num_args = 1.., value_hint = clap::ValueHint::FilePath)]
    pub values: Vec<PathBuf>,

    /// Set a value in every test (repeatable; wins over the values files).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,

    /// Run the template's code (cookiecutter hooks, command steps).
    #[arg(long)]
    pub trust: bool,

    /// Warn about unknown Backstage actions instead of failing.
    #[arg(long)]
    pub skip_unknown_actions: bool,

    /// Stop when a rendered file, or the project in total, would pass this
    /// many bytes (suffixes: 500KB, 100MB, 1GiB).
    #[arg(long, value_name = "BYTES", default_value = "100MB", value_parser = idp::scaffold::parse_byte_size)]
    pub max_output_bytes: u64,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t, value_name = "FORMAT")]
    pub output: TestFormat,
}

/// `scaffold list`.
#[derive(Debug, Args)]
pub struct ScaffoldListArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t, value_name = "FORMAT")]
    pub output: ViewFormat,
}

/// `scaffold show`.
#[derive(Debug, Args, Deserialize, JsonSchema)]
pub struct ScaffoldShowArgs {
    /// Template: catalog name, path or git URL (as for `idp scaffold`).
    pub template: String,
    /// Output format.
    #[serde(skip)]
    #[arg(short, long, value_enum, default_value_t, value_name = "FORMAT")]
    pub output: ViewFormat,
}

/// `scaffold --engine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    /// idp's own engine; a template with Python extensions is refused.
    Idp,
    /// the installed cookiecutter (cookiecutter templates only).
    Cookiecutter,
    /// idp's own, or cookiecutter when the template needs Python (--trust).
    Auto,
}

/// `scaffold TEMPLATE`: creating a project.
#[derive(Debug, Args)]
pub struct ScaffoldCreateArgs {
    /// Template: a path, a git URL, a Template entity, or a directory under
    /// the catalog's templates/.
    #[arg(value_name = "TEMPLATE", required = true)]
    pub template: Option<String>,

    /// Where to write. Cookiecutter: the directory the project directory is
    /// created in (default: the current directory). Backstage: the project
    /// directory itself (default: ./<name parameter>). Not `-o`: that is
    /// the output format.
    #[arg(short = 'd', long = "output-dir", value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub output_dir: Option<PathBuf>,

    /// Set a value (repeatable; later wins). Cookiecutter converts it as it
    /// converts extra context (yes/no for booleans, one of the choices).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,

    /// Read values from a YAML or JSON file (repeatable; --set wins). A
    /// cookiecutter replay file ({"cookiecutter": {…}}) is accepted too.
    #[arg(long = "values", value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub values: Vec<PathBuf>,

    /// Never ask: take the default of every value not given.
    #[arg(long)]
    pub defaults: bool,

    /// Never ask (cookiecutter's flag; same as --defaults).
    #[arg(long)]
    pub no_input: bool,

    /// Run the template's code: cookiecutter hooks and command steps.
    #[arg(long)]
    pub trust: bool,

    /// Write into an existing non-empty directory (existing files are kept
    /// unless --overwrite).
    #[arg(long)]
    pub force: bool,

    /// With --force: replace existing files the template also creates.
    #[arg(long, requires = "force")]
    pub overwrite: bool,

    /// Print the files that would be created; write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// With --dry-run: print each file's contents too.
    #[arg(long, requires = "dry_run")]
    pub diff: bool,

    /// Backstage: warn about unknown step actions instead of failing.
    #[arg(long)]
    pub skip_unknown_actions: bool,

    /// Backstage: really run publish:* steps (when the integration is
    /// configured) instead of a local git init.
    #[arg(long)]
    pub publish: bool,

    /// Commit the generated catalog-info.yaml to the catalog repository on a
    /// new branch (printed).
    #[arg(long)]
    pub register: bool,

    /// With --register: push the branch to the catalog's origin.
    #[arg(long, requires = "register")]
    pub push: bool,

    /// Do not create a git repository with a first commit.
    #[arg(long)]
    pub no_git: bool,

    /// Who renders a cookiecutter template. auto: idp, unless the template
    /// loads Jinja2 extensions written in Python (`_extensions:
    /// ["local_extensions.Foo"]`); then, with --trust, the installed
    /// cookiecutter (on PATH, or python3 -m cookiecutter), with a note.
    /// idp's staging, answers file, first commit, --register and validation
    /// stay around it. Example: `idp scaffold ./cookiecutter-pylibrary
    /// --trust` renders with cookiecutter, saying so on stderr.
    #[arg(long, value_enum, default_value_t = EngineArg::Auto, value_name = "ENGINE")]
    pub engine: EngineArg,

    /// Stop a template after this many rendering steps (runaway loops).
    #[arg(long, value_name = "N", default_value_t = idp::scaffold::DEFAULT_FUEL)]
    pub fuel: u64,

    /// Stop when a rendered file, or the project in total, would pass this
    /// many bytes (suffixes: 500KB, 100MB, 1GiB).
    #[arg(long, value_name = "BYTES", default_value = "100MB", value_parser = idp::scaffold::parse_byte_size)]
    pub max_output_bytes: u64,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t, value_name = "FORMAT")]
    pub output: ViewFormat,
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
