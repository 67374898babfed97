//! MCP resources: each entity's descriptor as
//! `idp://entity/{kind}/{namespace}/{name}` and each scorecard as
//! `idp://scorecard/{name}`, as YAML (the descriptor as the catalog read
//! it, after substitutions). Listed 500 at a time.

use rmcp::model::{
    ListResourcesResult, ReadResourceResult, Resource, ResourceContents, ResourceTemplate,
};
use rmcp::ErrorData as McpError;

use idp::catalog::refs::EntityRef;
use idp::catalog::Entity;

use super::server::{error_text, Server};

/// Resources per page of `resources/list`.
const PAGE: usize = 500;

fn is_scorecard(e: &Entity) -> bool {
    e.kind.eq_ignore_ascii_case("scorecard")
}

fn uri(e: &Entity) -> String {
    if is_scorecard(e) {
        format!("idp://scorecard/{}", e.name)
    } else {
        format!(
            "idp://entity/{}/{}/{}",
            e.kind_key(),
            e.namespace.to_ascii_lowercase(),
            e.name
        )
    }
}

/// The URI templates (for clients that let users type a reference).
pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new("idp://entity/{kind}/{namespace}/{name}", "entity")
            .with_title("A catalog entity's descriptor")
            .with_description("kind, namespace and name as in component:default/checkout")
            .with_mime_type("application/yaml"),
        ResourceTemplate::new("idp://scorecard/{name}", "scorecard")
            .with_title("A scorecard")
            .with_mime_type("application/yaml"),
    ]
}

/// One page of resources (the cursor is the offset of the next one).
pub fn list(server: &Server, cursor: Option<&str>) -> Result<ListResourcesResult, McpError> {
    let ctx = server.context();
    let opened = server
        .catalogs
        .get(&ctx)
        .map_err(|e| McpError::internal_error(error_text(&e), None))?;
    let start: usize = match cursor {
        None => 0,
        Some(c) => c
            .parse()
            .map_err(|_| McpError::invalid_params(format!("bad cursor '{c}'"), None))?,
    };
    let entities = &opened.catalog.entities;
    let items = entities
        .iter()
        .skip(start)
        .take(PAGE)
        .map(|e| {
            let mut r = Resource::new(uri(e), e.entity_ref().to_string())
                .with_mime_type("application/yaml");
            if let Some(t) = &e.title {
                r = r.with_title(t.clone());
            }
            r
        })
        .collect();
    let mut page = ListResourcesResult::with_all_items(items);
    if start + PAGE < entities.len() {
        page.next_cursor = Some((start + PAGE).to_string());
    }
    Ok(page)
}

/// Reads one resource: the descriptor as YAML.
pub fn read(server: &Server, uri_text: &str) -> Result<ReadResourceResult, McpError> {
    let reference = if let Some(rest) = uri_text.strip_prefix("idp://entity/") {
        let parts: Vec<&str> = rest.split('/').collect();
        match parts.as_slice() {
            [kind, namespace, name] if !kind.is_empty() && !name.is_empty() => {
                format!("{kind}:{namespace}/{name}")
            }
            _ => {
                return Err(McpError::invalid_params(
                    format!("'{uri_text}' is not idp://entity/{{kind}}/{{namespace}}/{{name}}"),
                    None,
                ))
            }
        }
    } else if let Some(name) = uri_text.strip_prefix("idp://scorecard/") {
        format!("scorecard:default/{name}")
    } else {
        return Err(McpError::resource_not_found(
            format!("'{uri_text}' is not an idp:// resource (idp://entity/… or idp://scorecard/…)"),
            None,
        ));
    };
    let ctx = server.context();
    let opened = server
        .catalogs
        .get(&ctx)
        .map_err(|e| McpError::internal_error(error_text(&e), None))?;
    let catalog = &opened.catalog;
    let entity = EntityRef::parse(&reference, None, "default")
        .ok()
        .and_then(|r| catalog.get(&r));
    let entity = match entity {
        Some(e) => e,
        None => {
            // The CLI's message, with its did-you-mean.
            let why = match idp::catalog::resolve::resolve(catalog, &reference) {
                Err(e) => error_text(&e.into()),
                Ok(_) => format!("error: no entity {reference}"),
            };
            return Err(McpError::resource_not_found(why, None));
        }
    };
    let yaml = idp::yaml::to_string(entity.doc())
        .map_err(|e| McpError::internal_error(e.to_string(), None))?;
    let yaml = idp::secrets::redact(&yaml).into_owned();
    Ok(ReadResourceResult::new(vec![ResourceContents::text(
        yaml,
        uri(entity),
    )
    .with_mime_type("application/yaml")]))
}
