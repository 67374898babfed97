//! Typed command errors: what a command failed with, the [`Kind`] that decides
//! the exit code, and the hints that tell the user what to do about it.
//!
//! Every error type of the library converts into a [`CommandError`] through
//! an exhaustive `match` below (no `_ =>` arm on a library enum), so a new
//! variant does not compile until someone decides its kind and its advice.
//! That advice lives here, next to the decision, and may name flags and
//! commands; the library's `#[error]` strings say only what went wrong and
//! where. Anything not converted by a typed rule is [`Kind::Internal`]: a bug,
//! exit 70 with a request to report it, never a guess such as "catalog
//! unreadable". Like jj's `cli/src/command_error.rs`.
//!
//! Exit codes (DESIGN.md): 0 ok (also a closed pipe) · 1 a check failed ·
//! 2 usage or invalid input · 3 not found or ambiguous · 4 catalog or config
//! cannot be read (a remote catalog that cannot be fetched included) ·
//! 5 `scaffold check` found a newer version · 70 internal error.

use std::fmt::{self, Display};
use std::path::Path;

use crate::catalog::index::Miss;
use crate::catalog::parse::ParseError;
use crate::catalog::refs::RefError;
use crate::catalog::{CatalogError, LookupError};
use crate::commands::UsageError;
use crate::exit::Exit;
use idp::confine::ConfineError;
use idp::cost::CostError;
use idp::dora::DoraError;
use idp::init::InitError;
use idp::integrations::config::ConfigError;
use idp::integrations::published::PublishError;
use idp::integrations::FetchError;
use idp::report::SiteError;
use idp::scaffold::error::Blocked;
use idp::scaffold::merge::MergeError;
use idp::scaffold::update::UpdateError;
use idp::scaffold::version::VersionError;
use idp::scaffold::ScaffoldError;
use idp::score::query::QueryError;

/// The result of a command.
pub type Result<T, E = CommandError> = std::result::Result<T, E>;

/// What kind of failure an error is; decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bad arguments or invalid input: a flag value, a scorecard, a template,
    /// a value for a template (exit 2).
    User,
    /// An entity or template that does not exist, or a name that matches
    /// several (exit 3).
    NotFound,
    /// A configuration file (user config, idp.yaml, answers file) is missing
    /// where required or malformed (exit 4).
    Config,
    /// The catalog cannot be read: no such directory, no descriptors,
    /// a broken repository (exit 4).
    Catalog,
    /// A remote cannot be reached. Exit 4, as the catalog then cannot be
    /// read; kept apart so the hints can talk about the network.
    Network,
    /// The system refused a read or write idp needed (disk full,
    /// permissions, a failed write to stdout) (exit 4).
    Environment,
    /// A check the user asked for failed, e.g. a template hook (exit 1).
    CheckFailed,
    /// The reader of stdout went away: nothing to say (exit 0).
    BrokenPipe,
    /// A bug in idp (exit 70).
    Internal,
}

impl Kind {
    /// The process exit code of this kind.
    pub fn exit(self) -> Exit {
        match self {
            Kind::User => Exit::Usage,
            Kind::NotFound => Exit::NotFound,
            Kind::Config | Kind::Catalog | Kind::Network | Kind::Environment => Exit::Catalog,
            Kind::CheckFailed => Exit::Failed,
            Kind::BrokenPipe => Exit::Ok,
            Kind::Internal => Exit::Internal,
        }
    }
}

/// The hint every internal error carries.
pub const REPORT_HINT: &str = "this is a bug in idp; please report it with the command you ran";

/// An error on its way to the user: kind, the error chain, and hints.
pub struct CommandError {
    /// What kind of failure (the exit code).
    pub kind: Kind,
    /// The error with its chain of causes (context added at the edges).
    pub error: anyhow::Error,
    /// What the user can do about it, one line each.
    pub hints: Vec<String>,
}

impl CommandError {
    /// An error of `kind` without hints.
    pub fn new(kind: Kind, error: impl Into<anyhow::Error>) -> Self {
        CommandError {
            kind,
            error: error.into(),
            hints: Vec::new(),
        }
    }

    /// A usage error with this message.
    pub fn user(message: impl Into<String>) -> Self {
        UsageError(message.into()).into()
    }

    /// A bug: exit 70 with the request to report it.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        CommandError::new(Kind::Internal, error).hinted(REPORT_HINT)
    }

    /// Adds a hint.
    pub fn hinted(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// Wraps the error in context, keeping kind and hints.
    pub fn context<C: Display + Send + Sync + 'static>(mut self, context: C) -> Self {
        self.error = self.error.context(context);
        self
    }

    /// The exit code.
    pub fn exit(&self) -> Exit {
        self.kind.exit()
    }

    /// Whether the error is "no catalog configured" (commands that can work
    /// without a catalog go on without one).
    pub fn is_no_catalog(&self) -> bool {
        matches!(
            self.error.downcast_ref::<CatalogError>(),
            Some(CatalogError::NoCatalog { .. })
        )
    }

    fn typed<E>(error: E, (kind, hints): (Kind, Vec<String>)) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        CommandError {
            kind,
            error: anyhow::Error::new(error),
            hints,
        }
    }
}

impl fmt::Debug for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} error: {:?}", self.kind, self.error)
    }
}

impl Display for CommandError {
    /// The error (`{:#}`: with its causes, as anyhow prints them).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Display::fmt(&self.error, f)
    }
}

/// Context for results at the edges of commands (`.with_context(|| "writing X")`),
/// keeping the kind the typed conversion decided.
pub trait ErrorContext<T> {
    /// Wraps the error in the context `f` makes (only on error).
    fn with_context<C: Display + Send + Sync + 'static, F: FnOnce() -> C>(self, f: F) -> Result<T>;
}

impl<T, E: Into<CommandError>> ErrorContext<T> for std::result::Result<T, E> {
    fn with_context<C: Display + Send + Sync + 'static, F: FnOnce() -> C>(self, f: F) -> Result<T> {
        self.map_err(|e| e.into().context(f()))
    }
}

fn one(kind: Kind) -> (Kind, Vec<String>) {
    (kind, Vec::new())
}

fn with(kind: Kind, hints: &[&str]) -> (Kind, Vec<String>) {
    (kind, hints.iter().map(|h| h.to_string()).collect())
}

/// "did you mean" when there are near names, else `fallback`.
fn suggest(suggestions: &[String], fallback: &str) -> Vec<String> {
    if suggestions.is_empty() {
        vec![fallback.to_string()]
    } else {
        vec![format!("did you mean: {}?", suggestions.join(", "))]
    }
}

/// How to tell idp where the catalog is, naming the real user config file.
fn no_catalog_hints(user_config: &Path) -> Vec<String> {
    let file = if user_config.as_os_str().is_empty() {
        "$XDG_CONFIG_HOME/idp/config.yaml".to_string()
    } else {
        user_config.display().to_string()
    };
    vec![
        "tell idp where your catalog is, in one of these ways:".into(),
        "  idp --catalog <dir-or-git-url> …                 (this command)".into(),
        "  export IDP_CATALOG=<dir-or-git-url>               (this shell)".into(),
        format!("  echo 'catalog: <dir-or-git-url>' >> {file}   (always)"),
        "  or run idp inside a git repository that has an idp.yaml".into(),
    ]
}

const CATALOG_PATH_HINT: &str =
    "--catalog (or IDP_CATALOG) takes the catalog's root directory or a git URL";

fn catalog(e: &CatalogError) -> (Kind, Vec<String>) {
    match e {
        CatalogError::NoCatalog { user_config } => (Kind::Config, no_catalog_hints(user_config)),
        CatalogError::Missing { .. } | CatalogError::NotADirectory { .. } => {
            with(Kind::Catalog, &[CATALOG_PATH_HINT])
        }
        CatalogError::NoDescriptors { .. } => with(
            Kind::Catalog,
            &[
                "a descriptor is a YAML document with apiVersion and kind (a catalog-info.yaml)",
                CATALOG_PATH_HINT,
                "if the descriptors are there, check include: and exclude: in the catalog's idp.yaml",
            ],
        ),
        CatalogError::Git { .. } => one(Kind::Catalog),
        CatalogError::BadRevision { .. } => {
            with(Kind::User, &["`git log --oneline` or `git tag` list what exists"])
        }
        CatalogError::NotGit { .. } => with(
            Kind::User,
            &["older versions of the catalog are read from its git history: commit the catalog to a git repository (git init; git add -A; git commit), or point --catalog at a clone"],
        ),
        CatalogError::NeverFetched { .. } => with(
            Kind::Network,
            &["run `idp sync` once while online; after that, --offline reads the fetched copy"],
        ),
        CatalogError::Remote { .. } => with(
            Kind::Network,
            &["check the URL, your network and your git credentials; idp needs one successful fetch before --offline can work"],
        ),
        CatalogError::BeforeHistory { .. } => one(Kind::User),
        CatalogError::Config { .. } => one(Kind::Config),
        CatalogError::Io { .. } => one(Kind::Catalog),
    }
}

fn lookup(e: &LookupError) -> (Kind, Vec<String>) {
    match e {
        LookupError::NotFound { suggestions, .. } => (
            Kind::NotFound,
            suggest(suggestions, "`idp list` shows what the catalog holds"),
        ),
        LookupError::Ambiguous { candidates, .. } => (
            Kind::NotFound,
            vec![
                format!("it matches: {}", candidates.join(", ")),
                "name one with kind:namespace/name".into(),
            ],
        ),
        LookupError::NoMatchForRepo { .. } => with(
            Kind::NotFound,
            &["annotate the entity with github.com/project-slug: <org>/<repo> or backstage.io/source-location, or add a CODEOWNERS file"],
        ),
        LookupError::Invalid { .. } => one(Kind::User),
    }
}

fn reference(e: &RefError) -> (Kind, Vec<String>) {
    match e {
        RefError::Empty | RefError::MissingKind(_) | RefError::Malformed(_) => one(Kind::User),
    }
}

fn parse(e: &ParseError) -> (Kind, Vec<String>) {
    // Descriptor text given to a command (a generated descriptor, a file
    // named on the command line) that does not parse: invalid input.
    match e {
        ParseError::TooLarge { .. }
        | ParseError::NotUtf8 { .. }
        | ParseError::TooDeep { .. }
        | ParseError::TooManyNodes { .. }
        | ParseError::TooMuchText { .. }
        | ParseError::Yaml { .. } => one(Kind::User),
    }
}

fn index_miss(e: &Miss) -> (Kind, Vec<String>) {
    // The index is rebuilt on any miss; one reaching a command is a bug.
    match e {
        Miss::Absent | Miss::Stale | Miss::Corrupt { .. } => with(Kind::Internal, &[REPORT_HINT]),
    }
}

fn init(e: &InitError) -> (Kind, Vec<String>) {
    match e {
        InitError::NotEmpty { .. } => with(
            Kind::User,
            &["pick a new directory, or add --force to add the files anyway (existing files are never overwritten)"],
        ),
        InitError::Exists { .. } => with(
            Kind::User,
            &["idp init never overwrites a file, and nothing was written; move that file away or pick another directory"],
        ),
        InitError::NotADirectory { .. } => one(Kind::User),
        InitError::Io { .. } => one(Kind::Environment),
        InitError::Git { .. } => one(Kind::Catalog),
    }
}

fn confine(e: &ConfineError) -> (Kind, Vec<String>) {
    match e {
        ConfineError::Absolute { .. }
        | ConfineError::GoesUp { .. }
        | ConfineError::Symlink { .. } => one(Kind::User),
        ConfineError::Io { .. } => one(Kind::Catalog),
    }
}

const TOKENS_HINT: &str = "`idp doctor` lists the integrations and the token variables they read";

fn fetch(e: &FetchError) -> (Kind, Vec<String>) {
    match e {
        FetchError::MissingToken { .. } => with(Kind::Config, &[TOKENS_HINT]),
        FetchError::Offline { .. } => with(
            Kind::Network,
            &["run once without --offline to fill the cache"],
        ),
        FetchError::Status {
            code: 401 | 403, ..
        } => with(Kind::Network, &[TOKENS_HINT]),
        FetchError::Dns { .. }
        | FetchError::Connect { .. }
        | FetchError::Timeout { .. }
        | FetchError::Deadline { .. }
        | FetchError::RateLimited { .. }
        | FetchError::Status { .. }
        | FetchError::Malformed { .. }
        | FetchError::TooLarge { .. }
        | FetchError::Redirect { .. }
        | FetchError::Decode { .. }
        | FetchError::Url { .. }
        | FetchError::Other(_) => one(Kind::Network),
    }
}

fn publish(e: &PublishError) -> (Kind, Vec<String>) {
    match e {
        PublishError::Git { .. } | PublishError::Corrupt(_) => one(Kind::Catalog),
        PublishError::Refused { .. } => with(
            Kind::Network,
            &["the remote must accept pushes of refs/idp/live (no branch protection or hook refusing it)"],
        ),
    }
}

fn cost(e: &CostError) -> (Kind, Vec<String>) {
    match e {
        CostError::Io { .. } => one(Kind::Environment),
        CostError::MissingColumns { .. } => with(
            Kind::User,
            &["export FOCUS 1.0 or later; idp needs the metric column, BillingCurrency, ChargePeriodStart and ServiceName"],
        ),
        CostError::BadValue { .. } | CostError::Csv { .. } | CostError::Parquet { .. } => with(
            Kind::User,
            &["fix or re-export the billing file; idp never skips a charge it cannot read"],
        ),
        CostError::Unsupported { .. } => one(Kind::User),
        CostError::TooBig { .. } => with(
            Kind::User,
            &[
                "cost.sources matched more billing data than cost.maxBytes allows (a pull request may have committed it); keep big exports outside the catalog and read them with `idp cost --source`, or publish the aggregate with `idp cost --publish`",
            ],
        ),
        CostError::Config(_) => one(Kind::Config),
        CostError::Confine(e) => confine(e),
        CostError::NoData(_) => with(
            Kind::Config,
            &[
                "set cost.sources in idp.yaml, pass --source, or run `idp sync` to fetch the aggregate a scheduled `idp cost --publish` pushed",
            ],
        ),
        CostError::Publish { .. } => one(Kind::Catalog),
    }
}

fn version(e: &VersionError) -> (Kind, Vec<String>) {
    match e {
        VersionError::NotARepo { .. }
        | VersionError::UnknownCommit { .. }
        | VersionError::MissingDir { .. }
        | VersionError::Git { .. } => one(Kind::Catalog),
        VersionError::Io { .. } => one(Kind::Environment),
    }
}

fn merge(e: &MergeError) -> (Kind, Vec<String>) {
    match e {
        MergeError::Io { .. } => one(Kind::Environment),
    }
}

fn update(e: &UpdateError) -> (Kind, Vec<String>) {
    match e {
        UpdateError::Answers { .. } => with(
            Kind::Config,
            &["was this project made with `idp scaffold`? idp reads .idp/answers.yaml in the project directory"],
        ),
        UpdateError::WriteAnswers { .. } => one(Kind::Environment),
        UpdateError::NoCommit { .. } => one(Kind::Config),
        UpdateError::Version(v) => version(v),
        UpdateError::Source { .. } => one(Kind::Catalog),
        UpdateError::Catalog { .. } => with(
            Kind::Catalog,
            &["pass --catalog <dir-or-url> to read it from where it is now"],
        ),
        UpdateError::Dirty { .. } => {
            with(Kind::User, &["commit or stash them first, or pass --force"])
        }
        UpdateError::NotVersioned { .. } => with(Kind::User, &["pass --force to update anyway"]),
        // The render error underneath says what went wrong.
        UpdateError::Render { source, .. } => scaffold(source),
        UpdateError::Merge(m) => merge(m),
    }
}

fn scaffold(e: &ScaffoldError) -> (Kind, Vec<String>) {
    match e {
        ScaffoldError::Io { .. } => one(Kind::Environment),
        ScaffoldError::Render { .. }
        | ScaffoldError::Refused { .. }
        | ScaffoldError::UnsafePath { .. }
        | ScaffoldError::InvalidTemplate { .. }
        | ScaffoldError::InvalidValue { .. }
        | ScaffoldError::ValuesFile { .. }
        | ScaffoldError::Prompt { .. }
        | ScaffoldError::Unsupported(_) => one(Kind::User),
        ScaffoldError::OutputTooLarge { .. } => with(
            Kind::User,
            &["raise the limit with --max-output-bytes if it is legitimate"],
        ),
        ScaffoldError::OutOfFuel { .. } => {
            with(Kind::User, &["raise the limit with --fuel if it is legitimate"])
        }
        ScaffoldError::MissingValue { flag, .. } => (Kind::User, vec![format!("pass {flag}")]),
        ScaffoldError::NotFound { suggestions, .. } => (
            Kind::NotFound,
            suggest(
                suggestions,
                "`idp scaffold list` shows the catalog's templates; a path or git URL works too",
            ),
        ),
        ScaffoldError::TargetNotEmpty { .. } => with(
            Kind::User,
            &["add --force to write into it; existing files are never overwritten without --overwrite"],
        ),
        ScaffoldError::WouldOverwrite { .. } => {
            with(Kind::User, &["add --overwrite to replace them"])
        }
        ScaffoldError::UnknownAction { .. } => with(
            Kind::User,
            &["pass --skip-unknown-actions to skip such steps with a warning"],
        ),
        ScaffoldError::PublishUnsupported { .. } => with(
            Kind::User,
            &["run without --publish to create the repository locally (git init and a first commit)"],
        ),
        ScaffoldError::Hook { .. } => one(Kind::CheckFailed),
        ScaffoldError::Git { .. } => one(Kind::Catalog),
        ScaffoldError::PythonCode { why, .. } => with(
            Kind::User,
            &[match why {
                Blocked::Untrusted => "idp renders it only with --trust and an installed cookiecutter (pip install cookiecutter)",
                Blocked::NotInstalled => "install cookiecutter (pip install cookiecutter) so that `cookiecutter` is on PATH; with --trust idp then renders the template with it",
                Blocked::EngineIdp => "leave out --engine idp: with --trust and an installed cookiecutter (pip install cookiecutter) idp renders it with cookiecutter",
            }],
        ),
        // Its own message (the end of its error output) says why.
        ScaffoldError::Engine { .. } => one(Kind::User),
    }
}

/// Library errors convert with the rule above; the error keeps its chain.
macro_rules! typed {
    ($($ty:ty => $rule:expr),* $(,)?) => {$(
        impl From<$ty> for CommandError {
            fn from(e: $ty) -> Self {
                let decided = $rule(&e);
                CommandError::typed(e, decided)
            }
        }
    )*};
}

typed! {
    CatalogError => catalog,
    LookupError => lookup,
    RefError => reference,
    ParseError => parse,
    Miss => index_miss,
    InitError => init,
    ConfineError => confine,
    FetchError => fetch,
    PublishError => publish,
    CostError => cost,
    VersionError => version,
    MergeError => merge,
    UpdateError => update,
    ScaffoldError => scaffold,
    // idp.yaml's integrations section is malformed.
    ConfigError => |_: &ConfigError| one(Kind::Config),
    // A scorecard condition that does not parse: a bad scorecard is invalid input.
    QueryError => |_: &QueryError| one(Kind::User),
    UsageError => |_: &UsageError| one(Kind::User),
    SiteError => site,
    DoraError => dora,
}

fn site(e: &SiteError) -> (Kind, Vec<String>) {
    match e {
        SiteError::NotEmpty { .. } | SiteError::NotOurs(_) => one(Kind::User),
        SiteError::NotADirectory(_) | SiteError::Symlink(_) | SiteError::Unwritable { .. } => {
            one(Kind::Environment)
        }
    }
}

fn dora(e: &DoraError) -> (Kind, Vec<String>) {
    match e {
        DoraError::Config(_) => with(
            Kind::Config,
            &["`idp validate` lists every problem of idp.yaml at its line"],
        ),
        DoraError::NoGithub => with(
            Kind::Config,
            &["add `integrations: { github: {} }` to the catalog's idp.yaml (base_url: for GitHub Enterprise); GITHUB_TOKEN holds the token"],
        ),
    }
}

impl From<std::io::Error> for CommandError {
    /// An I/O error without a path: almost always writing stdout. A closed
    /// pipe is the reader going away (`idp list | head`), not a failure.
    fn from(e: std::io::Error) -> Self {
        let kind = if e.kind() == std::io::ErrorKind::BrokenPipe {
            Kind::BrokenPipe
        } else {
            Kind::Environment
        };
        CommandError::new(kind, e)
    }
}

impl From<serde_json::Error> for CommandError {
    /// Serializing idp's own values cannot fail unless idp has a bug.
    fn from(e: serde_json::Error) -> Self {
        match e.io_error_kind() {
            Some(kind) => std::io::Error::from(kind).into(),
            None => CommandError::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn exit_of(e: impl Into<CommandError>) -> i32 {
        e.into().exit() as i32
    }

    #[test]
    fn kinds_map_to_the_documented_codes() {
        assert_eq!(Kind::User.exit() as i32, 2);
        assert_eq!(Kind::NotFound.exit() as i32, 3);
        assert_eq!(Kind::Config.exit() as i32, 4);
        assert_eq!(Kind::Catalog.exit() as i32, 4);
        assert_eq!(Kind::Network.exit() as i32, 4);
        assert_eq!(Kind::Environment.exit() as i32, 4);
        assert_eq!(Kind::CheckFailed.exit() as i32, 1);
        assert_eq!(Kind::BrokenPipe.exit() as i32, 0);
        assert_eq!(Kind::Internal.exit() as i32, 70);
    }

    #[test]
    fn library_errors_get_their_kind() {
        let not_found = LookupError::NotFound {
            query: "x".into(),
            suggestions: vec![],
        };
        assert_eq!(exit_of(not_found), 3);
        let invalid = LookupError::Invalid {
            query: "a:b:c".into(),
            reason: "x".into(),
        };
        assert_eq!(exit_of(invalid), 2);
        assert_eq!(
            exit_of(CatalogError::NoCatalog {
                user_config: PathBuf::new()
            }),
            4
        );
        assert_eq!(
            exit_of(CatalogError::NotGit {
                what: "x".into(),
                path: "/x".into()
            }),
            2
        );
        assert_eq!(exit_of(UsageError("bad".into())), 2);
        let hook = ScaffoldError::Hook {
            path: "hooks/post.sh".into(),
            message: "exit 1".into(),
        };
        assert_eq!(exit_of(hook), 1);
    }

    #[test]
    fn a_closed_pipe_exits_0_and_other_io_errors_4() {
        let pipe = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert_eq!(exit_of(pipe), 0);
        let full = std::io::Error::other("no space left on device");
        assert_eq!(exit_of(full), 4);
    }

    #[test]
    fn an_internal_error_exits_70_asking_for_a_report() {
        let e = CommandError::internal(anyhow::anyhow!("impossible"));
        assert_eq!(e.exit() as i32, 70);
        assert_eq!(e.hints, [REPORT_HINT]);
    }

    #[test]
    fn a_render_error_in_an_update_keeps_the_render_errors_kind() {
        let e = UpdateError::Render {
            version: "v2".into(),
            source: ScaffoldError::OutOfFuel {
                what: "file a".into(),
                fuel: 10,
            },
        };
        let e = CommandError::from(e);
        assert_eq!(e.kind, Kind::User);
        assert!(e.hints[0].contains("--fuel"), "{:?}", e.hints);
    }

    #[test]
    fn context_keeps_kind_and_hints() {
        let r: std::result::Result<(), _> = Err(ScaffoldError::WouldOverwrite {
            paths: vec!["a".into()],
        });
        let e = r.with_context(|| "writing the project").unwrap_err();
        assert_eq!(e.kind, Kind::User);
        assert!(e.hints[0].contains("--overwrite"));
        assert_eq!(e.to_string(), "writing the project");
        assert!(format!("{e:#}").contains("would be overwritten"));
    }

    #[test]
    fn the_no_catalog_hint_names_the_real_config_file() {
        let e = CommandError::from(CatalogError::NoCatalog {
            user_config: "/xdg/idp/config.yaml".into(),
        });
        assert!(e.is_no_catalog());
        assert!(
            e.hints.iter().any(|h| h.contains("/xdg/idp/config.yaml")),
            "{:?}",
            e.hints
        );
        assert!(!e.hints.iter().any(|h| h.contains("~/.config")));
    }

    #[test]
    fn the_never_fetched_hint_does_not_recommend_offline_as_the_fix() {
        let e = CommandError::from(CatalogError::NeverFetched { url: "u".into() });
        assert_eq!(e.exit() as i32, 4);
        assert!(e.hints[0].contains("idp sync"), "{:?}", e.hints);
        assert!(!e.to_string().contains("--offline"));
    }
}
