//! The scorecard document as written (`apiVersion: idp.dev/v1alpha1`,
//! `kind: Scorecard`): plain serde types for `spec`, read strictly so a typo
//! (`chek:`) is an error with its field path rather than a rule that never
//! runs. Compiling them into programs is `compile`'s job.

use serde::Deserialize;
use serde_json::Value;

/// `spec` of a Scorecard.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spec {
    /// Which entities are scored.
    #[serde(default)]
    pub applies_to: AppliesTo,
    /// Levels, lowest first.
    pub levels: Vec<LevelDef>,
    /// The default gate.
    #[serde(default)]
    pub gate: Option<GateDef>,
    /// The rules.
    pub rules: Vec<RuleDef>,
    /// Entities excused from a rule, with a reason and an expiry.
    #[serde(default)]
    pub exemptions: Vec<ExemptionDef>,
}

/// `spec.appliesTo`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppliesTo {
    /// Kinds scored (case-insensitive); empty: every kind but Scorecard.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// A CEL condition over `entity` (and `live`, `now`).
    #[serde(default, rename = "where")]
    pub condition: Option<String>,
}

/// One entry of `spec.levels`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LevelDef {
    /// Identifier rules and gates name (`silver`).
    pub id: String,
    /// Display title (`Silver`).
    #[serde(default)]
    pub title: Option<String>,
    /// A colour for the level (`#b08d57`), shown where colour is on.
    #[serde(default)]
    pub color: Option<String>,
}

/// `spec.gate`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GateDef {
    /// The level every scored entity must hold.
    #[serde(default)]
    pub min_level: Option<String>,
}

/// One entry of `spec.rules`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleDef {
    /// Identifier, unique in the scorecard.
    pub id: String,
    /// Display title.
    #[serde(default)]
    pub title: Option<String>,
    /// The level this rule belongs to.
    pub level: String,
    /// A CEL expression that must be true.
    #[serde(default)]
    pub check: Option<String>,
    /// Port-style sugar for `check`.
    #[serde(default)]
    pub query: Option<PortQuery>,
    /// A CEL condition; when false the rule is skipped.
    #[serde(default)]
    pub when: Option<String>,
    /// A MiniJinja template shown when the rule fails.
    #[serde(default)]
    pub message: Option<String>,
    /// A link explaining the standard.
    #[serde(default)]
    pub docs: Option<String>,
    /// `YYYY-MM-DD`: before this date a failure is a warning.
    #[serde(default)]
    pub enforce_from: Option<String>,
}

/// Port's rule query: `{combinator, conditions}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PortQuery {
    /// `and` or `or`.
    pub combinator: String,
    /// The conditions.
    pub conditions: Vec<PortCondition>,
}

/// One Port condition.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PortCondition {
    /// The property (`$team`, `lifecycle`, `metadata.annotations.x`).
    pub property: String,
    /// Port's operator (`=`, `!=`, `>`, `contains`, `isNotEmpty`, …).
    pub operator: String,
    /// The value compared with (absent for `isEmpty`/`isNotEmpty`).
    #[serde(default)]
    pub value: Option<Value>,
}

/// One entry of `spec.exemptions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExemptionDef {
    /// The rule excused.
    pub rule: String,
    /// Entity references (`component:default/legacy-billing`, or a bare
    /// component name).
    pub entities: Vec<String>,
    /// Why (shown in reports).
    pub reason: String,
    /// `YYYY-MM-DD`: the last day the exemption holds.
    #[serde(default)]
    pub expires: Option<String>,
}
