//! `idp who-owns <entity | path | git remote>`.

use std::io::Write;
use std::path::Path;

use crate::command_error::Result;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::catalog::open::Opened;
use crate::catalog::ownership::{self, MatchedBy, OwnerReport};
use crate::catalog::refs::{EntityRef, DEFAULT_NAMESPACE};
use crate::catalog::resolve::resolve;
use crate::cli::WhoOwnsArgs;
use crate::exit::Exit;
use crate::integrations::config::Kind;
use crate::integrations::pagerduty::oncall_from_facts;
use crate::integrations::{EntityView, Outcome, Status};
use crate::output::{owners, write_data};

use super::{live, Context, Open};

pub fn run(ctx: &Context, args: WhoOwnsArgs) -> Result<Exit> {
    let opened = ctx.open_catalog(Open::INDEXED)?;
    let answer = report(ctx, opened, &args.target)?;
    let mut out = ctx.ui.stdout();
    match args.output.data() {
        None => {
            owners::render(&mut out, ctx.ui, &answer.report)?;
            crate::output::cost::passing_section(&mut out, ctx.ui, &answer.cost)?;
        }
        Some(data) => write_data(&mut out, data, &answer)?,
    }
    out.flush()?;
    Ok(Exit::Ok)
}

/// The `who-owns -o json` contract (the MCP `who_owns` tool answers this
/// too, so the two cannot drift): the owner report, and the entity's cost
/// last month when there is cost data.
#[derive(Debug, Serialize)]
pub struct WhoOwns {
    /// Who owns it, with live data.
    #[serde(flatten)]
    pub report: OwnerReport,
    /// Its cost last month, per source (absent without cost data).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cost: Vec<idp::cost::report::Summary>,
}

/// Who owns `target` (an entity, a path or a git remote), with live data
/// and cost.
pub fn report(ctx: &Context, opened: &Opened, target: &str) -> Result<WhoOwns> {
    let catalog = &opened.catalog;
    let mut report = if looks_like_remote(target) {
        ownership::for_remote(catalog, target)?
    } else if looks_like_path(target) {
        ownership::for_path(catalog, &ctx.settings.cwd.join(target))?
    } else {
        let entity = resolve(catalog, target)?;
        ownership::report(catalog, entity, MatchedBy::Name)
    };
    add_live(ctx, opened, &mut report);
    let cost = report
        .entity
        .as_deref()
        .and_then(|r| EntityRef::parse(r, None, DEFAULT_NAMESPACE).ok())
        .and_then(|r| catalog.get(&r))
        .map(|e| super::cost::last_month_of(ctx, catalog, e))
        .unwrap_or_default();
    Ok(WhoOwns { report, cost })
}

/// On-call and latest activity from the integrations, for the entity and
/// its owner. Never fails: what went wrong goes into `live_status`.
fn add_live(ctx: &Context, opened: &Opened, report: &mut OwnerReport) {
    let catalog = &opened.catalog;
    let Some(entity) = report
        .entity
        .as_deref()
        .and_then(|r| EntityRef::parse(r, None, DEFAULT_NAMESPACE).ok())
        .and_then(|r| catalog.get(&r))
    else {
        return;
    };
    let owner = report
        .owner
        .as_ref()
        .and_then(|o| EntityRef::parse(&o.entity_ref, None, DEFAULT_NAMESPACE).ok())
        .and_then(|r| catalog.get(&r));
    let mut views = vec![EntityView::of(entity)];
    views.extend(owner.map(EntityView::of));
    let (snapshot, off) = live::fetch(ctx, opened, &views);
    let Some(snapshot) = snapshot else {
        report.live_status = off;
        return;
    };
    report.live_configured = true;
    let pagerduty: Vec<String> = live::config(ctx, opened)
        .map(|c| {
            c.integrations
                .iter()
                .filter(|i| i.kind == Kind::Pagerduty)
                .map(|i| i.name.clone())
                .collect()
        })
        .unwrap_or_default();
    let empty = BTreeMap::new();
    let mine = snapshot.of(&views[0].key).unwrap_or(&empty);
    let theirs = views
        .get(1)
        .and_then(|v| snapshot.of(&v.key))
        .unwrap_or(&empty);
    report.live = mine
        .iter()
        .map(|(k, o)| {
            (
                k.clone(),
                serde_json::to_value(o).expect("outcomes serialize"),
            )
        })
        .collect();
    // The entity's own on-call first, then its owner's; when the owner's
    // is shown, say so and why the entity's own gave nobody.
    let mut why = Vec::new();
    // The entity's own answers, worded for the label of the owner's on-call.
    let mut own = Vec::new();
    for (via, whose, outcomes) in [
        ("entity", &views[0], mine),
        ("owner", views.get(1).unwrap_or(&views[0]), theirs),
    ] {
        for name in &pagerduty {
            match outcomes.get(name) {
                Some(o) if o.status == Status::Ok => {
                    let people = oncall_from_facts(&o.facts);
                    if let Some(failed) = o.unavailable_facts.get("oncall") {
                        why.push(format!("{name} for {}: {failed}", whose.key));
                        own.push(format!("{}'s own lookup failed: {failed}", whose.name));
                    } else if people.is_empty() {
                        why.push(format!("nobody is on call for {}", whose.key));
                        own.push(format!("nobody is on call for {}", whose.name));
                    } else if report.oncall.is_empty() {
                        report.oncall = people
                            .iter()
                            .map(|p| serde_json::to_value(p).expect("on-call serializes"))
                            .collect();
                        report.oncall_source = Some(serde_json::json!({
                            "entity": whose.key,
                            "integration": name,
                            "via": via,
                            "own": (via == "owner").then(|| own.join("; ")),
                        }));
                    }
                }
                Some(o) => {
                    let reason = o.reason.as_deref().unwrap_or("unavailable");
                    why.push(format!("{name} for {}: {reason}", whose.key));
                    own.push(match o.status {
                        Status::Absent => format!("{} has no {name} link: {reason}", whose.name),
                        _ => format!("{}'s own lookup failed: {reason}", whose.name),
                    });
                }
                None => {}
            }
        }
        if views.len() == 1 {
            break;
        }
    }
    if report.oncall.is_empty() {
        report.live_status = Some(if pagerduty.is_empty() {
            "PagerDuty is not configured in idp.yaml".to_string()
        } else {
            why.join("; ")
        });
    }
    report.latest_activity = latest_activity(mine);
}

/// Last commit and last deploy, from whichever integrations know them.
fn latest_activity(outcomes: &BTreeMap<String, Outcome>) -> Option<Value> {
    let mut activity = serde_json::Map::new();
    for o in outcomes.values().filter(|o| o.status == Status::Ok) {
        for (fact, key) in [
            ("latest_commit", "last_commit"),
            ("latest_production_deployment", "last_deploy"),
        ] {
            if let Some(v) = o.facts.get(fact).filter(|v| !v.is_null()) {
                activity.entry(key).or_insert_with(|| v.clone());
            }
        }
        if let Some(at) = o.facts.get("last_deployed").filter(|v| !v.is_null()) {
            activity.entry("last_deploy").or_insert_with(
                || serde_json::json!({"created_at": at, "revision": o.facts.get("revision")}),
            );
        }
    }
    (!activity.is_empty()).then_some(Value::Object(activity))
}

/// A git URL, unless a file of that name exists (`a@b:c` can be both).
fn looks_like_remote(s: &str) -> bool {
    idp::git_remote::is_git_url(s) && !Path::new(s).exists()
}

/// `.`, `..`, `./x`, `/abs`, `~/x`, or anything with a `/` that exists on disk.
/// A bare word is an entity name even if a directory of that name exists.
fn looks_like_path(s: &str) -> bool {
    s == "."
        || s == ".."
        || s.starts_with("./")
        || s.starts_with("../")
        || s.starts_with('/')
        || (s.contains('/') && !s.contains(':') && Path::new(s).exists())
}
