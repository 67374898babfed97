//! What `idp validate` reports about a Scorecard document: every compile
//! issue (bad CEL, unknown level or function, duplicates, runaway
//! expressions), plus what needs the catalog and the date: exemptions naming
//! entities that do not exist, and exemptions that have expired (ignored by
//! `idp score`, so worth a warning).

use chrono::NaiveDate;

use crate::catalog::problem::Severity;
use crate::catalog::validate::Finding;
use crate::catalog::{Catalog, Entity};

use super::compile::compile;

/// Findings for one scorecard entity (field paths relative to the document);
/// `today` decides which exemptions have expired.
pub fn findings(entity: &Entity, catalog: &Catalog, today: NaiveDate) -> Vec<Finding> {
    let outcome = compile(entity);
    let mut out: Vec<Finding> = outcome
        .issues
        .into_iter()
        .map(|i| match i.severity {
            Severity::Error => Finding::error(i.code, i.message, &i.field),
            Severity::Warning => Finding::warning(i.code, i.message, &i.field),
        })
        .collect();
    let Some(card) = outcome.scorecard else {
        return out;
    };
    for (i, x) in card.exemptions.iter().enumerate() {
        for (j, key) in x.entities.iter().enumerate() {
            if catalog.get_key(key).is_none() {
                out.push(Finding::warning(
                    "unknown-exemption-entity",
                    format!("exemption names {key}, which is not in the catalog; it has no effect"),
                    &format!("spec.exemptions.{i}.entities.{j}"),
                ));
            }
        }
        if let Some(d) = x.expires.filter(|d| *d < today) {
            out.push(Finding::warning(
                "expired-exemption",
                format!("exemption from rule \"{}\" expired on {d} and is ignored; renew it or fix the entities", x.rule),
                &format!("spec.exemptions.{i}.expires"),
            ));
        }
    }
    out
}
