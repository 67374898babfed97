//! Table layout for every human table idp prints: one line per row, never
//! wider than the terminal, never a wrapped cell, no trailing spaces.
//!
//! Each [`Column`] has a priority (higher stays longer) and says whether it
//! may be truncated and down to how many columns. When a table is wider
//! than the terminal, [`plan`] decides, in this order:
//! 1. truncate cells of the least important truncatable column with `…`
//!    (titles and descriptions first), down to that column's minimum, then
//!    the next least important one;
//! 2. when even every column at its minimum does not fit, hide whole
//!    columns, least important first, rather than squeeze one below its
//!    minimum (a one-letter column says nothing); a narrow column may stay
//!    where a wider, more important one had to go;
//! 3. only when a single column is left and still does not fit, squeeze
//!    it to the width (every line fits, always).
//!
//! Widths are display widths (`unicode-width`: CJK and emoji take two
//! columns), measured on the sanitized text, so an escape such as
//! `\u{202e}` counts as the nine columns it shows; truncation never splits
//! a character or such an escape. Without a width (output piped, no
//! `COLUMNS`) nothing is truncated or hidden: a script gets whole cells.
//!
//! The module knows nothing of output formats or of the `Ui`: callers give
//! it the colour decision and the width ([`super::Ui::write_table`] does).

use std::borrow::Cow;
use std::cmp::Reverse;
use std::sync::atomic::{AtomicBool, Ordering};

use anstyle::Style;
use unicode_width::UnicodeWidthChar;

use super::sanitize;
use super::style;

/// Spaces between two columns.
const GAP: usize = 2;

/// The mark that ends a truncated cell.
const ELLIPSIS: char = '…';

/// One column: its header, its priority and how far it may shrink.
#[derive(Debug, Clone)]
pub struct Column {
    header: String,
    priority: u8,
    /// `None`: shown whole or hidden (names and references people copy).
    min: Option<usize>,
}

impl Column {
    /// A column shown whole or not at all (names, references, levels:
    /// half of one is wrong, not shorter). Higher `priority` stays longer.
    pub fn keep(header: &str, priority: u8) -> Column {
        Column {
            header: header.to_uppercase(),
            priority,
            min: None,
        }
    }

    /// A column whose cells may be cut with `…` down to `min` columns
    /// before the table hides columns (titles, descriptions, messages).
    pub fn shrink(header: &str, priority: u8, min: usize) -> Column {
        Column {
            header: header.to_uppercase(),
            priority,
            min: Some(min.max(1)),
        }
    }
}

/// One cell: sanitized text, painted in `style` when colour is on.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    text: String,
    style: Option<Style>,
}

impl Cell {
    /// A cell painted in `style` when colour is on (the style is applied
    /// after layout, so it never counts towards the width).
    pub fn styled(text: impl Into<String>, style: Style) -> Cell {
        Cell {
            style: Some(style),
            ..Cell::from(text.into())
        }
    }
}

impl From<String> for Cell {
    /// The text as a single-line field: sanitized (a newline shows as `⏎`
    /// and cannot add a line), trailing whitespace dropped.
    fn from(text: String) -> Cell {
        let clean = sanitize::line_string(text);
        let end = clean.trim_end().len();
        let mut clean = clean;
        clean.truncate(end);
        Cell {
            text: clean,
            style: None,
        }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::from(text.to_string())
    }
}

/// A table to lay out: columns and rows of cells.
#[derive(Debug, Clone)]
pub struct Table {
    columns: Vec<Column>,
    rows: Vec<Vec<Cell>>,
}

/// A laid-out table: its lines, and the headers of the columns that did
/// not fit (tests read tables this way; output streams through [`Table::write`]).
#[cfg(test)]
#[derive(Debug)]
pub struct Rendered {
    /// The lines, header first, each ending in `\n`.
    pub text: String,
    /// Headers of the hidden columns, in table order.
    pub hidden: Vec<String>,
}

impl Table {
    /// A table with these columns, in display order.
    pub fn new(columns: impl IntoIterator<Item = Column>) -> Table {
        Table {
            columns: columns.into_iter().collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are empty, extra cells are ignored.
    pub fn add_row<C: Into<Cell>>(&mut self, cells: impl IntoIterator<Item = C>) -> &mut Table {
        let mut row: Vec<Cell> = cells
            .into_iter()
            .take(self.columns.len())
            .map(Into::into)
            .collect();
        row.resize_with(self.columns.len(), Cell::default);
        self.rows.push(row);
        self
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Lays the table out for `width` columns (`None`: unlimited) and
    /// paints headers and styled cells when `color`.
    #[cfg(test)]
    pub fn render(&self, color: bool, width: Option<usize>) -> Rendered {
        let mut bytes = Vec::new();
        let hidden = self
            .write(&mut bytes, color, width)
            .expect("writing to memory cannot fail");
        Rendered {
            text: String::from_utf8(bytes).expect("the table is text"),
            hidden,
        }
    }

    /// [`Table::render`], written to `out` a batch of lines at a time
    /// instead of built whole (the findings of `idp score` on a large
    /// catalog are tens of megabytes). Returns the hidden columns' headers.
    pub fn write(
        &self,
        out: &mut dyn std::io::Write,
        color: bool,
        width: Option<usize>,
    ) -> std::io::Result<Vec<String>> {
        const BATCH: usize = 64 * 1024;
        let specs: Vec<Spec> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let natural = self
                    .rows
                    .iter()
                    .map(|r| display_width(&r[i].text))
                    .chain([display_width(&c.header)])
                    .max()
                    .unwrap_or(0);
                Spec {
                    natural,
                    floor: c.min.map_or(natural, |m| m.min(natural)),
                    priority: c.priority,
                }
            })
            .collect();
        let widths = plan(&specs, width);
        let header: Vec<Cell> = self
            .columns
            .iter()
            .map(|c| Cell {
                text: c.header.clone(),
                style: Some(style::HEADER),
            })
            .collect();
        let mut text = String::with_capacity(BATCH + 1024);
        for row in std::iter::once(&header).chain(&self.rows) {
            line(&mut text, row, &widths, color);
            if text.len() >= BATCH {
                out.write_all(text.as_bytes())?;
                text.clear();
            }
        }
        out.write_all(text.as_bytes())?;
        Ok(self
            .columns
            .iter()
            .zip(&widths)
            .filter(|(_, w)| w.is_none())
            .map(|(c, _)| c.header.clone())
            .collect())
    }
}

/// Appends one row: cells cut to their column, padded with spaces between
/// columns, nothing after the last visible cell.
fn line(text: &mut String, row: &[Cell], widths: &[Option<usize>], color: bool) {
    let start = text.len();
    let mut first = true;
    for (cell, width) in row.iter().zip(widths) {
        let Some(width) = *width else { continue };
        if !first {
            pad(text, GAP);
        }
        first = false;
        // Measured once: a cell that fits (nearly all) is not measured again.
        let natural = display_width(&cell.text);
        let (shown, used) = if natural <= width {
            (Cow::Borrowed(cell.text.as_str()), natural)
        } else {
            let cut = truncate(&cell.text, width);
            let used = display_width(&cut);
            (cut, used)
        };
        match cell.style {
            Some(s) if color && !shown.is_empty() => text.push_str(&style::paint(true, s, &shown)),
            _ => text.push_str(&shown),
        }
        pad(text, width - used);
    }
    // Padding of the last column, or of columns whose cells are all empty
    // from here on: a row ends where its text ends.
    let end = start + text[start..].trim_end_matches(' ').len();
    text.truncate(end);
    text.push('\n');
}

/// Appends `n` spaces (a slice at a time, not a char at a time: a
/// table of 200,000 rows pads a million cells).
fn pad(text: &mut String, mut n: usize) {
    const SPACES: &str = "                                                                ";
    while n > 0 {
        let k = n.min(SPACES.len());
        text.push_str(&SPACES[..k]);
        n -= k;
    }
}

/// What [`plan`] needs to know of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Widest cell or header.
    pub natural: usize,
    /// Narrowest it may be cut to before columns are hidden (≤ `natural`).
    pub floor: usize,
    /// Higher stays longer.
    pub priority: u8,
}

/// The width of each column, `None` for a hidden one: see the module doc
/// for the order of decisions. Ties in priority go to the column further
/// left (the right one shrinks and hides first).
pub fn plan(specs: &[Spec], width: Option<usize>) -> Vec<Option<usize>> {
    let Some(width) = width else {
        return specs.iter().map(|s| Some(s.natural)).collect();
    };
    let span = |cols: &[usize], w: &dyn Fn(usize) -> usize| {
        cols.iter().map(|&i| w(i)).sum::<usize>() + GAP * cols.len().saturating_sub(1)
    };
    // Least important first; among equals, the rightmost first.
    let mut order: Vec<usize> = (0..specs.len()).collect();
    order.sort_by_key(|&i| (specs[i].priority, Reverse(i)));

    // The most important columns that fit at their floors, taken in order
    // of importance; a column that does not fit is hidden, and a narrower,
    // less important one may still take the room left (the depth of an
    // `impact` row after its contact had to go). The first always stays.
    let mut visible: Vec<usize> = Vec::new();
    for &i in order.iter().rev() {
        let mut with = visible.clone();
        with.push(i);
        if visible.is_empty() || span(&with, &|i| specs[i].floor) <= width {
            visible = with;
        }
    }
    visible.sort_unstable();

    let mut widths: Vec<Option<usize>> = vec![None; specs.len()];
    for &i in &visible {
        widths[i] = Some(specs[i].natural);
    }
    let mut excess = span(&visible, &|i| specs[i].natural).saturating_sub(width);
    // First down to each column's floor; then, as a last resort (one
    // column left, or the floors of what is left still too wide), down to
    // one column each.
    for floor in [|s: &Spec| s.floor, |_: &Spec| 1] {
        for &i in order.iter().filter(|i| visible.contains(i)) {
            if excess == 0 {
                break;
            }
            let w = widths[i].as_mut().expect("visible");
            let cut = excess.min(w.saturating_sub(floor(&specs[i])));
            *w -= cut;
            excess -= cut;
        }
    }
    widths
}

/// Display width of sanitized text: the sum of its characters' widths
/// (CJK and emoji 2, combining marks 0).
pub fn display_width(text: &str) -> usize {
    // Printable ASCII (most cells) is one column a byte.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return text.len();
    }
    text.chars().map(char_width).sum()
}

fn char_width(c: char) -> usize {
    UnicodeWidthChar::width(c).unwrap_or(0)
}

/// `text` cut to at most `max` columns, ending in `…` when cut. Never
/// splits a character (a wide one that does not fit leaves a column
/// empty) or a sanitizer escape (`\u{202e}` goes whole or not at all).
pub fn truncate(text: &str, max: usize) -> Cow<'_, str> {
    if display_width(text) <= max {
        return Cow::Borrowed(text);
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    let budget = max - 1; // the ellipsis takes one column
    let mut used = 0;
    let mut end = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let len = escape_len(rest).unwrap_or_else(|| rest.chars().next().map_or(0, char::len_utf8));
        let w = display_width(&rest[..len]);
        if used + w > budget {
            break;
        }
        used += w;
        end += len;
        rest = &rest[len..];
    }
    // "The ledger…", not "The ledger …"
    Cow::Owned(format!("{}{ELLIPSIS}", text[..end].trim_end()))
}

/// The byte length of the sanitizer escape `\u{hex}` that `s` starts
/// with, if it starts with one.
fn escape_len(s: &str) -> Option<usize> {
    let digits = s.strip_prefix("\\u{")?;
    let close = digits.find('}')?;
    (close > 0 && close <= 6 && digits[..close].bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(3 + close + 1)
}

/// Whether the "columns hidden" note was printed in this run: one note
/// per run, however many tables (`show` prints several).
static NOTED: AtomicBool = AtomicBool::new(false);

/// The note for hidden columns, the first time columns are hidden in this
/// run; `None` afterwards or when nothing is hidden.
pub fn hidden_note(hidden: &[String], width: Option<usize>) -> Option<String> {
    if hidden.is_empty() || NOTED.swap(true, Ordering::Relaxed) {
        return None;
    }
    let n = hidden.len();
    Some(format!(
        "note: {n} column{} hidden at {} columns ({}); widen the terminal or use -o json",
        if n == 1 { "" } else { "s" },
        width.unwrap_or_default(),
        hidden.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(natural: usize, floor: usize, priority: u8) -> Spec {
        Spec {
            natural,
            floor,
            priority,
        }
    }

    fn lines(t: &Table, width: Option<usize>) -> Vec<String> {
        t.render(false, width)
            .text
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn without_a_width_every_column_keeps_its_natural_width() {
        let specs = [spec(10, 4, 1), spec(50, 8, 0)];
        assert_eq!(plan(&specs, None), [Some(10), Some(50)]);
    }

    #[test]
    fn a_table_that_fits_is_untouched() {
        let specs = [spec(10, 4, 1), spec(20, 8, 0)];
        assert_eq!(plan(&specs, Some(32)), [Some(10), Some(20)]);
    }

    #[test]
    fn the_least_important_column_is_truncated_first() {
        // 10 + 2 + 20 + 2 + 20 = 54; 10 too many.
        let specs = [spec(10, 10, 9), spec(20, 8, 5), spec(20, 8, 1)];
        assert_eq!(plan(&specs, Some(44)), [Some(10), Some(20), Some(10)]);
    }

    #[test]
    fn the_next_column_shrinks_once_the_first_is_at_its_minimum() {
        let specs = [spec(10, 10, 9), spec(20, 8, 5), spec(20, 8, 1)];
        // floors: 10 + 2 + 8 + 2 + 8 = 30
        assert_eq!(plan(&specs, Some(34)), [Some(10), Some(12), Some(8)]);
    }

    #[test]
    fn columns_are_hidden_before_any_is_squeezed_below_its_minimum() {
        let specs = [spec(10, 10, 9), spec(20, 8, 5), spec(20, 8, 1)];
        // floors of all three: 30 > 29, so the lowest priority goes and
        // the middle one regains its room.
        assert_eq!(plan(&specs, Some(29)), [Some(10), Some(17), None]);
        assert_eq!(plan(&specs, Some(20)), [Some(10), Some(8), None]);
        assert_eq!(plan(&specs, Some(19)), [Some(10), None, None]);
    }

    #[test]
    fn a_narrow_column_keeps_the_room_a_wider_one_left() {
        // depth, entity, via, owner, contact (impact at 60 columns)
        let specs = [
            spec(5, 5, 60),
            spec(40, 40, 100),
            spec(30, 10, 10),
            spec(8, 8, 90),
            spec(17, 16, 80),
        ];
        assert_eq!(
            plan(&specs, Some(60)),
            [Some(5), Some(40), None, Some(8), None]
        );
    }

    #[test]
    fn among_equal_priorities_the_rightmost_goes_first() {
        let specs = [spec(10, 10, 1), spec(10, 10, 1)];
        assert_eq!(plan(&specs, Some(15)), [Some(10), None]);
    }

    #[test]
    fn the_last_column_is_squeezed_to_fit_as_a_last_resort() {
        let specs = [spec(30, 30, 9), spec(20, 8, 1)];
        assert_eq!(plan(&specs, Some(12)), [Some(12), None]);
        assert_eq!(plan(&specs, Some(1)), [Some(1), None]);
    }

    #[test]
    fn truncation_counts_display_width_and_never_splits_a_character() {
        assert_eq!(truncate("abcdef", 6), "abcdef");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abcdef", 1), "…");
        assert_eq!(truncate("abcdef", 0), "");
        // CJK: two columns each; 7 columns hold three characters and `…`.
        assert_eq!(truncate("支付服务网关", 7), "支付服…");
        // 6 columns hold two (4 columns) and `…`: one column stays empty.
        assert_eq!(truncate("支付服务网关", 6), "支付…");
        assert_eq!(display_width(&truncate("支付服务网关", 6)), 5);
        assert_eq!(truncate("🚀🚀🚀", 4), "🚀…");
        // A combining mark stays with its letter.
        assert_eq!(truncate("e\u{301}e\u{301}e\u{301}", 2), "e\u{301}…");
        // No space before the ellipsis.
        assert_eq!(truncate("The ledger of", 12), "The ledger…");
    }

    #[test]
    fn a_sanitizer_escape_is_counted_as_shown_and_never_cut() {
        let text = sanitize::line("ab\u{202e}cd").into_owned();
        assert_eq!(text, "ab\\u{202e}cd");
        assert_eq!(display_width(&text), 12);
        assert_eq!(truncate(&text, 11), "ab\\u{202e}…");
        assert_eq!(truncate(&text, 10), "ab…");
        assert_eq!(truncate(&text, 4), "ab…");
    }

    #[test]
    fn rows_stay_one_line_without_trailing_spaces() {
        let mut t = Table::new([
            Column::keep("name", 9),
            Column::keep("owner", 5),
            Column::shrink("title", 1, 6),
        ]);
        t.add_row([
            "ledger",
            "payments",
            "The ledger of every payment\nsecond line",
        ]);
        t.add_row(["cart", "", ""]);
        let got = lines(&t, Some(30));
        assert_eq!(
            got,
            [
                "NAME    OWNER     TITLE",
                "ledger  payments  The ledger…",
                "cart",
            ]
        );
        for l in &got {
            assert!(display_width(l) <= 30);
        }
        // Unlimited: the newline shows as ⏎, the row stays one line.
        let full = lines(&t, None);
        assert_eq!(full.len(), 3);
        assert_eq!(
            full[1],
            "ledger  payments  The ledger of every payment⏎second line"
        );
    }

    #[test]
    fn hidden_columns_are_reported_and_every_line_fits() {
        let mut t = Table::new([
            Column::keep("name", 9),
            Column::keep("lifecycle", 5),
            Column::shrink("title", 1, 10),
        ]);
        t.add_row([
            "payments-gateway",
            "production",
            "支付服务网关 for card payments",
        ]);
        for width in [10, 20, 30, 40, 60] {
            let r = t.render(false, Some(width));
            for l in r.text.lines() {
                assert!(display_width(l) <= width, "{width}: {l:?}");
                assert!(!l.ends_with(' '), "{width}: {l:?}");
            }
        }
        assert_eq!(t.render(false, Some(30)).hidden, ["TITLE"]);
        assert_eq!(t.render(false, Some(20)).hidden, ["LIFECYCLE", "TITLE"]);
        assert!(t.render(false, Some(60)).hidden.is_empty());
        // At 10 the name itself is cut: every line still fits.
        assert_eq!(lines(&t, Some(10))[1], "payments-…");
    }

    #[test]
    fn colour_is_applied_after_layout() {
        let mut t = Table::new([Column::keep("level", 9), Column::shrink("needs", 1, 4)]);
        t.add_row([
            Cell::styled("Gold", style::STRONG),
            Cell::from("a long message"),
        ]);
        let plain = t.render(false, Some(16)).text;
        let painted = t.render(true, Some(16)).text;
        assert_eq!(plain, "LEVEL  NEEDS\nGold   a long m…\n");
        assert!(painted.contains(&style::paint(true, style::STRONG, "Gold")));
        assert!(painted.contains(&style::paint(true, style::HEADER, "LEVEL")));
        assert!(painted.lines().all(|l| !l.ends_with(' ')));
    }

    #[test]
    fn the_note_names_the_hidden_columns() {
        NOTED.store(false, Ordering::Relaxed);
        let note = hidden_note(&["TITLE".into(), "SYSTEM".into()], Some(60));
        assert_eq!(
            note.as_deref(),
            Some("note: 2 columns hidden at 60 columns (TITLE, SYSTEM); widen the terminal or use -o json")
        );
        assert_eq!(
            hidden_note(&["TITLE".into()], Some(60)),
            None,
            "once per run"
        );
    }
}
