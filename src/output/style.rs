//! The few styles idp uses, applied only when colour is on.

use anstyle::{AnsiColor, Style};

/// Table headers and section titles.
pub const HEADER: Style = Style::new().bold();
/// Errors.
pub const ERROR: Style = AnsiColor::Red.on_default().bold();
/// Warnings.
pub const WARNING: Style = AnsiColor::Yellow.on_default().bold();
/// Secondary text (references, paths).
pub const DIM: Style = Style::new().dimmed();
/// Emphasis (the owner's name).
pub const STRONG: Style = AnsiColor::Green.on_default().bold();

/// `text` in `style` when `color` is on.
pub fn paint(color: bool, style: Style, text: &str) -> String {
    if color {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_string()
    }
}
