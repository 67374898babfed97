//! `idp report`'s DORA block: the keys per team on the home page, per
//! entity on the team's page and on each entity's page, from the inputs
//! `idp dora` cached (or `idp enrich --publish` published), never from the
//! APIs; catalog text escaped, the same inputs giving the same bytes. The
//! values are those computed by hand in `dora.rs` (window [11-01, 12-01)).

use std::path::Path;

use crate::dora::{engineer, setup, Setup, NOW};

const HOSTILE_ORG: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: payments
  title: <script>alert(1)</script> Payments
spec:
  type: team
  children: []
";

fn report(s: &Setup, env: &crate::common::TestEnv, out: &Path) -> crate::common::Run {
    let run = env.run([
        "--catalog",
        s.repo.path(),
        "report",
        "--output-dir",
        out.to_str().unwrap(),
    ]);
    run.ok();
    run
}

/// A page, with the slashes minijinja's escaping writes as `&#x2f;` put
/// back (the tests look for `1.6/week`; `<` stays escaped).
fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path.as_ref())
        .unwrap_or_else(|e| panic!("{}: {e}", path.as_ref().display()))
        .replace("&#x2f;", "/")
}

#[test]
fn the_report_shows_cached_dora_keys_per_team_without_asking_the_apis() {
    let s = setup();
    s.repo.write("org.yaml", HOSTILE_ORG);
    s.repo.commit("a team title with markup");
    s.dora(&[]).ok();
    let asked = (s.gh.seen().len(), s.pd.seen().len());

    let out = s.env.dir("site");
    report(&s, &s.env, &out);
    assert_eq!(
        (s.gh.seen().len(), s.pd.seen().len()),
        asked,
        "the report asked an API"
    );

    let home = read(out.join("index.html"));
    assert!(home.contains("Delivery performance (DORA)"), "{home}");
    assert!(home.contains("aria-label=\"DORA keys per team\""));
    // The team pools ledger (known) and billing (unknown): frequency
    // 7/30 per day = 1.6/week, up against 1/30, high, known for 1 of 2.
    assert!(
        home.contains("1.6/week ↑ <span class=\"band band-high\">high</span> (1/2 known)"),
        "{home}"
    );
    assert!(home.contains("4h / 36.2h ↓ <span class=\"band band-elite\">elite</span> (1/2 known)"));
    assert!(home.contains("62% (5/8) ↑ <span class=\"band band-low\">low</span>"));
    assert!(home.contains("Window 30d (2026-11-01 → 2026-12-01), environment production"));
    assert!(
        home.contains("Bands: DORA, Accelerate State of DevOps Report 2023, performance clusters.")
    );
    assert!(home.contains(
        "Data: from the local cache (2 of 2 entities), oldest fetched 0m before the report."
    ));
    // The team's title is catalog text: escaped in the table and the chart.
    assert!(!home.contains("<script>alert(1)"), "unescaped title");
    assert!(home.contains("&lt;script&gt;alert(1)&lt;/script&gt; Payments"));

    // The team's page: the team, then each entity it owns; billing's keys
    // are unknown with the reason, never zero.
    let team = read(out.join("team/group-default-payments.html"));
    assert!(team.contains("DORA keys of"), "{team}");
    assert!(team.contains("<td>ledger</td>"));
    assert!(team.contains(
        "<td>billing</td><td>unknown: no successful deployments to production in the window</td>"
    ));
    assert!(team.contains("unknown: no pagerduty.com/service-id annotation"));

    // An entity's page: its own keys; an entity without a repository has none.
    let ledger = read(out.join("entity/component-default-ledger.html"));
    assert!(ledger.contains("2.2h <span class=\"band band-high\">high</span>"));
    assert!(ledger.contains("1.6/week ↑ <span class=\"band band-high\">high</span></td>"));
    let docs = read(out.join("entity/component-default-docs.html"));
    assert!(!docs.contains("Delivery performance"));

    // Same inputs, same bytes.
    let again = s.env.dir("again");
    report(&s, &s.env, &again);
    for page in ["index.html", "team/group-default-payments.html"] {
        assert!(
            read(out.join(page)) == read(again.join(page)),
            "{page} differs between two runs"
        );
    }
}

#[test]
fn without_cached_inputs_the_report_has_no_dora_block_and_asks_nothing() {
    let s = setup();
    let out = s.env.dir("site");
    report(&s, &s.env, &out);
    assert!(!read(out.join("index.html")).contains("Delivery performance"));
    assert!(s.gh.seen().is_empty(), "the report asked GitHub");
    assert!(s.pd.seen().is_empty(), "the report asked PagerDuty");
}

#[test]
fn another_engineer_reads_the_published_inputs() {
    let s = setup();
    s.publish();
    let asked = s.gh.seen().len();
    let other = engineer(NOW);
    let out = other.dir("site");
    report(&s, &other, &out);
    let home = read(out.join("index.html"));
    assert!(
        home.contains("Data: from the published snapshot (2 of 2 entities)"),
        "{home}"
    );
    assert!(home.contains("62% (5/8) ↑"));
    assert_eq!(s.gh.seen().len(), asked, "the report asked GitHub");
}
