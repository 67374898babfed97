//! `idp list`.

use std::io::Write;

use crate::command_error::Result;
use serde_json::Value;

use crate::catalog::fields::default_kind;
use crate::catalog::filter_check::{check_filter, check_sort, FilterField, UnknownValue};
use crate::catalog::open::Opened;
use crate::catalog::query::{filter, sort, Condition, Filter, SortKey};
use crate::catalog::refs::{EntityRef, DEFAULT_NAMESPACE};
use crate::catalog::search::rank;
use crate::catalog::Entity;
use crate::cli::{FilterArgs, ListArgs};
use crate::exit::Exit;
use crate::output::entities::{entity_json, list_csv, list_table};
use crate::output::format::ListFormat;
use crate::output::{write_data, Data};

use super::{Context, Open, UsageError};

pub fn run(ctx: &Context, args: ListArgs) -> Result<Exit> {
    // A bad --sort is a usage error even when the catalog cannot be read.
    check_sort(&sort_keys(&args)).map_err(unknown_value)?;
    let opened = ctx.open_catalog(Open::INDEXED)?;
    let entities = select(ctx, opened, &args)?;

    let mut out = ctx.ui.stdout();
    match args.output {
        ListFormat::Table => list_table(&mut out, ctx.ui, &entities)?,
        ListFormat::Csv => list_csv(&mut out, &entities)?,
        // Streamed from the index's text: no value tree per entity.
        ListFormat::Json => crate::output::json_stream::write_entities(&mut out, &entities)?,
        ListFormat::Yaml => write_data(&mut out, Data::Yaml, &json(&entities))?,
    }
    out.flush()?;
    Ok(Exit::Ok)
}

/// The entities `args` select, in their order: filtered, ranked by
/// `--query`, sorted, kept at `--level`, cut at `--limit` (the MCP
/// `search_entities` tool runs this too).
pub fn select<'a>(ctx: &Context, opened: &'a Opened, args: &ListArgs) -> Result<Vec<&'a Entity>> {
    let wanted = build_filter(args.filters.clone())?;
    let sort_keys = sort_keys(args);
    check_sort(&sort_keys).map_err(unknown_value)?;
    check_filter(&opened.catalog, &wanted).map_err(unknown_value)?;
    let mut entities = filter(&opened.catalog, &wanted);
    if let Some(query) = &args.query {
        entities = rank(&entities, query).into_iter().map(|(e, _)| e).collect();
    }
    // Ranked results keep their rank unless a sort is asked for.
    if args.query.is_none() || !sort_keys.is_empty() {
        sort(&mut entities, &sort_keys);
    }
    if let (Some(level), Some(card)) = (&args.level, &args.scorecard) {
        let keys = entities.iter().map(|e| e.entity_ref().key()).collect();
        let at = super::score::entities_at_level(ctx, opened, &keys, card, level)?;
        entities.retain(|e| at.contains(&e.entity_ref().key()));
    }
    if let Some(n) = args.limit {
        entities.truncate(n);
    }
    Ok(entities)
}

/// The `list -o json` contract: each entity's descriptor with its `ref`
/// and `source`.
pub fn json(entities: &[&Entity]) -> Vec<Value> {
    entities.iter().map(|e| entity_json(e)).collect()
}

fn sort_keys(args: &ListArgs) -> Vec<SortKey> {
    args.sort.iter().map(|s| SortKey::parse(s)).collect()
}

/// The catalog filter the flags describe.
pub fn build_filter(args: FilterArgs) -> Result<Filter> {
    let conditions = args
        .conditions
        .iter()
        .map(|c| {
            Condition::parse(c).ok_or_else(|| {
                UsageError(format!("--where '{c}' is not PATH=VALUE or PATH!=VALUE"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let parse_ref =
        |text: &Option<String>, field: &str, entity_kind: &str| -> Result<Option<EntityRef>> {
            text.as_deref()
                .map(|t| {
                    EntityRef::parse(t, default_kind(entity_kind, field), DEFAULT_NAMESPACE)
                        .map_err(|e| UsageError(format!("--{field} {t}: {e}")).into())
                })
                .transpose()
        };
    let wanted = Filter {
        kinds: args.kind,
        owner: parse_ref(&args.owner, "owner", "component")?,
        include_subgroups: args.include_subgroups,
        system: parse_ref(&args.system, "system", "component")?,
        domain: parse_ref(&args.domain, "domain", "system")?,
        lifecycles: args.lifecycle,
        types: args.kind_type,
        tags: args.tag,
        conditions,
    };
    Ok(wanted)
}

/// A filter value the catalog does not know, as a usage error naming the
/// flag (a typo must not look like an empty answer).
pub fn unknown_value(e: UnknownValue) -> UsageError {
    let flag = match e.field {
        FilterField::Kind => "--kind",
        FilterField::Owner => "--owner",
        FilterField::System => "--system",
        FilterField::Domain => "--domain",
        FilterField::Lifecycle => "--lifecycle",
        FilterField::Type => "--type",
        FilterField::Tag => "--tag",
        FilterField::Sort => "--sort",
    };
    let hint = if !e.suggestions.is_empty() {
        format!("did you mean {}?", e.suggestions.join(", "))
    } else if e.field == FilterField::Sort {
        format!(
            "sort by {} or a dotted path (spec.lifecycle)",
            e.known.join(", ")
        )
    } else if e.known.is_empty() {
        format!("no entity has a {}", e.field.noun())
    } else {
        const SHOWN: usize = 12;
        let more = e.known.len().saturating_sub(SHOWN);
        let mut list = e.known[..e.known.len().min(SHOWN)].join(", ");
        if more > 0 {
            list.push_str(&format!(", … ({more} more)"));
        }
        format!("it has: {list}")
    };
    UsageError(format!("{flag}: {e}; {hint}"))
}
