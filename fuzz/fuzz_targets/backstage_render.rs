//! Backstage template rendering: the input is a step input value (`${{ }}`
//! expressions, Nunjucks-style blocks, Backstage's filters `parseRepoUrl`,
//! `parseEntityRef`, `pick`, `projectSlug`, `dump`, and JavaScript object
//! literals with bare keys), rendered with fixed parameters as template steps
//! do, then as a `fetch:template` skeleton file with `values`.
#![no_main]

use idp::scaffold::backstage::{filters, steps};
use idp::scaffold::render::Whitespace;
use idp::scaffold::{Dialect, Renderer};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

/// Fuel per render, lower than idp's default so a fuel-bound loop ends well
/// under the 10 s timeout on an instrumented build (see cookiecutter_render).
const FUEL: u64 = 2_000_000;

fn step_context() -> Value {
    json!({
        "parameters": {
            "name": "checkout",
            "owner": "group:default/payments",
            "repoUrl": "github.com?owner=acme&repo=checkout",
            "port": 8080,
            "ratio": 1.5,
            "public": true,
            "system": null,
            "tags": ["java", "payments"],
            "database": {"engine": "postgres", "size": "small"}
        },
        "secrets": {"token": "s3cr3t"},
        "steps": {"fetch": {"output": {"targetPath": "./skeleton", "files": ["a", "b"]}}},
        "user": {"entity": {"metadata": {"name": "ada"}}, "ref": "user:default/ada"},
        "context": {"task": {"id": "local"}},
        "environment": {"parameters": {}, "secrets": {}},
        "templateInfo": {"entityRef": "template:default/service", "baseUrl": "file:///templates/service"}
    })
}

fn skeleton_values() -> Value {
    json!({"values": {
        "name": "checkout",
        "owner": "payments",
        "port": 8080,
        "destination": {"host": "github.com", "owner": "acme", "repo": "checkout"},
        "tags": ["java"],
        "enabled": false
    }})
}

fn renderer(ws: Whitespace) -> Renderer {
    let mut r = Renderer::new(Dialect::Backstage, FUEL);
    filters::install(&mut r);
    r.set_whitespace(ws);
    r
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    thread_local! {
        static STEPS: Renderer = renderer(Whitespace::default());
        static SKELETON: Renderer = renderer(Whitespace {
            trim_blocks: true,
            lstrip_blocks: true,
            keep_trailing_newline: true,
        });
        static STEP_CTX: Value = step_context();
        static SKELETON_CTX: Value = skeleton_values();
    }
    STEPS.with(|r| {
        STEP_CTX.with(|ctx| {
            let input = Value::String(text.to_string());
            let _ = steps::render(r, "step 'fuzz' input.url", &input, ctx);
        })
    });
    SKELETON.with(|r| {
        SKELETON_CTX.with(|ctx| {
            let _ = r.render_str("step 'fuzz': file README.md", text, ctx);
        })
    });
});
