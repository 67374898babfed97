//! The published monthly aggregate: `idp cost --publish` commits it as
//! `cost.json` on `refs/idp/cost` of the catalog repository (like `enrich
//! --publish` does with live data on `refs/idp/live`) and pushes it; `idp
//! sync` fetches it; `idp cost` answers from it when there are no billing
//! files to read. It holds sums per (entity, month, service, currency),
//! never a billing row.

use git2::{Oid, Repository, Signature};

use super::aggregate::{Aggregate, Cell};
use super::CostError;
use crate::git_remote::{self, Credentials, PushError, Remote};

/// The ref.
pub const COST_REF: &str = "refs/idp/cost";
const FILE: &str = "cost.json";

fn git(what: &str) -> impl FnOnce(git2::Error) -> CostError + '_ {
    move |e| CostError::Publish {
        what: what.to_string(),
        message: e.message().to_string(),
    }
}

/// The aggregate summed per month (tags and unmatched values left out).
pub fn monthly(agg: &Aggregate) -> Aggregate {
    let mut sums: std::collections::BTreeMap<(i32, u32, u32, u16), rust_decimal::Decimal> =
        Default::default();
    for c in &agg.cells {
        let (y, m, _) = super::read::civil_from_days(c.day);
        let start = super::read::days_from_civil(y as i64, m, 1);
        *sums
            .entry((start, c.entity, c.service, c.currency))
            .or_default() += rust_decimal::Decimal::from(c.amount);
    }
    Aggregate {
        entities: agg.entities.clone(),
        services: agg.services.clone(),
        currencies: agg.currencies.clone(),
        tags: Vec::new(),
        cells: sums
            .into_iter()
            .map(|((day, entity, service, currency), a)| Cell {
                entity,
                day,
                service,
                currency,
                amount: a.into(),
            })
            .collect(),
        tag_cells: Vec::new(),
        rows: agg.rows,
        unmatched: Vec::new(),
        monthly: true,
    }
}

/// The JSON form: amounts as exact decimal strings.
#[derive(serde::Serialize, serde::Deserialize)]
struct Published {
    format: u32,
    entities: Vec<String>,
    services: Vec<String>,
    currencies: Vec<String>,
    rows: u64,
    /// `[entity index or -1, "YYYY-MM", service, currency, "amount"]`.
    cells: Vec<(i64, String, u32, u16, String)>,
}

/// Reads the aggregate on `refs/idp/cost`, if there is one.
pub fn read(repo: &Repository) -> Result<Option<Aggregate>, CostError> {
    let reference = match repo.find_reference(COST_REF) {
        Ok(r) => r,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(git("reading refs/idp/cost")(e)),
    };
    let commit = reference
        .peel_to_commit()
        .map_err(git("reading refs/idp/cost"))?;
    let tree = commit.tree().map_err(git("reading refs/idp/cost"))?;
    let corrupt = |m: String| CostError::Publish {
        what: format!("{COST_REF}:{FILE}"),
        message: m,
    };
    let entry = tree
        .get_name(FILE)
        .ok_or_else(|| corrupt(format!("no {FILE} in the commit")))?;
    let blob = repo
        .find_blob(entry.id())
        .map_err(git("reading refs/idp/cost"))?;
    let p: Published =
        serde_json::from_slice(blob.content()).map_err(|e| corrupt(e.to_string()))?;
    let mut cells = Vec::with_capacity(p.cells.len());
    for (e, month, s, c, a) in p.cells {
        let day = super::report::parse_bound(&month, false)
            .ok_or_else(|| corrupt(format!("bad month `{month}`")))?;
        let amount =
            super::read::parse_amount(&a).ok_or_else(|| corrupt(format!("bad amount `{a}`")))?;
        let valid = (e == -1 || (e >= 0 && (e as usize) < p.entities.len()))
            && (s as usize) < p.services.len()
            && (c as usize) < p.currencies.len();
        if !valid {
            return Err(corrupt("an index out of range".into()));
        }
        cells.push(Cell {
            entity: if e < 0 {
                super::aggregate::UNALLOCATED
            } else {
                e as u32
            },
            day,
            service: s,
            currency: c,
            amount: amount.into(),
        });
    }
    Ok(Some(Aggregate {
        entities: p.entities,
        services: p.services,
        currencies: p.currencies,
        tags: Vec::new(),
        cells,
        tag_cells: Vec::new(),
        rows: p.rows,
        unmatched: Vec::new(),
        monthly: true,
    }))
}

/// Commits the monthly aggregate on `refs/idp/cost` (parent: the previous
/// one). Touches neither HEAD, the index nor the working tree.
pub fn write(repo: &Repository, agg: &Aggregate) -> Result<Oid, CostError> {
    let m = monthly(agg);
    let p = Published {
        format: 1,
        entities: m.entities.clone(),
        services: m.services.clone(),
        currencies: m.currencies.clone(),
        rows: m.rows,
        cells: m
            .cells
            .iter()
            .map(|c| {
                let (y, mo, _) = super::read::civil_from_days(c.day);
                (
                    if c.entity == super::aggregate::UNALLOCATED {
                        -1
                    } else {
                        c.entity as i64
                    },
                    format!("{y:04}-{mo:02}"),
                    c.service,
                    c.currency,
                    rust_decimal::Decimal::from(c.amount)
                        .normalize()
                        .to_string(),
                )
            })
            .collect(),
    };
    let json = serde_json::to_vec(&p).expect("aggregates serialize");
    let blob = repo
        .blob(&json)
        .map_err(git("writing the cost aggregate"))?;
    let mut builder = repo
        .treebuilder(None)
        .map_err(git("writing the cost aggregate"))?;
    builder
        .insert(FILE, blob, 0o100644)
        .map_err(git("writing the cost aggregate"))?;
    let tree_id = builder.write().map_err(git("writing the cost aggregate"))?;
    let tree = repo
        .find_tree(tree_id)
        .map_err(git("writing the cost aggregate"))?;
    let parent = repo
        .find_reference(COST_REF)
        .ok()
        .and_then(|r| r.peel_to_commit().ok());
    let signature = repo
        .signature()
        .or_else(|_| Signature::now("idp", "idp@localhost"))
        .map_err(git("signing the cost commit"))?;
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let message = format!(
        "idp cost aggregate: {} cells from {} rows",
        p.cells.len(),
        p.rows
    );
    repo.commit(
        Some(COST_REF),
        &signature,
        &signature,
        &message,
        &tree,
        &parents,
    )
    .map_err(git("committing the cost aggregate"))
}

/// Pushes `refs/idp/cost` to `remote`.
pub fn push(repo: &Repository, remote: &str, creds: &Credentials) -> Result<(), CostError> {
    let refspec = format!("+{COST_REF}:{COST_REF}");
    git_remote::push(repo, remote, &[refspec.as_str()], creds).map_err(|e| match e {
        PushError::Git(e) => git("pushing refs/idp/cost")(e),
        PushError::Rejected { reference, status } => CostError::Publish {
            what: format!("pushing {reference}"),
            message: format!("the remote refused it: {status}"),
        },
    })
}

/// Fetches `refs/idp/cost` from `remote`; a remote without one is fine.
pub fn fetch(repo: &Repository, remote: &str, creds: &Credentials) -> Result<bool, CostError> {
    let refspec = format!("+{COST_REF}:{COST_REF}");
    match git_remote::fetch(repo, Remote::Named(remote), &[refspec.as_str()], creds) {
        Ok(_) => Ok(repo.find_reference(COST_REF).is_ok()),
        Err(e) if e.message().contains("couldn't find remote ref") => Ok(false),
        Err(e) => Err(git("fetching refs/idp/cost")(e)),
    }
}
