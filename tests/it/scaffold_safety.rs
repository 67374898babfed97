//! Templates cannot write outside their target, cannot replace files
//! without being told, leave nothing behind when they fail, run no code
//! without --trust, and cannot loop forever.

use std::path::Path;

use crate::common::TestEnv;
use crate::scaffold_cookiecutter::put;

/// Every entry under `dir` (relative paths), to prove nothing appeared.
fn entries(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.filter_map(Result::ok) {
            let name = e.file_name().to_string_lossy().into_owned();
            let r = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            out.push(r.clone());
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), &r, out);
            }
        }
    }
    walk(dir, "", &mut out);
    out.sort();
    out
}

fn template(env: &TestEnv, name: &str, json: &str, files: &[(&str, &str)]) {
    let t = env.cwd.join(name);
    put(&t, "cookiecutter.json", json, 0o644);
    for (rel, content) in files {
        put(&t, rel, content, 0o644);
    }
}

#[test]
fn dot_dot_in_a_templated_name_is_refused() {
    let env = TestEnv::new();
    template(
        &env,
        "evil-dir",
        r#"{"name": "proj", "sub": "../../escaped"}"#,
        &[("{{cookiecutter.name}}/{{cookiecutter.sub}}/x.txt", "x\n")],
    );
    let out = env.dir("out");
    env.run([
        "scaffold",
        "evil-dir",
        "--no-input",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("unsafe output path")
    .stderr_has("..");
    assert!(entries(&out).is_empty(), "{:?}", entries(&out));
    assert!(!env.root.join("escaped").exists());
    assert!(!env.cwd.join("escaped").exists());
    // The project directory's own name too.
    template(
        &env,
        "evil-top",
        r#"{"name": "../outside"}"#,
        &[("{{cookiecutter.name}}/x.txt", "x\n")],
    );
    env.run([
        "scaffold",
        "evil-top",
        "--no-input",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("unsafe output path");
    assert!(!env.root.join("outside").exists());
    assert!(entries(&out).is_empty());
}

#[test]
fn absolute_templated_path_is_refused() {
    let env = TestEnv::new();
    let victim = env.root.join("victim.txt");
    let json = format!(r#"{{"name": "proj", "target": "{}"}}"#, victim.display());
    template(
        &env,
        "evil-abs",
        &json,
        &[("{{cookiecutter.target}}/x.txt", "pwned\n")],
    );
    let out = env.dir("out");
    env.run([
        "scaffold",
        "evil-abs",
        "--no-input",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("absolute path");
    assert!(!victim.exists());
    assert!(entries(&out).is_empty());
}

#[test]
fn symlinks_leading_out_are_refused() {
    let env = TestEnv::new();
    // A template symlink pointing outside the template: its target is not read.
    let secret = env.root.join("secret.txt");
    std::fs::write(&secret, "top secret\n").unwrap();
    template(
        &env,
        "evil-link",
        r#"{"name": "proj"}"#,
        &[("{{cookiecutter.name}}/a.txt", "a\n")],
    );
    std::os::unix::fs::symlink(
        &secret,
        env.cwd.join("evil-link/{{cookiecutter.name}}/leak.txt"),
    )
    .unwrap();
    let out = env.dir("out");
    env.run([
        "scaffold",
        "evil-link",
        "--no-input",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("resolves outside the template directory");
    assert!(entries(&out).is_empty());

    // A symlink already in the target (with --force) that leads elsewhere:
    // writing through it is refused and nothing is written anywhere.
    template(
        &env,
        "through-link",
        r#"{"name": "proj"}"#,
        &[("{{cookiecutter.name}}/sub/x.txt", "x\n")],
    );
    let elsewhere = env.dir("elsewhere");
    std::fs::create_dir_all(out.join("proj")).unwrap();
    std::fs::write(out.join("proj/keep.txt"), "mine\n").unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("proj/sub")).unwrap();
    env.run([
        "scaffold",
        "through-link",
        "--no-input",
        "--force",
        "--no-git",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("points outside the target directory");
    assert!(entries(&elsewhere).is_empty(), "{:?}", entries(&elsewhere));
    assert_eq!(entries(&out), vec!["proj", "proj/keep.txt", "proj/sub"]);
}

#[test]
fn existing_target_needs_force_and_files_need_overwrite() {
    let env = TestEnv::new();
    template(
        &env,
        "tpl",
        r#"{"name": "proj"}"#,
        &[
            ("{{cookiecutter.name}}/a.txt", "new a\n"),
            ("{{cookiecutter.name}}/b.txt", "new b\n"),
        ],
    );
    let out = env.dir("out");
    std::fs::create_dir_all(out.join("proj")).unwrap();
    std::fs::write(out.join("proj/a.txt"), "old a\n").unwrap();

    env.run([
        "scaffold",
        "tpl",
        "--no-input",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("exists and is not empty")
    .stderr_has("--force");
    assert_eq!(entries(&out), vec!["proj", "proj/a.txt"]);

    env.run([
        "scaffold",
        "tpl",
        "--no-input",
        "--force",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("would be overwritten")
    .stderr_has("proj/a.txt")
    .stderr_has("--overwrite");
    assert_eq!(
        entries(&out),
        vec!["proj", "proj/a.txt"],
        "nothing moved, not even b.txt"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("proj/a.txt")).unwrap(),
        "old a\n"
    );

    env.run([
        "scaffold",
        "tpl",
        "--no-input",
        "--overwrite",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("--force");

    env.run([
        "scaffold",
        "tpl",
        "--no-input",
        "--force",
        "--overwrite",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(out.join("proj/a.txt")).unwrap(),
        "new a\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("proj/b.txt")).unwrap(),
        "new b\n"
    );
    assert!(
        !out.join("proj/.git").exists(),
        "no repository made inside an existing directory"
    );
}

#[test]
fn failure_mid_render_leaves_nothing_behind() {
    let env = TestEnv::new();
    template(
        &env,
        "broken",
        r#"{"name": "proj"}"#,
        &[
            (
                "{{cookiecutter.name}}/a-first.txt",
                "fine {{ cookiecutter.name }}\n",
            ),
            (
                "{{cookiecutter.name}}/b-second.txt",
                "line 1\n{{ cookiecutter.missing }}\n",
            ),
        ],
    );
    let out = env.dir("out");
    env.run([
        "scaffold",
        "broken",
        "--no-input",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("b-second.txt")
    .stderr_has("undefined");
    assert!(entries(&out).is_empty(), "{:?}", entries(&out));
    // A missing output directory is not left behind either.
    let fresh = env.root.join("a/b/c");
    env.run([
        "scaffold",
        "broken",
        "--no-input",
        "--output-dir",
        fresh.to_str().unwrap(),
    ])
    .code(2);
    assert!(!env.root.join("a").exists());
}

#[test]
fn hooks_do_not_run_without_trust() {
    let env = TestEnv::new();
    let marker = env.root.join("hook-ran");
    template(
        &env,
        "hooked",
        r#"{"name": "proj"}"#,
        &[
            ("{{cookiecutter.name}}/a.txt", "a\n"),
            (
                "hooks/pre_gen_project.sh",
                &format!("#!/bin/sh\ntouch {}\n", marker.display()),
            ),
        ],
    );
    let out = env.dir("out");
    env.run([
        "scaffold",
        "hooked",
        "--no-input",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .ok()
    .stderr_has("hooks skipped")
    .stderr_has("--trust");
    assert!(!marker.exists(), "hook ran without --trust");
    assert!(out.join("proj/a.txt").exists());

    let out2 = env.dir("out2");
    env.run([
        "scaffold",
        "hooked",
        "--no-input",
        "--trust",
        "--output-dir",
        out2.to_str().unwrap(),
    ])
    .ok();
    assert!(marker.exists(), "hook did not run with --trust");

    // A dry run never runs them, even trusted.
    std::fs::remove_file(&marker).unwrap();
    let out3 = env.dir("out3");
    env.run([
        "scaffold",
        "hooked",
        "--no-input",
        "--trust",
        "--dry-run",
        "--output-dir",
        out3.to_str().unwrap(),
    ])
    .ok();
    assert!(!marker.exists());
}

#[test]
fn runaway_template_stops_at_the_fuel_limit() {
    let env = TestEnv::new();
    template(
        &env,
        "loop",
        r#"{"name": "proj"}"#,
        &[(
            "{{cookiecutter.name}}/big.txt",
            "{% for a in range(100000) %}{% for b in range(100000) %}{% for c in range(100000) %}x{% endfor %}{% endfor %}{% endfor %}",
        )],
    );
    let out = env.dir("out");
    let start = std::time::Instant::now();
    env.run([
        "scaffold",
        "loop",
        "--no-input",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("fuel limit")
    .stderr_has("big.txt");
    assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
    assert!(entries(&out).is_empty());
    // A tiny limit stops even a small template; the default does not.
    template(
        &env,
        "small",
        r#"{"name": "proj"}"#,
        &[(
            "{{cookiecutter.name}}/a.txt",
            "{% for i in range(50) %}{{ i }}{% endfor %}",
        )],
    );
    env.run([
        "scaffold",
        "small",
        "--no-input",
        "--fuel",
        "20",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("fuel");
    env.run([
        "scaffold",
        "small",
        "--no-input",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .ok();
}

/// idp defers loading the CA bundle by pointing SSL_CERT_FILE at an empty
/// file (see src/tls.rs); hooks must see the user's environment, not that.
#[test]
fn hooks_see_the_users_ssl_cert_file() {
    let mut env = TestEnv::new();
    let seen = env.root.join("seen");
    template(
        &env,
        "certs",
        r#"{"name": "proj"}"#,
        &[
            ("{{cookiecutter.name}}/a.txt", "a\n"),
            (
                "hooks/post_gen_project.sh",
                &format!(
                    "#!/bin/sh\necho \"${{SSL_CERT_FILE:-unset}}\" >> {}\n",
                    seen.display()
                ),
            ),
        ],
    );
    let out = env.dir("out");
    env.run([
        "scaffold",
        "certs",
        "--no-input",
        "--trust",
        "--output-dir",
        out.to_str().unwrap(),
    ])
    .ok();
    env.env("SSL_CERT_FILE", "/etc/hostname");
    let out2 = env.dir("out2");
    env.run([
        "scaffold",
        "certs",
        "--no-input",
        "--trust",
        "--output-dir",
        out2.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap(),
        "unset\n/etc/hostname\n"
    );
}
