//! Entity references (`[kind:][namespace/]name`): parsing with and without a
//! default kind, the printed forms, and the invariant that a parsed
//! reference reads back as itself. Also Backstage's `parseEntityRef`
//! filter, which has its own defaults.
#![no_main]

use idp::catalog::refs::{split_ref, EntityRef};
use idp::scaffold::backstage::filters::parse_entity_ref;
use libfuzzer_sys::fuzz_target;

const DEFAULT_KINDS: &[Option<&str>] = &[None, Some("group"), Some("Component"), Some("api")];
const NAMESPACES: &[&str] = &["default", "ops"];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = split_ref(text);
    for default_kind in DEFAULT_KINDS {
        for namespace in NAMESPACES {
            let Ok(r) = EntityRef::parse(text, *default_kind, namespace) else {
                continue;
            };
            let key = r.key();
            // The full form parses back to the same entity, with any defaults.
            let again = EntityRef::parse(&r.to_string(), None, "elsewhere")
                .unwrap_or_else(|e| panic!("{r} does not parse back: {e}"));
            assert_eq!(again.key(), key, "{text:?} → {r}");
            // So does the short form, with the defaults it was shortened for
            // (input is trimmed, so only when no part has blanks at its ends).
            let trimmed = |s: &str| s.trim() == s;
            if !(trimmed(&r.kind) && trimmed(&r.namespace) && trimmed(&r.name)) {
                continue;
            }
            for dk in DEFAULT_KINDS {
                let short = r.short(*dk);
                let back = EntityRef::parse(&short, *dk, "default")
                    .unwrap_or_else(|e| panic!("short form {short:?} of {r} does not parse: {e}"));
                assert_eq!(back.key(), key, "short form {short:?} of {r}");
            }
        }
    }
    for (dk, dn) in [(None, None), (Some("group"), Some("ops"))] {
        let _ = parse_entity_ref(text, dk, dn);
    }
});
