//! One pass over the billing rows: each row is allocated to at most one
//! entity (the precedence below) and summed per (entity, day, service,
//! currency); unallocated rows and tag values are summed too, for
//! `--unallocated --by tag`.
//!
//! Precedence (DESIGN "Cost semantics"): the `allocate` rules in order —
//! the first whose tag is present *and* whose value names an existing
//! entity of its kind claims the row; then the `idp.dev/cost-selector`
//! lines of every entity, the line with the most terms first (ties: the
//! entity reference in alphabetical order); else the row is unallocated.
//! A row is added once, to one owner, so a group's total (its members'
//! rows, each counted once) never counts a row twice.
//!
//! Amounts are `rust_decimal::Decimal` (96-bit mantissa, 28 digits): FOCUS
//! amounts are decimals with up to ~11 places (`0.00000080000`), which
//! integer micro-units would round away and binary floats would not sum
//! exactly; a sum of millions of such rows still fits with room to spare.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

use super::config::{CostConfig, Selector, Term};
use super::read::{Row, Sink};
use crate::catalog::Catalog;

/// The entity index of unallocated rows.
pub const UNALLOCATED: u32 = u32::MAX;
/// Distinct tag sets remembered (past this, tags are parsed per row).
const TAG_MEMO: usize = 1 << 20;
/// Longest text kept for a service or tag (longer is cut: hostile data).
const MAX_TEXT: usize = 256;

/// A decimal stored as its 16 bytes (exact, and fast to (de)serialize).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Amount(pub [u8; 16]);

impl From<Decimal> for Amount {
    fn from(d: Decimal) -> Self {
        Amount(d.serialize())
    }
}
impl From<Amount> for Decimal {
    fn from(a: Amount) -> Self {
        Decimal::deserialize(a.0)
    }
}

/// One cell of the aggregate.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Cell {
    /// Index into `entities`, or [`UNALLOCATED`].
    pub entity: u32,
    /// Days since 1970-01-01 (UTC).
    pub day: i32,
    /// Index into `services`.
    pub service: u32,
    /// Index into `currencies`.
    pub currency: u16,
    /// The sum.
    pub amount: Amount,
}

/// Cost per tag key and value (a row adds to each of its tags).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TagCell {
    /// Days since 1970-01-01.
    pub day: i32,
    /// Index into `currencies`.
    pub currency: u16,
    /// `key=value`, or empty for rows without tags.
    pub tag: u32,
    /// Whether the rows were allocated.
    pub allocated: bool,
    /// The sum.
    pub amount: Amount,
}

/// An `allocate` value that named no entity, with how much it carried.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Unmatched {
    /// The rule's tag key.
    pub tag: String,
    /// The value.
    pub value: String,
    /// Rows with it.
    pub rows: u64,
}

/// The aggregate of all sources.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Aggregate {
    /// Entity keys (`component:default/checkout`).
    pub entities: Vec<String>,
    /// Service names.
    pub services: Vec<String>,
    /// Currency codes.
    pub currencies: Vec<String>,
    /// Tag texts (`key=value`).
    pub tags: Vec<String>,
    /// The cells.
    pub cells: Vec<Cell>,
    /// Per tag.
    pub tag_cells: Vec<TagCell>,
    /// Rows read.
    pub rows: u64,
    /// `allocate` values naming no entity, most rows first (top 20).
    pub unmatched: Vec<Unmatched>,
    /// Days are month starts: the published monthly aggregate.
    #[serde(default)]
    pub monthly: bool,
}

/// Decides the owner of rows.
pub struct Allocator {
    entities: Vec<String>,
    rules: Vec<(String, HashMap<String, u32>)>,
    /// (entity, selector), in precedence order.
    selectors: Vec<(u32, Selector)>,
    /// Selectors read only tags, so the decision depends on the tags alone.
    tags_only: bool,
}

impl Allocator {
    /// From the catalog, the `cost:` section, and the selectors of each
    /// entity (entity key → lines; parse errors are the caller's business).
    pub fn new(
        catalog: &Catalog,
        config: &CostConfig,
        selectors: Vec<(String, Vec<Selector>)>,
    ) -> Self {
        let mut entities: Vec<String> = Vec::new();
        let mut index: HashMap<String, u32> = HashMap::default();
        let mut id = |key: String, entities: &mut Vec<String>| -> u32 {
            *index.entry(key.clone()).or_insert_with(|| {
                entities.push(key);
                (entities.len() - 1) as u32
            })
        };
        let mut rules = Vec::new();
        for rule in &config.allocate {
            let mut names = HashMap::default();
            for e in catalog.of_kind(rule.to.kind()) {
                let i = id(e.entity_ref().key(), &mut entities);
                let lower = e.name.to_lowercase();
                names.insert(format!("{}/{lower}", e.namespace.to_lowercase()), i);
                names.insert(
                    format!("{}:{}/{lower}", rule.to.kind(), e.namespace.to_lowercase()),
                    i,
                );
                if e.namespace == "default" {
                    names.insert(lower, i);
                }
            }
            rules.push((rule.tag.clone(), names));
        }
        let mut sel: Vec<(String, Selector)> = selectors
            .into_iter()
            .flat_map(|(k, s)| s.into_iter().map(move |s| (k.clone(), s)))
            .collect();
        sel.sort_by(|a, b| {
            b.1.terms
                .len()
                .cmp(&a.1.terms.len())
                .then_with(|| a.0.cmp(&b.0))
        });
        let tags_only = sel
            .iter()
            .all(|(_, s)| s.terms.iter().all(|t| matches!(t, Term::Tag(..))));
        let selectors = sel
            .into_iter()
            .map(|(k, s)| (id(k, &mut entities), s))
            .collect();
        Allocator {
            entities,
            rules,
            selectors,
            tags_only,
        }
    }

    /// The entity keys rows can be allocated to, in index order.
    pub fn entity_keys(&self) -> &[String] {
        &self.entities
    }

    fn owner(&self, row: &Row, tags: &[(String, String)]) -> u32 {
        for (key, names) in &self.rules {
            if let Some((_, v)) = tags.iter().find(|(k, _)| k == key) {
                if let Some(e) = names.get(&v.to_lowercase()) {
                    return *e;
                }
            }
        }
        for (e, s) in &self.selectors {
            if s.terms.iter().all(|t| term_matches(t, row, tags)) {
                return *e;
            }
        }
        UNALLOCATED
    }
}

fn term_matches(t: &Term, row: &Row, tags: &[(String, String)]) -> bool {
    match t {
        Term::Tag(k, v) => tags.iter().any(|(tk, tv)| tk == k && tv == v),
        Term::SubAccount(v) => !row.sub_account.is_empty() && row.sub_account == v,
        Term::Resource(v) => !row.resource.is_empty() && row.resource == v,
        Term::ResourcePrefix(p) => !row.resource.is_empty() && row.resource.starts_with(p.as_str()),
        Term::Service(v) => !row.service.is_empty() && row.service == v,
    }
}

/// Parses a `Tags` value: a JSON object of strings (other values are kept
/// as their JSON text); anything else means no tags.
pub fn parse_tags(text: &str) -> Vec<(String, String)> {
    if text.is_empty() || text == "{}" {
        return Vec::new();
    }
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = map
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (cut(&k).to_string(), cut(&v).to_string())
        })
        .collect();
    out.sort();
    out
}

fn cut(s: &str) -> &str {
    if s.len() <= MAX_TEXT {
        return s;
    }
    let mut end = MAX_TEXT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Builds the aggregate as rows arrive.
pub struct Builder<'a> {
    alloc: &'a Allocator,
    services: HashMap<String, u32>,
    currencies: HashMap<String, u16>,
    tag_sets: HashMap<String, u32>,
    parsed_tags: Vec<Vec<(String, String)>>,
    owner_memo: Vec<Option<u32>>,
    cells: HashMap<(u32, i32, u32, u16), Decimal>,
    tag_cells: HashMap<(i32, u16, u32, bool), Decimal>,
    set_rows: Vec<u64>,
    rows: u64,
}

impl<'a> Builder<'a> {
    /// An empty aggregate for this allocator.
    pub fn new(alloc: &'a Allocator) -> Self {
        Builder {
            alloc,
            services: HashMap::default(),
            currencies: HashMap::default(),
            tag_sets: HashMap::default(),
            parsed_tags: Vec::new(),
            owner_memo: Vec::new(),
            cells: HashMap::default(),
            tag_cells: HashMap::default(),
            set_rows: Vec::new(),
            rows: 0,
        }
    }

    fn intern<T: Copy + TryFrom<usize>>(map: &mut HashMap<String, T>, s: &str) -> T {
        if let Some(v) = map.get(s) {
            return *v;
        }
        let next = T::try_from(map.len()).ok().expect("interned ids fit");
        map.insert(cut(s).to_string(), next);
        next
    }

    /// Adds what `other` (a builder of the same allocator, over other
    /// rows) summed: its ids are mapped onto this builder's.
    pub fn merge(&mut self, other: Builder<'a>) {
        let remap = |mine: &mut HashMap<String, u32>, theirs: HashMap<String, u32>| {
            let mut map = vec![0u32; theirs.len()];
            for (s, id) in theirs {
                map[id as usize] = Self::intern(mine, &s);
            }
            map
        };
        let services = remap(&mut self.services, other.services);
        let mut currencies = vec![0u16; other.currencies.len()];
        for (s, id) in other.currencies {
            currencies[id as usize] = Self::intern(&mut self.currencies, &s);
        }
        let mut sets = vec![0u32; other.tag_sets.len()];
        for (text, id) in other.tag_sets {
            let id = id as usize;
            sets[id] = match self.tag_sets.get(&text) {
                Some(mine) => *mine,
                None => {
                    let mine = self.parsed_tags.len() as u32;
                    self.parsed_tags.push(other.parsed_tags[id].clone());
                    self.owner_memo.push(other.owner_memo[id]);
                    self.set_rows.push(0);
                    self.tag_sets.insert(text, mine);
                    mine
                }
            };
            self.set_rows[sets[id] as usize] += other.set_rows[id];
        }
        for ((e, day, svc, cur), a) in other.cells {
            *self
                .cells
                .entry((e, day, services[svc as usize], currencies[cur as usize]))
                .or_default() += a;
        }
        for ((day, cur, set, allocated), a) in other.tag_cells {
            // Sets past the memo were counted under set 0 (see `row`).
            let set = sets.get(set as usize).copied().unwrap_or(0);
            *self
                .tag_cells
                .entry((day, currencies[cur as usize], set, allocated))
                .or_default() += a;
        }
        self.rows += other.rows;
    }

    /// The finished aggregate. Names are sorted (services, currencies,
    /// tags), so the result does not depend on the order rows came in.
    pub fn finish(self) -> Aggregate {
        // Sorted names, and the old id → new id.
        let order = |m: HashMap<String, u32>| {
            let mut v: Vec<(String, u32)> = m.into_iter().collect();
            v.sort();
            let mut map = vec![0u32; v.len()];
            for (new, (_, old)) in v.iter().enumerate() {
                map[*old as usize] = new as u32;
            }
            (v.into_iter().map(|(s, _)| s).collect::<Vec<_>>(), map)
        };
        let (services, service_map) = order(self.services);
        let (currencies, currency_map) = order(
            self.currencies
                .into_iter()
                .map(|(k, v)| (k, v as u32))
                .collect(),
        );
        let currency_map: Vec<u16> = currency_map.into_iter().map(|c| c as u16).collect();
        // Tag sets expand into one `key=value` each.
        let mut tag_ids: HashMap<String, u32> = HashMap::default();
        let mut tag_cells: HashMap<(i32, u16, u32, bool), Decimal> = HashMap::default();
        for ((day, cur, set, allocated), amount) in self.tag_cells {
            let cur = currency_map[cur as usize];
            let tags = &self.parsed_tags[set as usize];
            if tags.is_empty() {
                let t = Self::intern(&mut tag_ids, "");
                *tag_cells.entry((day, cur, t, allocated)).or_default() += amount;
            }
            for (k, v) in tags {
                let t = Self::intern(&mut tag_ids, &format!("{k}={v}"));
                *tag_cells.entry((day, cur, t, allocated)).or_default() += amount;
            }
        }
        let mut cells: Vec<Cell> = self
            .cells
            .into_iter()
            .map(|((entity, day, service, currency), a)| Cell {
                entity,
                day,
                service: service_map[service as usize],
                currency: currency_map[currency as usize],
                amount: a.into(),
            })
            .collect();
        cells.sort_by_key(|c| (c.day, c.entity, c.service, c.currency));
        let (tags, tag_map) = order(tag_ids);
        let mut tag_cells: Vec<TagCell> = tag_cells
            .into_iter()
            .map(|((day, currency, tag, allocated), a)| TagCell {
                day,
                currency,
                tag: tag_map[tag as usize],
                allocated,
                amount: a.into(),
            })
            .collect();
        tag_cells.sort_by_key(|c| (c.day, c.tag, c.currency, c.allocated));
        // Rule values naming no entity, counted over the rows of each tag set.
        let mut counts: HashMap<(usize, String), u64> = HashMap::default();
        for (set, tags) in self.parsed_tags.iter().enumerate() {
            for (r, (key, names)) in self.alloc.rules.iter().enumerate() {
                if let Some((_, v)) = tags.iter().find(|(k, _)| k == key) {
                    if names.contains_key(&v.to_lowercase()) {
                        break;
                    }
                    *counts.entry((r, v.clone())).or_default() += self.set_rows[set];
                }
            }
        }
        let mut unmatched: Vec<Unmatched> = counts
            .into_iter()
            .map(|((r, value), rows)| Unmatched {
                tag: self.alloc.rules[r].0.clone(),
                value,
                rows,
            })
            .collect();
        unmatched.sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| a.value.cmp(&b.value)));
        unmatched.truncate(20);
        Aggregate {
            entities: self.alloc.entities.clone(),
            services,
            currencies,
            tags,
            cells,
            tag_cells,
            rows: self.rows,
            unmatched,
            monthly: false,
        }
    }
}

impl Sink for Builder<'_> {
    fn row(&mut self, row: Row<'_>) {
        self.rows += 1;
        let set = match self.tag_sets.get(row.tags) {
            Some(id) => Some(*id),
            None if self.tag_sets.len() < TAG_MEMO => {
                let id = self.parsed_tags.len() as u32;
                self.parsed_tags.push(parse_tags(row.tags));
                self.owner_memo.push(None);
                self.set_rows.push(0);
                self.tag_sets.insert(row.tags.to_string(), id);
                Some(id)
            }
            None => None,
        };
        let owner = match set {
            Some(id) => {
                self.set_rows[id as usize] += 1;
                let memo = if self.alloc.tags_only {
                    self.owner_memo[id as usize]
                } else {
                    None
                };
                match memo {
                    Some(o) => o,
                    None => {
                        let o = self.alloc.owner(&row, &self.parsed_tags[id as usize]);
                        if self.alloc.tags_only {
                            self.owner_memo[id as usize] = Some(o);
                        }
                        o
                    }
                }
            }
            None => self.alloc.owner(&row, &parse_tags(row.tags)),
        };
        let service = Self::intern(&mut self.services, row.service);
        let currency = Self::intern(&mut self.currencies, row.currency);
        *self
            .cells
            .entry((owner, row.day, service, currency))
            .or_default() += row.amount;
        // Tag sets past the memo's size are counted as untagged in the
        // per-tag view (the totals above are unaffected).
        let set = set.unwrap_or(0);
        if !self.parsed_tags.is_empty() {
            *self
                .tag_cells
                .entry((row.day, currency, set, owner != UNALLOCATED))
                .or_default() += row.amount;
        }
    }
}

/// Sums per key of a map, by currency.
pub type Totals = BTreeMap<String, Decimal>;
