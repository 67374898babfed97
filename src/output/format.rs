//! What each command can print, as one value enum per shape of output
//! (uv's `ListFormat` pattern): `-o` is defined on each command with its
//! own enum, so clap rejects a format the command cannot print (exit 2,
//! listing the possible values) and `--help` lists only what it can.
//!
//! Commands whose outputs have the same shape share an enum: most print a
//! view as a table or the same data as JSON or YAML ([`ViewFormat`]).

use clap::ValueEnum;

/// An output format: a value of `-o`.
pub trait OutputFormat: Copy {
    /// Text for people (escaped on output, see [`super::guard`]) rather
    /// than data whose bytes are the contract.
    fn is_human(self) -> bool;
}

/// The serialized forms every data command offers (see [`super::write_data`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Data {
    /// Pretty JSON, one trailing newline.
    Json,
    /// YAML.
    Yaml,
}

/// A view for people, or its data. Most commands print this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ViewFormat {
    /// Human-readable tables and text.
    #[default]
    Table,
    /// JSON (stable contract for scripts).
    Json,
    /// YAML.
    Yaml,
}

/// `list`: a view, its data, or one CSV row per entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ListFormat {
    /// A table, one entity per row.
    #[default]
    Table,
    /// JSON (stable contract for scripts).
    Json,
    /// YAML.
    Yaml,
    /// CSV with a header row (spreadsheets).
    Csv,
}

/// `graph`: the neighbourhood drawn for a terminal, a renderer, or as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum GraphFormat {
    /// An indented tree, cycles marked.
    #[default]
    Tree,
    /// Graphviz dot (`dot -Tsvg`).
    Dot,
    /// Mermaid, renders in GitHub markdown.
    Mermaid,
    /// JSON (stable contract for scripts).
    Json,
    /// YAML.
    Yaml,
}

/// `diff`: a view, its data, or a pull-request comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum DiffFormat {
    /// Human-readable text.
    #[default]
    Table,
    /// JSON (stable contract for scripts).
    Json,
    /// YAML.
    Yaml,
    /// Markdown, for a pull-request comment.
    Markdown,
}

/// `score`: a view, its data, or a CI report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ScoreFormat {
    /// A table of entities and levels.
    #[default]
    Table,
    /// JSON (stable contract for scripts).
    Json,
    /// YAML.
    Yaml,
    /// JUnit XML, for CI test reporters.
    Junit,
    /// Markdown, for a pull-request comment.
    Markdown,
    /// SARIF, for code-scanning annotations.
    Sarif,
}

/// `scaffold test`: a view, its data, or a JUnit report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum TestFormat {
    /// One line per values file.
    #[default]
    Table,
    /// JSON (stable contract for scripts).
    Json,
    /// YAML.
    Yaml,
    /// JUnit XML, for CI test reporters.
    Junit,
}

/// `dora`: a table with trend arrows, the report as JSON, or one CSV row
/// per entity and team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum DoraFormat {
    /// A table per entity and team, with bands and trend arrows.
    #[default]
    Table,
    /// JSON (stable contract for scripts).
    Json,
    /// CSV with a header row (spreadsheets).
    Csv,
}

impl OutputFormat for DoraFormat {
    fn is_human(self) -> bool {
        self == DoraFormat::Table
    }
}

/// `cost`: a table, its data, or one CSV row per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum CostFormat {
    /// A table per currency, anomalies marked.
    #[default]
    Table,
    /// JSON (stable contract; amounts are exact decimal strings).
    Json,
    /// CSV with a header row (key,currency,amount,previous,change_pct,anomaly).
    Csv,
}

impl OutputFormat for CostFormat {
    fn is_human(self) -> bool {
        self == CostFormat::Table
    }
}

/// `schema`: the JSON Schema as JSON, or the same document as YAML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum SchemaFormat {
    /// JSON (what editors read).
    #[default]
    Json,
    /// YAML.
    Yaml,
}

impl ViewFormat {
    /// The serialized form, or `None` for the table.
    pub fn data(self) -> Option<Data> {
        match self {
            ViewFormat::Table => None,
            ViewFormat::Json => Some(Data::Json),
            ViewFormat::Yaml => Some(Data::Yaml),
        }
    }
}

impl OutputFormat for ViewFormat {
    fn is_human(self) -> bool {
        self == ViewFormat::Table
    }
}

impl OutputFormat for ListFormat {
    fn is_human(self) -> bool {
        self == ListFormat::Table
    }
}

impl OutputFormat for GraphFormat {
    fn is_human(self) -> bool {
        match self {
            GraphFormat::Tree | GraphFormat::Dot | GraphFormat::Mermaid => true,
            GraphFormat::Json | GraphFormat::Yaml => false,
        }
    }
}

impl OutputFormat for DiffFormat {
    fn is_human(self) -> bool {
        match self {
            DiffFormat::Table | DiffFormat::Markdown => true,
            DiffFormat::Json | DiffFormat::Yaml => false,
        }
    }
}

impl OutputFormat for ScoreFormat {
    fn is_human(self) -> bool {
        match self {
            ScoreFormat::Table | ScoreFormat::Markdown => true,
            ScoreFormat::Json | ScoreFormat::Yaml | ScoreFormat::Junit | ScoreFormat::Sarif => {
                false
            }
        }
    }
}

impl OutputFormat for TestFormat {
    fn is_human(self) -> bool {
        self == TestFormat::Table
    }
}

impl OutputFormat for SchemaFormat {
    fn is_human(self) -> bool {
        false
    }
}
