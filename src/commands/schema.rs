//! `idp schema [KIND] [--write DIR]`.

use std::io::Write;

use crate::command_error::{ErrorContext as _, Result};

use crate::catalog::kinds::schemas;
use crate::cli::SchemaArgs;
use crate::exit::Exit;
use crate::output::format::SchemaFormat;
use crate::output::{write_data, Data};

use super::{Context, UsageError};

pub fn run(ctx: &Context, args: SchemaArgs) -> Result<Exit> {
    let all = schemas();
    if let Some(dir) = &args.write {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (name, schema) in &all {
            let path = dir.join(name);
            let text = serde_json::to_string_pretty(schema)? + "\n";
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        // Say what was written, as `man --out-dir` does.
        let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
        let mut out = ctx.ui.stdout();
        writeln!(
            out,
            "Wrote {} schemas into {}: {}",
            names.len(),
            dir.display(),
            names.join(", ")
        )?;
        return Ok(Exit::Ok);
    }
    let wanted = match &args.kind {
        None => "Entity.schema.json".to_string(),
        Some(k) => format!("{}.schema.json", k.to_ascii_lowercase()),
    };
    let (_, schema) = all
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(&wanted))
        .ok_or_else(|| {
            let kinds: Vec<&str> = all
                .iter()
                .map(|(n, _)| n.trim_end_matches(".schema.json"))
                .collect();
            UsageError(format!(
                "no schema for kind '{}'; known: {}",
                args.kind.as_deref().unwrap_or(""),
                kinds.join(", ")
            ))
        })?;
    let data = match args.output {
        SchemaFormat::Json => Data::Json,
        SchemaFormat::Yaml => Data::Yaml,
    };
    write_data(&mut ctx.ui.stdout(), data, schema)?;
    Ok(Exit::Ok)
}
