//! Snapshot tests of the derive's output: every `#[derive(Model)]` struct
//! of a source file is expanded, pretty-printed, and compared with a
//! committed file under `tests/snapshots/`, so that a change to the derive
//! that changes what it writes shows up as a diff. `STRATA_BLESS=1`
//! rewrites the snapshots; read the diff before committing it.
//!
//! The sources are the quickstart's models (`orm/examples/quickstart.rs`)
//! and `tests/snapshots/models.rs`, which covers what the quickstart does
//! not: every field type, `Option` fields, `has_one`, `set_null`, keys
//! that are not `i64`, the default table name and display, and an error.

use super::expand_or_error;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots")
}

/// The expansion of every struct deriving `Model` in `source`, each under
/// a comment naming it.
fn expand_file(source: &str) -> String {
    let file = syn::parse_file(source).expect("the source parses");
    let mut out = String::new();
    for item in file.items {
        let syn::Item::Struct(s) = item else { continue };
        let derives_model = s.attrs.iter().any(|a| {
            a.path().is_ident("derive")
                && a.meta.require_list().is_ok_and(|l| {
                    l.tokens
                        .clone()
                        .into_iter()
                        .any(|t| t.to_string() == "Model")
                })
        });
        if !derives_model {
            continue;
        }
        let name = s.ident.to_string();
        let tokens = expand_or_error(&syn::DeriveInput::from(s));
        let expanded: syn::File = syn::parse2(tokens).expect("the expansion parses");
        out.push_str(&format!("// ---- {name} ----\n\n"));
        out.push_str(&prettyplease::unparse(&expanded));
        out.push('\n');
    }
    out
}

/// Compares the expansion of `source` with snapshot `name`, or writes it
/// when `STRATA_BLESS` is set.
fn check(source: &Path, name: &str) {
    let text = std::fs::read_to_string(source).expect("read the source");
    let actual = expand_file(&text);
    let path = dir().join(name);
    if std::env::var_os("STRATA_BLESS").is_some() {
        std::fs::write(&path, &actual).expect("write the snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if actual != expected {
        let at = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, e)| a != e)
            .unwrap_or(actual.lines().count().min(expected.lines().count()));
        panic!(
            "the expansion differs from {} from line {}:\n  expected: {:?}\n  actual:   {:?}\n\
             (STRATA_BLESS=1 rewrites the snapshot)",
            path.display(),
            at + 1,
            expected.lines().nth(at),
            actual.lines().nth(at),
        );
    }
}

#[test]
fn quickstart_models_expand_as_recorded() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/quickstart.rs");
    check(&source, "quickstart.expanded.rs");
}

#[test]
fn more_models_expand_as_recorded() {
    check(&dir().join("models.rs"), "models.expanded.rs");
}
