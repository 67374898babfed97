//! Cookiecutter rendering: the input is a template file (or a templated
//! file name) rendered with a fixed context, by the renderer cookiecutter
//! templates get (Jinja2 syntax, strict undefined, cookiecutter's
//! extensions: `{% now %}`, `slugify`, `jsonify`, `random_ascii_string`, …).
#![no_main]

use idp::scaffold::{Dialect, Renderer};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

/// Fuel per render. Lower than idp's default so a fuel-bound loop ends in
/// well under the 10 s timeout on an instrumented build: running out of fuel
/// is the budget working, not a finding (the default fuel's own duration is
/// tracked by fuzz/regressions/cookiecutter_render/open-*).
const FUEL: u64 = 2_000_000;

fn context() -> Value {
    let cookiecutter = json!({
        "full_name": "Ada Lovelace",
        "email": "ada@example.com",
        "project_name": "Analytical Engine",
        "project_slug": "analytical-engine",
        "package_name": "analytical_engine",
        "version": "0.1.0",
        "open_source_license": ["MIT", "BSD-3-Clause", "Not open source"],
        "use_docker": "y",
        "use_ci": true,
        "max_workers": 4,
        "ratio": 0.5,
        "nothing": null,
        "description": "Ünïcode — \"quoted\" <b>html</b> & tabs\tand\nnewlines",
        "settings": {"debug": false, "ports": [80, 443], "nested": {"key": "value"}},
        "_copy_without_render": ["*.png"],
        "_template": "gh:acme/template",
        "_output_dir": "/tmp/out",
        "_repo_dir": "template",
        "_checkout": null
    });
    json!({"cookiecutter": cookiecutter.clone(), "_cookiecutter": cookiecutter})
}

fuzz_target!(|data: &[u8]| {
    let Ok(template) = std::str::from_utf8(data) else {
        return;
    };
    // Same environment for every input, as for every file of one project.
    thread_local! {
        static RENDERER: Renderer = Renderer::new(Dialect::Cookiecutter, FUEL);
        static CONTEXT: Value = context();
    }
    RENDERER.with(|r| {
        CONTEXT.with(|ctx| {
            let _ = r.render_str("file fuzz.txt", template, ctx);
        })
    });
});
