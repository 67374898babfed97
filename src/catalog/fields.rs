//! The reference-carrying spec fields of every built-in kind: which field, what
//! default kind a bare name gets, and which relation pair it produces. This is
//! the one table both relation building and reference validation read, so the
//! two can never disagree (Backstage keeps it in BuiltinKindsEntityProcessor).

use super::relations::RelationType;

/// One spec field that holds entity references.
#[derive(Debug, Clone, Copy)]
pub struct RefField {
    /// Lowercase entity kind the field belongs to.
    pub entity_kind: &'static str,
    /// Field name under `spec`.
    pub field: &'static str,
    /// Whether the field holds a list of references (else a single string).
    pub many: bool,
    /// Kind assumed for a reference without one; `None` means the kind is required.
    pub default_kind: Option<&'static str>,
    /// Relation from the entity to the target.
    pub relation: RelationType,
}

macro_rules! field {
    ($kind:literal, $field:literal, $many:literal, $default:expr, $rel:ident) => {
        RefField {
            entity_kind: $kind,
            field: $field,
            many: $many,
            default_kind: $default,
            relation: RelationType::$rel,
        }
    };
}

/// Every reference field Backstage turns into relations.
pub const REF_FIELDS: &[RefField] = &[
    field!("component", "owner", false, Some("group"), OwnedBy),
    field!(
        "component",
        "subcomponentOf",
        false,
        Some("component"),
        PartOf
    ),
    field!("component", "providesApis", true, Some("api"), ProvidesApi),
    field!("component", "consumesApis", true, Some("api"), ConsumesApi),
    field!("component", "dependsOn", true, None, DependsOn),
    field!("component", "dependencyOf", true, None, DependencyOf),
    field!("component", "system", false, Some("system"), PartOf),
    field!("api", "owner", false, Some("group"), OwnedBy),
    field!("api", "system", false, Some("system"), PartOf),
    field!("resource", "owner", false, Some("group"), OwnedBy),
    field!("resource", "dependsOn", true, None, DependsOn),
    field!("resource", "dependencyOf", true, None, DependencyOf),
    field!("resource", "system", false, Some("system"), PartOf),
    field!("system", "owner", false, Some("group"), OwnedBy),
    field!("system", "domain", false, Some("domain"), PartOf),
    field!("domain", "owner", false, Some("group"), OwnedBy),
    field!("domain", "subdomainOf", false, Some("domain"), PartOf),
    field!("user", "memberOf", true, Some("group"), MemberOf),
    field!("group", "parent", false, Some("group"), ChildOf),
    field!("group", "children", true, Some("group"), ParentOf),
    field!("group", "members", true, Some("user"), HasMember),
    field!("template", "owner", false, Some("group"), OwnedBy),
];

/// The reference fields of one kind (lowercase).
pub fn ref_fields(kind: &str) -> impl Iterator<Item = &'static RefField> + '_ {
    REF_FIELDS.iter().filter(move |f| f.entity_kind == kind)
}

/// The default kind of `spec.<field>` on entities of `kind`, for parsing
/// user input the way the descriptor would be parsed.
pub fn default_kind(kind: &str, field: &str) -> Option<&'static str> {
    ref_fields(kind)
        .find(|f| f.field == field)
        .and_then(|f| f.default_kind)
}

/// One reference written in a spec: which field, where (`spec.dependsOn.2`),
/// and the text.
pub struct WrittenRef<'a> {
    /// The field's definition.
    pub field: &'static RefField,
    /// Dotted path of the value in the descriptor.
    pub path: String,
    /// The reference as written.
    pub text: &'a str,
    /// Whether the field has the shape its kind's schema asks for (a list for
    /// list fields); a misshapen field is reported once, as a type error.
    pub well_formed: bool,
}

/// Every reference written in `spec` of an entity of `kind` (lowercase): a
/// string or a list of strings in any reference field, as Backstage's
/// processor reads them (it flattens either form).
pub fn written_refs<'a>(kind: &str, spec: Option<&'a serde_json::Value>) -> Vec<WrittenRef<'a>> {
    let mut out = Vec::new();
    let Some(spec) = spec else { return out };
    for field in ref_fields(kind) {
        match spec.get(field.field) {
            Some(serde_json::Value::String(s)) => out.push(WrittenRef {
                field,
                path: format!("spec.{}", field.field),
                text: s,
                well_formed: !field.many,
            }),
            Some(serde_json::Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(s) = item.as_str() {
                        out.push(WrittenRef {
                            field,
                            path: format!("spec.{}.{i}", field.field),
                            text: s,
                            well_formed: field.many,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    out
}
