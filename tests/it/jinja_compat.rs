//! Jinja2 compatibility of cookiecutter templates, checked against the real
//! `cookiecutter --no-input`: Python's dict, list and str methods (mutation
//! included), Jinja2's positional filter signatures, Python whitespace
//! inside tags, and every built-in filter and test of Jinja2 3.1. Each
//! case builds a small template and asserts byte-identical trees.

use std::path::Path;
use std::process::Command;

use crate::common::TestEnv;
use crate::scaffold_cookiecutter::{assert_same_tree, cookiecutter, put};

/// Writes template `name` (`cookiecutter.json` plus `files`, paths under
/// the project directory `{{cookiecutter.slug}}/`, or `hooks/...`).
fn template(root: &Path, name: &str, json: &str, files: &[(&str, &str)]) {
    let t = root.join(name);
    put(&t, "cookiecutter.json", json, 0o644);
    for (rel, text) in files {
        let rel = if rel.starts_with("hooks/") {
            rel.to_string()
        } else {
            format!("{{{{cookiecutter.slug}}}}/{rel}")
        };
        put(&t, &rel, text, 0o644);
    }
}

/// Renders `name` with cookiecutter and idp (extra context `values`,
/// hooks run by both when `hooks`) and compares the trees.
fn same(env: &TestEnv, name: &str, values: &[&str], hooks: bool) {
    let cc_out = env.root.join(format!("cc-{name}"));
    let idp_out = env.root.join(format!("idp-{name}"));
    let mut cc_args = vec!["--no-input", "-o", cc_out.to_str().unwrap()];
    if !hooks {
        cc_args.extend(["--accept-hooks", "no"]);
    }
    cc_args.push(name);
    cc_args.extend_from_slice(values);
    let cc = cookiecutter(env, &env.cwd, &cc_args);
    assert!(
        cc.status.success(),
        "cookiecutter failed on {name}: {}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let mut args = vec![
        "scaffold",
        name,
        "--no-input",
        "--no-git",
        "--output-dir",
        idp_out.to_str().unwrap(),
    ];
    if hooks {
        args.push("--trust");
    }
    for v in values {
        args.extend(["--set", v]);
    }
    env.run(&args).ok();
    assert_same_tree(&cc_out, &idp_out);
}

fn python_env(env: &mut TestEnv) {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3");
    env.env("IDP_PYTHON", String::from_utf8_lossy(&out.stdout).trim());
}

const JSON: &str = r#"{"slug": "demo", "domain_name": "example.com", "_names": ["ada", "bob"], "names": "x", "opts": {"a": 1, "b": "two"}, "csv": "x, y ,z", "version": "1.2.3", "n": "7"}"#;

#[test]
fn dict_methods_match_jinja2_and_update_mutates_the_context() {
    let env = TestEnv::new();
    template(
        &env.cwd,
        "dicts",
        JSON,
        &[(
            "dict.txt",
            "{{ cookiecutter.update({\"domain_name\": cookiecutter.domain_name | trim}) }}\n\
             {% set x = cookiecutter.update({'domain_name': 'changed.org'}) %}{{ cookiecutter.domain_name }}\n\
             {% for k, v in cookiecutter.opts.items() %}{{ k }}={{ v }};{% endfor %}\n\
             {{ cookiecutter.opts.keys() | list }} {{ cookiecutter.opts.values() | list }}\n\
             {{ cookiecutter.opts.get('a') }} {{ cookiecutter.opts.get('zz') }} {{ cookiecutter.opts.get('zz', 'dflt') }}\n\
             {{ cookiecutter.opts.setdefault('c', 3) }} {{ cookiecutter.opts.setdefault('a', 9) }} {{ cookiecutter.opts }}\n\
             {{ cookiecutter.opts.pop('c') }} {{ cookiecutter.opts.pop('zz', 'none-left') }} {{ cookiecutter.opts }}\n\
             {% set c = cookiecutter.opts.copy() %}{% set _ = c.update(z=26) %}{{ c }} {{ cookiecutter.opts }}\n\
             {% set lit = {'k': 1}.copy() %}{% set _ = lit.update({'j': 2}) %}{{ lit }} {{ 'k' in lit }}\n",
        )],
    );
    same(
        &env,
        "dicts",
        &["domain_name=  spaced.example.com  "],
        false,
    );
    let text = std::fs::read_to_string(env.root.join("idp-dicts/demo/dict.txt")).unwrap();
    assert!(
        text.starts_with("None\nchanged.org\na=1;b=two;\n"),
        "{text}"
    );
}

#[test]
fn an_update_in_a_pre_gen_hook_reaches_every_file_like_cookiecutter_django() {
    let mut env = TestEnv::new();
    python_env(&mut env);
    template(
        &env.cwd,
        "django-like",
        JSON,
        &[
            (
                "hooks/pre_gen_project.py",
                "\"\"\"\n{{ cookiecutter.update({\"domain_name\": cookiecutter.domain_name | trim}) }}\n\"\"\"\nprint('{{ cookiecutter.domain_name }}')\n",
            ),
            ("settings.py", "DOMAIN = '{{ cookiecutter.domain_name }}'\n"),
        ],
    );
    same(
        &env,
        "django-like",
        &["domain_name=  spaced.example.com  "],
        true,
    );
    let text = std::fs::read_to_string(env.root.join("idp-django-like/demo/settings.py")).unwrap();
    assert_eq!(text, "DOMAIN = 'spaced.example.com'\n");
}

#[test]
fn list_methods_match_jinja2() {
    let env = TestEnv::new();
    template(
        &env.cwd,
        "lists",
        JSON,
        &[(
            "list.txt",
            "{{ cookiecutter._names.append('cy') }} {{ cookiecutter._names }}\n\
             {% set _ = cookiecutter._names.extend(['dee', 'ada']) %}{{ cookiecutter._names }}\n\
             {{ cookiecutter._names.index('bob') }} {{ cookiecutter._names.count('ada') }} {{ ['a', 'b'].index('b') }} {{ [1, 1, 2].count(1) }}\n\
             {{ cookiecutter._names.pop() }} {{ cookiecutter._names.pop(0) }} {{ cookiecutter._names | join(',') }}\n\
             {% set _ = cookiecutter._names.insert(1, 'ins') %}{% set _ = cookiecutter._names.remove('cy') %}{{ cookiecutter._names }}\n\
             {% set _ = cookiecutter._names.sort() %}{{ cookiecutter._names }} {{ cookiecutter._names | length }}\n",
        )],
    );
    same(&env, "lists", &[], false);
}

#[test]
fn string_methods_match_python() {
    let env = TestEnv::new();
    template(
        &env.cwd,
        "strings",
        JSON,
        &[(
            "str.txt",
            "{{ cookiecutter.csv.split(',') }} {{ ' a  b\\tc\u{a0}d '.split() }} {{ 'a b c'.split(None, 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ ' x  y '.rsplit() }}\n\
             {{ cookiecutter.version.replace('.', '_') }} {{ 'aaa'.replace('a', 'b', 2) }}\n\
             {{ cookiecutter.domain_name.startswith('exa') }} {{ cookiecutter.domain_name.endswith(('.org', '.com')) }}\n\
             {{ '-'.join(cookiecutter._names) }} [{{ '  pad  '.strip() }}] [{{ 'xxhixx'.strip('x') }}] [{{ '  l'.lstrip() }}] [{{ 'r  '.rstrip() }}]\n\
             {{ 'MiXed wOrds'.lower() }} {{ 'MiXed'.upper() }} {{ 'hello wORLD'.title() }} {{ 'hello World'.capitalize() }}\n\
             {{ '{}-{}'.format('a', 1) }} {{ '{0}{1}{0}'.format('x', 'y') }} {{ '{name}!'.format(name='hi') }}\n\
             {{ 'banana'.find('an') }} {{ 'banana'.find('zz') }} {{ 'banana'.count('a') }} {{ 'banana'.rfind('a') }} {{ 'banana'.index('n') }}\n\
             {{ cookiecutter.n.isdigit() }} {{ 'abc'.isalpha() }} {{ 'ab1'.isalnum() }} {{ 'abc'.islower() }} {{ 'ABC'.isupper() }} {{ ' '.isspace() }} {{ 'my_mod'.isidentifier() }}\n\
             {{ cookiecutter.n.zfill(3) }} {{ '-5'.zfill(4) }} [{{ 'ab'.ljust(5, '.') }}] [{{ 'ab'.rjust(5) }}] [{{ 'ab'.center(7, '*') }}] [{{ 'abc'.center(6) }}]\n\
             {{ 'one\\ntwo\\r\\nthree'.splitlines() }} {{ 'a=b=c'.partition('=') }} {{ 'a=b=c'.rpartition('=') }} {{ 'abc'.partition('z') }}\n\
             {{ 'v1.2'.removeprefix('v') }} {{ 'file.py'.removesuffix('.py') }} {{ 'AbC'.swapcase() }}\n",
        )],
    );
    same(&env, "strings", &[], false);
}

#[test]
fn filters_take_jinja2_positional_and_keyword_arguments() {
    let env = TestEnv::new();
    let long = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.";
    template(
        &env.cwd,
        "signatures",
        &format!(r#"{{"slug": "demo", "text": "{long}", "_nums": [3, 1, 2], "d": {{"b": 2, "A": 1, "c": 3}}, "size": 123456789}}"#),
        &[(
            "filters.txt",
            "{{ cookiecutter.text | wordwrap(40) }}\n{{ cookiecutter.text | wordwrap(30, true, '|') }}\n{{ cookiecutter.text | wordwrap(width=25, wrapstring='\\n  ') }}\n\
             {{ cookiecutter.text | truncate(20) }} {{ cookiecutter.text | truncate(20, true) }} {{ cookiecutter.text | truncate(20, False, '..', 0) }} {{ cookiecutter.text | truncate(length=15, end='~') }}\n\
             {{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(width=3, first=True, blank=True) }}|{{ 'a\\nb' | indent('> ') }}\n\
             [{{ 'mid' | center(9) }}] [{{ 'mid' | center(width=8) }}]\n\
             {{ 3.14159 | round }} {{ 3.14159 | round(2) }} {{ 3.14159 | round(1, 'floor') }} {{ 2.5 | round(0, 'ceil') }} {{ 42.55 | round(precision=1, method='common') }}\n\
             {{ cookiecutter.size | filesizeformat }} {{ cookiecutter.size | filesizeformat(true) }} {{ 1000 | filesizeformat(binary=False) }}\n\
             {{ '42' | int }} {{ 'x' | int(7) }} {{ 'ff' | int(0, 16) }} {{ '0b11' | int(base=2) }} {{ '4.7' | int }} {{ '1.5' | float }} {{ 'y' | float(2.5) }} {{ 'z' | float(default=1.0) }}\n\
             {{ cookiecutter._nums | join('-') }} {{ [{'n': 'a'}, {'n': 'b'}] | join(', ', 'n') }} {{ [1, 2] | join(d='+') }}\n\
             {{ 'aaa' | replace('a', 'b') }} {{ 'aaa' | replace('a', 'b', 2) }}\n\
             {{ '' | default('dflt') }} {{ '' | default('dflt', true) }} {{ '' | d(default_value='kw', boolean=true) }}\n\
             {{ cookiecutter._nums | sum }} {{ cookiecutter._nums | sum(start=10) }} {{ [{'v': 1}, {'v': 2}] | sum('v') }} {{ [{'v': 1}, {'v': 2}] | sum(attribute='v', start=5) }}\n\
             {{ [1, 2, 3, 4, 5] | batch(2) | list }} {{ [1, 2, 3, 4, 5] | batch(2, 0) | list }} {{ [1, 2, 3, 4, 5] | slice(2) | list }} {{ [1, 2, 3, 4, 5] | slice(2, 'x') | list }}\n\
             {{ cookiecutter.d | dictsort }} {{ cookiecutter.d | dictsort(true) }} {{ cookiecutter.d | dictsort(false, 'value') }} {{ cookiecutter.d | dictsort(false, 'key', true) }} {{ cookiecutter.d | dictsort(by='value', reverse=true) }}\n\
             {{ cookiecutter._nums | sort }} {{ cookiecutter._nums | sort(true) }} {{ ['b', 'A', 'a'] | sort(false, true) }} {{ ['b', 'A', 'a'] | unique | list }} {{ ['b', 'A', 'a'] | unique(true) | list }}\n\
             {{ ['b', 'A', 'c'] | min }} {{ ['b', 'A', 'c'] | max(true) }} {{ [{'v': 2}, {'v': 1}] | min(attribute='v') }}\n\
             {{ '  x  ' | trim }}|{{ 'xxyxx' | trim('x') }}|{{ 'hello world' | title }}|{{ 'hello World' | capitalize }}|{{ [1, 2] | tojson }}|{{ {'b': 1, 'a': [1]} | tojson(2) }}\n\
             {% for g in [{'k': 'a', 'v': 1}, {'k': 'b', 'v': 2}, {'k': 'a', 'v': 3}] | groupby('k') %}{{ g.grouper }}:{{ g.list | map(attribute='v') | list }};{% endfor %}\n\
             {{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('odd') | list }} {{ ['a b', 'c'] | map('upper') | list }} {{ 'hello big world' | wordcount }} {{ '<b>x</b> y' | striptags }}\n\
             {{ '%s-%03d' | format('a', 7) }} {{ 'a b&c' | urlencode }} {{ {'k': 'v w'} | urlencode }} {{ 'x<y' | e }} {{ \"'q'\" | escape }} {{ 'x&y' | forceescape }} {{ {'a': 1, 'b': [True, None]} | pprint }}\n\
             <p{{ {'class': 'x y', 'id': 'a<b', 'skip': none} | xmlattr }}> <p{{ {'k': 1} | xmlattr(false) }}>\n\
             {{ 'see https://example.com/x, or www.example.org and mail ada@example.com (http://a.io/p).' | urlize }}\n\
             {{ 'https://example.com/a/very/long/path' | urlize(15, true, '_blank') }}\n\
             {{ [1, 'a'] | list }} {{ 'ab' | list }} {{ 5 | string }} {{ -3 | abs }} {{ [1, 2] | first }} {{ [1, 2] | last }} {{ [1, 2] | reverse | list }} {{ 'abc' | reverse }} {{ 'abc' | count }} {{ 'abc' | length }} {{ {'a': 1} | items | list }}\n",
        )],
    );
    same(&env, "signatures", &[], false);
}

#[test]
fn python_whitespace_inside_tags_is_whitespace() {
    let env = TestEnv::new();
    template(
        &env.cwd,
        "nbsp",
        JSON,
        &[(
            "ws.txt",
            "{{\u{a0}cookiecutter.slug\u{a0}}}\n{%\u{a0}if cookiecutter.n\u{3000}==\u{2003}'7'\u{a0}%}yes\u{a0}{{ '\u{a0}kept\u{a0}' }}{%\u{a0}endif\u{a0}%}\n\
             {%- raw %}{{\u{a0}raw\u{a0}}}{% endraw %}\ntext\u{a0}outside\u{2028}tags\n{{\u{1680}cookiecutter._names\u{a0}|\u{a0}join(',')\u{205f}}}\n",
        )],
    );
    same(&env, "nbsp", &[], false);
}

#[test]
fn random_picks_one_of_the_items() {
    let env = TestEnv::new();
    template(
        &env.cwd,
        "random",
        r#"{"slug": "demo", "_pets": ["cat", "dog", "eel"]}"#,
        &[(
            "pick.txt",
            "{{ cookiecutter._pets | random }} {{ 'xyz' | random }}",
        )],
    );
    let out = env.root.join("random-out");
    for _ in 0..5 {
        let _ = std::fs::remove_dir_all(&out);
        env.run([
            "scaffold",
            "random",
            "--no-input",
            "--no-git",
            "--output-dir",
            out.to_str().unwrap(),
        ])
        .ok();
        let text = std::fs::read_to_string(out.join("demo/pick.txt")).unwrap();
        let (pet, letter) = text.split_once(' ').unwrap();
        assert!(["cat", "dog", "eel"].contains(&pet), "{text}");
        assert!(["x", "y", "z"].contains(&letter), "{text}");
    }
}

/// Jinja2 3.1's `Environment().filters` and `.tests`.
const FILTERS: &str = "abs attr batch capitalize center count d default dictsort e escape filesizeformat first float forceescape format groupby indent int items join last length list lower map max min pprint random reject rejectattr replace reverse round safe select selectattr slice sort string striptags sum title tojson trim truncate unique upper urlencode urlize wordcount wordwrap xmlattr";
const TESTS: &str = "!= < <= == > >= boolean callable defined divisibleby eq equalto escaped even false filter float ge greaterthan gt in integer iterable le lessthan lower lt mapping ne none number odd sameas sequence string test true undefined upper";

#[test]
fn every_jinja2_builtin_filter_and_test_exists() {
    let env = TestEnv::new();
    let mut body = String::new();
    for f in FILTERS.split(' ') {
        body.push_str(&format!("{f}={{{{ '{f}' is filter }}}}\n"));
    }
    for t in TESTS.split(' ') {
        body.push_str(&format!("{t}={{{{ '{t}' is test }}}}\n"));
    }
    body.push_str("{{ range is callable }} {{ 'x' is callable }}\n");
    template(
        &env.cwd,
        "names",
        r#"{"slug": "demo"}"#,
        &[("names.txt", &body)],
    );
    same(&env, "names", &[], false);
    let text = std::fs::read_to_string(env.root.join("idp-names/demo/names.txt")).unwrap();
    assert!(!text.contains("=False"), "{text}");
    assert!(text.ends_with("True False\n"), "{text}");
    assert_eq!(text.matches("=True\n").count(), 54 + 39);
}

#[test]
fn mutating_a_template_literal_or_growing_a_list_without_bound_is_an_error() {
    let env = TestEnv::new();
    template(
        &env.cwd,
        "hostile",
        JSON,
        &[(
            "x.txt",
            "{% for i in range(64) %}{% set _ = cookiecutter._names.extend(cookiecutter._names) %}{% endfor %}",
        )],
    );
    let start = std::time::Instant::now();
    env.run([
        "scaffold",
        "hostile",
        "--no-input",
        "--no-git",
        "--output-dir",
        env.root.join("h").to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("over idp's limit");
    assert!(start.elapsed().as_secs() < 5);
    template(
        &env.cwd,
        "literal",
        JSON,
        &[("x.txt", "{% set l = [] %}{{ l.append(1) }}")],
    );
    env.run([
        "scaffold",
        "literal",
        "--no-input",
        "--no-git",
        "--output-dir",
        env.root.join("l").to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("list.append()");
    template(
        &env.cwd,
        "cycle",
        JSON,
        &[(
            "x.txt",
            "{{ cookiecutter._names.append(cookiecutter._names) }}",
        )],
    );
    env.run([
        "scaffold",
        "cycle",
        "--no-input",
        "--no-git",
        "--output-dir",
        env.root.join("c").to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("contain itself");
}
