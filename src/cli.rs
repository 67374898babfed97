//! Command-line definitions (clap). Only parsing lives here: doc comments are
//! the `--help` text, and everything is turned into plain settings in `main`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
3 entity not found or ambiguous, 4 catalog or config cannot be read."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
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

    /// Never touch the network: use the last fetched copy of a remote catalog.
    #[arg(long, global = true)]
    pub offline: bool,

    /// Output format. Not every command supports every format.
    #[arg(short, long, global = true, value_enum, default_value_t = Format::Table)]
    pub output: Format,

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

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable tables and text.
    Table,
    /// JSON (stable contract for scripts).
    Json,
    /// YAML.
    Yaml,
    /// CSV (`list` only).
    Csv,
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
    #[command(after_help = "Examples:
  idp who-owns checkout
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
  idp list --where metadata.annotations.tier=1 --sort -spec.lifecycle
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

    /// Fetch a remote catalog now (and rebuild the index).
    #[command(after_help = "Examples:
  idp --catalog https://github.com/acme/catalog.git sync")]
    Sync,
}

/// `who-owns`.
#[derive(Debug, Args)]
pub struct WhoOwnsArgs {
    /// Entity reference or name, a path (`.`), or a git remote URL.
    pub target: String,
}

/// `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only these kinds (component, api, resource, system, domain, group, user, …).
    #[arg(long, short = 'k', value_name = "KIND")]
    pub kind: Vec<String>,
    /// Only entities owned by this group or user.
    #[arg(long, value_name = "GROUP")]
    pub owner: Option<String>,
    /// With --owner: also entities owned by its subgroups.
    #[arg(long, requires = "owner")]
    pub include_subgroups: bool,
    /// Only entities in this system (and the system itself).
    #[arg(long, value_name = "SYSTEM")]
    pub system: Option<String>,
    /// Only entities in this domain: its systems and their parts.
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    /// Only this spec.lifecycle.
    #[arg(long, value_name = "LIFECYCLE")]
    pub lifecycle: Vec<String>,
    /// Only this spec.type.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind_type: Vec<String>,
    /// Only entities with this tag (repeat: all of them).
    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,
    /// A field condition, `dotted.path=value` or `dotted.path!=value`
    /// (e.g. metadata.annotations.tier=1). Repeat: all must hold.
    #[arg(long = "where", value_name = "PATH=VALUE")]
    pub conditions: Vec<String>,
    /// Sort by a field (name, kind, owner, type, lifecycle, system, title or
    /// a dotted path); prefix with - for descending. Repeatable.
    #[arg(long, value_name = "FIELD", allow_hyphen_values = true)]
    pub sort: Vec<String>,
}

/// `show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Entity reference or name.
    pub entity: String,
}

/// `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Files or directories to validate (default: the whole catalog).
    pub paths: Vec<PathBuf>,
}

/// `schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// One kind (component, api, …); default: any entity.
    pub kind: Option<String>,
    /// Write every schema file into this directory instead of printing.
    #[arg(long, value_name = "DIR")]
    pub write: Option<PathBuf>,
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
