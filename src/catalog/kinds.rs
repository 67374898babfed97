//! Typed views of Backstage's built-in kinds. They document the descriptor
//! format and generate the JSON Schemas in `catalog-schema/` (via schemars)
//! that editors use. Entities are stored as JSON (every field kept); these
//! types are for schemas and typed reading, not for loading.

use std::collections::BTreeMap;

use schemars::schema::RootSchema;
use schemars::{schema_for, JsonSchema};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `apiVersion` values Backstage accepts for the core kinds.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub enum BackstageApiVersion {
    /// The current version.
    #[serde(rename = "backstage.io/v1alpha1")]
    V1alpha1,
    /// Also accepted.
    #[serde(rename = "backstage.io/v1beta1")]
    V1beta1,
}

/// Common metadata of every entity.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// Unique name within kind and namespace: 1-63 characters of `[a-zA-Z0-9]`
    /// separated by `-`, `_` or `.`.
    #[schemars(
        regex(pattern = r"^[a-zA-Z0-9]+([-_.][a-zA-Z0-9]+)*$"),
        length(min = 1, max = 63)
    )]
    pub name: String,
    /// Namespace; `default` when omitted. DNS-label format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"),
        length(min = 1, max = 63)
    )]
    pub namespace: Option<String>,
    /// Display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Human description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Key/value labels (`[prefix/]name` keys, values up to 63 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Key/value annotations (`[prefix/]name` keys, string values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Tags: lowercase `[a-z0-9:+#]` words joined by `-`, up to 63 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    /// External links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<LinkSchema>>,
    /// Any other metadata field is kept.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// A tag.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Tag(
    #[schemars(
        regex(pattern = r"^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$"),
        length(min = 1, max = 63)
    )]
    pub String,
);

/// An entry of `metadata.links`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LinkSchema {
    /// URL.
    #[schemars(length(min = 1))]
    pub url: String,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Icon key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Link type (`runbook`, `dashboard`, `chat`).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// A user or group profile.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Picture URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
}

/// A non-empty string.
type NonEmpty = String;

macro_rules! kind_envelope {
    ($(#[$doc:meta])* $envelope:ident, $kind_enum:ident, $kind:literal, $api:ty, $spec:ty) => {
        /// The `kind` value.
        #[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
        pub enum $kind_enum {
            /// The only value.
            #[serde(rename = $kind)]
            Kind,
        }
        $(#[$doc])*
        #[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "camelCase")]
        pub struct $envelope {
            /// API version.
            pub api_version: $api,
            /// Kind.
            pub kind: $kind_enum,
            /// Metadata.
            pub metadata: Metadata,
            /// Kind-specific fields.
            pub spec: $spec,
        }
    };
}

/// `spec` of a Component.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComponentSpec {
    /// Type (`service`, `website`, `library`, …).
    #[schemars(length(min = 1))]
    pub r#type: NonEmpty,
    /// Lifecycle (`experimental`, `production`, `deprecated`, …).
    #[schemars(length(min = 1))]
    pub lifecycle: NonEmpty,
    /// Owner reference (default kind Group).
    #[schemars(length(min = 1))]
    pub owner: NonEmpty,
    /// System reference (default kind System).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<NonEmpty>,
    /// Parent component (default kind Component).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subcomponent_of: Option<NonEmpty>,
    /// Provided APIs (default kind API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provides_apis: Option<Vec<NonEmpty>>,
    /// Consumed APIs (default kind API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumes_apis: Option<Vec<NonEmpty>>,
    /// Dependencies; each reference needs an explicit kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Vec<NonEmpty>>,
    /// Dependents; each reference needs an explicit kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependency_of: Option<Vec<NonEmpty>>,
}

/// `spec` of an API.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiSpec {
    /// Type (`openapi`, `asyncapi`, `graphql`, `grpc`, …).
    #[schemars(length(min = 1))]
    pub r#type: NonEmpty,
    /// Lifecycle.
    #[schemars(length(min = 1))]
    pub lifecycle: NonEmpty,
    /// Owner reference.
    #[schemars(length(min = 1))]
    pub owner: NonEmpty,
    /// The definition text (often a `$text` substitution).
    #[schemars(length(min = 1))]
    pub definition: NonEmpty,
    /// System reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<NonEmpty>,
}

/// `spec` of a Resource.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSpec {
    /// Type (`database`, `s3-bucket`, …).
    #[schemars(length(min = 1))]
    pub r#type: NonEmpty,
    /// Owner reference.
    #[schemars(length(min = 1))]
    pub owner: NonEmpty,
    /// Dependencies (explicit kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Vec<NonEmpty>>,
    /// Dependents (explicit kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependency_of: Option<Vec<NonEmpty>>,
    /// System reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<NonEmpty>,
}

/// `spec` of a System.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SystemSpec {
    /// Owner reference.
    #[schemars(length(min = 1))]
    pub owner: NonEmpty,
    /// Domain reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<NonEmpty>,
    /// Type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<NonEmpty>,
}

/// `spec` of a Domain.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainSpec {
    /// Owner reference.
    #[schemars(length(min = 1))]
    pub owner: NonEmpty,
    /// Parent domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdomain_of: Option<NonEmpty>,
    /// Type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<NonEmpty>,
}

/// `spec` of a Group.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupSpec {
    /// Type (`team`, `department`, `organization`, …).
    #[schemars(length(min = 1))]
    pub r#type: NonEmpty,
    /// Profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// Parent group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<NonEmpty>,
    /// Child groups (required, may be empty).
    pub children: Vec<NonEmpty>,
    /// Member users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<NonEmpty>>,
}

/// `spec` of a User.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserSpec {
    /// Profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// Groups the user belongs to (required, may be empty).
    pub member_of: Vec<NonEmpty>,
}

/// `spec.presence` of a Location.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    /// A missing target is an error.
    Required,
    /// A missing target is ignored.
    Optional,
}

/// `spec` of a Location.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocationSpec {
    /// Location type (`url`, `file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<NonEmpty>,
    /// One target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<NonEmpty>,
    /// Several targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<NonEmpty>>,
    /// Whether targets must exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<Presence>,
}

/// `apiVersion` of a Template.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub enum TemplateApiVersion {
    /// The scaffolder's current format.
    #[serde(rename = "scaffolder.backstage.io/v1beta3")]
    V1beta3,
}

/// One step of a Template.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateStep {
    /// Step id (for `steps.<id>.output`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Action id (`fetch:template`, `publish:github`, …).
    #[schemars(length(min = 1))]
    pub action: String,
    /// Action input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<BTreeMap<String, Value>>,
    /// Condition (boolean or template string).
    #[serde(default, rename = "if", skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
    /// Loop over a list or object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub each: Option<Value>,
}

/// `spec` of a Template.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateSpec {
    /// What the template creates (`service`, `website`, …).
    #[schemars(length(min = 1))]
    pub r#type: NonEmpty,
    /// Owner reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<NonEmpty>,
    /// JSON Schema form pages: one object or a list of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Steps, run in order.
    pub steps: Vec<TemplateStep>,
    /// Output links and text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<BTreeMap<String, Value>>,
}

kind_envelope!(/// A Component entity.
    ComponentEntity, ComponentKind, "Component", BackstageApiVersion, ComponentSpec);
kind_envelope!(/// An API entity.
    ApiEntity, ApiKind, "API", BackstageApiVersion, ApiSpec);
kind_envelope!(/// A Resource entity.
    ResourceEntity, ResourceKind, "Resource", BackstageApiVersion, ResourceSpec);
kind_envelope!(/// A System entity.
    SystemEntity, SystemKind, "System", BackstageApiVersion, SystemSpec);
kind_envelope!(/// A Domain entity.
    DomainEntity, DomainKind, "Domain", BackstageApiVersion, DomainSpec);
kind_envelope!(/// A Group entity.
    GroupEntity, GroupKind, "Group", BackstageApiVersion, GroupSpec);
kind_envelope!(/// A User entity.
    UserEntity, UserKind, "User", BackstageApiVersion, UserSpec);
kind_envelope!(/// A Location entity.
    LocationEntity, LocationKind, "Location", BackstageApiVersion, LocationSpec);
kind_envelope!(/// A Template entity.
    TemplateEntity, TemplateKind, "Template", TemplateApiVersion, TemplateSpec);

/// `apiVersion` of idp's own documents, which live in the catalog beside
/// the entities but are not Backstage kinds.
pub const IDP_API_VERSION: &str = "idp.dev/v1alpha1";

/// `kind` of scorecard documents (`idp.dev/v1alpha1`). The catalog only
/// needs to know that such a document is idp's own, not an unknown kind;
/// `score` owns what it means and checks its spec.
pub const SCORECARD_KIND: &str = "Scorecard";

/// Whether a `kind`/`apiVersion` pair is a scorecard document.
pub fn is_scorecard_kind(kind: &str, api_version: &str) -> bool {
    kind == SCORECARD_KIND && api_version == IDP_API_VERSION
}

/// The built-in kinds, as written in descriptors.
pub const BUILTIN_KINDS: &[&str] = &[
    "Component",
    "API",
    "Resource",
    "System",
    "Domain",
    "Group",
    "User",
    "Location",
    "Template",
];

/// One JSON Schema per kind plus `Entity.schema.json` (any of them), as
/// `(file name, schema)`, in a stable order.
pub fn schemas() -> Vec<(String, Value)> {
    let out: Vec<(String, RootSchema)> = vec![
        ("Component".into(), schema_for!(ComponentEntity)),
        ("API".into(), schema_for!(ApiEntity)),
        ("Resource".into(), schema_for!(ResourceEntity)),
        ("System".into(), schema_for!(SystemEntity)),
        ("Domain".into(), schema_for!(DomainEntity)),
        ("Group".into(), schema_for!(GroupEntity)),
        ("User".into(), schema_for!(UserEntity)),
        ("Location".into(), schema_for!(LocationEntity)),
        ("Template".into(), schema_for!(TemplateEntity)),
    ];
    // Each kind's schema stands alone; Entity.schema.json inlines them all
    // (definitions merged: the shared types have the same names and shapes)
    // so an editor needs just one file.
    let mut values: Vec<(String, Value)> = Vec::new();
    let mut definitions = serde_json::Map::new();
    let mut any_of = Vec::new();
    for (name, schema) in out {
        let mut value = serde_json::to_value(&schema).unwrap_or(Value::Null);
        values.push((format!("{name}.schema.json"), value.clone()));
        if let Value::Object(map) = &mut value {
            map.remove("$schema");
            if let Some(Value::Object(defs)) = map.remove("definitions") {
                definitions.extend(defs);
            }
        }
        any_of.push(value);
    }
    values.push((
        "Entity.schema.json".into(),
        serde_json::json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "title": "Backstage catalog entity (any built-in kind)",
            "description": "One descriptor document of a catalog-info.yaml. Generated by `idp schema`.",
            "anyOf": any_of,
            "definitions": definitions,
        }),
    ));
    values
}

#[cfg(test)]
mod tests {
    use super::schemas;
    use crate::catalog::load::{load, read_config};
    use crate::catalog::snapshot::WorkTree;

    /// The generated schema and the validator are two statements of one
    /// format: every entity of the (valid) example catalog must satisfy both.
    #[test]
    fn example_catalog_satisfies_the_generated_schema() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/acme");
        let tree = WorkTree::open(&root).expect("example catalog");
        let config = read_config(&tree, "examples/acme").expect("idp.yaml");
        let loaded = load(&tree, &config, &[]).expect("load");
        assert!(loaded.entities.len() >= 40);
        let (_, schema) = schemas()
            .into_iter()
            .find(|(n, _)| n == "Entity.schema.json")
            .expect("entity schema");
        let validator = jsonschema::validator_for(&schema).expect("valid schema");
        // Scorecards are idp's own kind, outside the Backstage entity schema.
        for e in loaded
            .entities
            .iter()
            .filter(|e| !super::is_scorecard_kind(&e.kind, &e.api_version))
        {
            let errors: Vec<String> = validator
                .iter_errors(e.doc())
                .map(|x| x.to_string())
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", e.entity_ref());
        }
    }
}
