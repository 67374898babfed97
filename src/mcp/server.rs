//! The rmcp `ServerHandler`: lists the tools and resources, runs a call on
//! a blocking thread under a time cap, and turns results and errors into
//! MCP answers. An error is a tool error (`isError: true`) carrying the
//! CLI's message and hints; only an unknown tool is a protocol error.

use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock as Content,
    Implementation, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities,
    ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::Value;

use crate::command_error::CommandError;
use crate::commands::Context;
use crate::output::Ui;
use crate::settings::{Now, Settings};

use super::state::Catalogs;
use super::tools::{self, Answer, Tool};
use super::Options;

/// Longest a call may take before the server answers with an error (the
/// core's own budgets normally stop runaway work long before).
const CALL_CAP: Duration = Duration::from_secs(60);

/// The server: tools, the warm catalog and what the flags allow.
#[derive(Clone)]
pub struct Server(Arc<Inner>);

/// The shared part of [`Server`].
pub struct Inner {
    ui: &'static Ui,
    settings: Settings,
    tools: Vec<Tool>,
    /// The catalog, kept warm.
    pub catalogs: Arc<Catalogs>,
    /// `--allow-write`, absolute.
    pub allow_write: Option<std::path::PathBuf>,
    /// `--trust`.
    pub trust: bool,
}

impl std::ops::Deref for Server {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Server {
    /// A server for the catalog the settings name (loading starts now).
    pub fn new(ui: &'static Ui, settings: Settings, options: Options) -> Server {
        let catalogs = Catalogs::start(ui, settings.clone());
        let allow_write = options.allow_write.map(|d| settings.cwd.join(d));
        Server(Arc::new(Inner {
            ui,
            tools: tools::all(allow_write.is_some()),
            settings,
            catalogs,
            allow_write,
            trust: options.trust,
        }))
    }

    /// A tool by name.
    pub fn tool(&self, name: &str) -> Option<&Tool> {
        self.tools.iter().find(|t| t.name == name)
    }

    /// A context for one request: the server's settings, with the time of
    /// this request (scorecards' deadlines and `now`).
    pub fn context(&self) -> Context<'static> {
        let mut settings = self.settings.clone();
        settings.now = Now::resolve(&settings.env);
        Context {
            ui: self.ui,
            settings,
        }
    }

    fn run(&self, name: &str, arguments: Value) -> Result<Answer, CommandError> {
        let tool = self.tool(name).expect("checked by the caller");
        let ctx = self.context();
        (tool.run)(self, &ctx, arguments)
    }
}

/// The text of an error as the CLI prints it: the chain, then the hints.
pub fn error_text(err: &CommandError) -> String {
    let mut text = format!("error: {}", err.error);
    for cause in err.error.chain().skip(1) {
        text.push_str(&format!("\n  caused by: {cause}"));
    }
    for hint in &err.hints {
        text.push_str(&format!("\n  hint: {hint}"));
    }
    idp::secrets::redact(&text).into_owned()
}

fn tool_error(text: String) -> CallToolResult {
    CallToolResult::error(vec![Content::text(text)])
}

/// Secrets idp knows are redacted from everything it answers, as from
/// everything it prints.
fn redact(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let std::borrow::Cow::Owned(r) = idp::secrets::redact(s) {
                *s = r;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        Value::Object(map) => map.values_mut().for_each(redact),
        _ => {}
    }
}

fn answer(mut a: Answer) -> CallToolResult {
    redact(&mut a.structured);
    let json = serde_json::to_string(&a.structured).expect("JSON values serialize");
    let mut content = vec![Content::text(
        idp::secrets::redact(&format!("{}\n{json}", a.summary)).into_owned(),
    )];
    content.extend(
        a.more
            .into_iter()
            .map(|t| Content::text(idp::secrets::redact(&t).into_owned())),
    );
    let mut result = CallToolResult::success(content);
    result.structured_content = Some(a.structured);
    result
}

const INSTRUCTIONS: &str = "idp answers questions about this organisation's software catalog \
(Backstage-style catalog-info.yaml descriptors in git), locally and offline: who owns a \
service and how to reach them (who_owns), finding entities (search_entities), everything \
about one (get_entity), what depends on it (impact, dependency_graph), how it changed \
(entity_history, catalog_diff), whether it meets the standards (score), checking a \
descriptor before writing it (validate_descriptor), and project templates (list_templates, \
describe_template, scaffold_preview). Entity references look like component:default/checkout; \
a bare name works too.";

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(
            Implementation::new("idp", env!("CARGO_PKG_VERSION"))
                .with_title("idp — the software catalog"),
        )
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let tools = self
            .tools
            .iter()
            .map(|t| {
                let schema = match &t.schema {
                    Value::Object(m) => m.clone(),
                    _ => Default::default(),
                };
                rmcp::model::Tool::new(t.name, t.description, schema)
                    .with_title(t.title)
                    .with_annotations(t.annotations())
            })
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let name = request.name.to_string();
        if self.tool(&name).is_none() {
            let known: Vec<&str> = self.tools.iter().map(|t| t.name).collect();
            let near = known
                .iter()
                .filter(|k| strsim::jaro_winkler(k, &name) > 0.8)
                .copied()
                .collect::<Vec<_>>();
            let mut message = format!("unknown tool '{name}'");
            if !near.is_empty() {
                message.push_str(&format!("; did you mean {}?", near.join(", ")));
            }
            if name == "scaffold_create" {
                message.push_str("; start the server with --allow-write DIR to offer it");
            }
            return Err(McpError::invalid_params(
                message,
                Some(serde_json::json!({ "tools": known })),
            ));
        }
        let arguments = Value::Object(request.arguments.unwrap_or_default());
        let server = self.clone();
        let task = tokio::task::spawn_blocking(move || server.run(&name, arguments));
        let result = match tokio::time::timeout(CALL_CAP, task).await {
            Ok(Ok(Ok(a))) => answer(a),
            Ok(Ok(Err(e))) => tool_error(error_text(&e)),
            Ok(Err(join)) => tool_error(format!(
                "error: idp failed inside this tool ({join}); this is a bug, please report it"
            )),
            Err(_) => tool_error(format!(
                "error: the call took longer than {} s and was abandoned",
                CALL_CAP.as_secs()
            )),
        };
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let server = self.clone();
        let cursor = request.and_then(|r| r.cursor);
        tokio::task::spawn_blocking(move || super::resources::list(&server, cursor.as_deref()))
            .await
            .map_err(|e| McpError::internal_error(e.to_string(), None))?
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(
            super::resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let server = self.clone();
        let uri = request.uri.to_string();
        tokio::task::spawn_blocking(move || super::resources::read(&server, &uri))
            .await
            .map_err(|e| McpError::internal_error(e.to_string(), None))?
            .map(Into::into)
    }
}
