//! The engine's layers, and the test that holds the code to them.
//!
//! [`LAYERS`] is the one place the layer order is declared (`src/lib.rs`
//! and `ARCHITECTURE.md` cite it). Every top-level module of `src/` (a
//! folder, or a file at the root) belongs to one layer. A file may import
//! from its own layer and the layers below it, never from one above; and
//! no files may import each other around a circle, within a layer or
//! across. An import is a `use` of a `crate::`, `super::` or `self::`
//! path, or a `crate::` path written in the code; comments and strings do
//! not count. A path names the file of the longest module it starts with
//! (`crate::tree::btree::get` is `src/tree/btree.rs`; `crate::Database` is
//! `src/lib.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, bottom up.
const LAYERS: &[&[&str]] = &[
    // Shared helpers: little-endian accessors, the fast hasher.
    &["base"],
    // The one error enum.
    &["error"],
    // The file I/O seam: real files, or the simulated disk.
    &["storage"],
    // The log file, its records, group commit.
    &["log"],
    // Pages: headers, meta pages, the free list, the cache, the pager.
    &["page"],
    // B+trees over pages: nodes, overflow chains, the cursor, the catalog.
    &["tree"],
    // The committed state every transaction shares: commit, checkpoint.
    &["store"],
    // Transactions: locks, private writes, ranges.
    &["txn"],
    // The public handle: options, open and recovery, the integrity check.
    &["db"],
    // The crate root, and the fuzz targets' entry points above it all.
    &["lib", "fuzzing"],
];

/// A module path from the crate root (`["tree", "btree"]`); `[]` is the
/// crate root.
type ModPath = Vec<String>;

/// The module a source file under `src/` is: `tree/btree.rs` is
/// `["tree", "btree"]`, `tree/mod.rs` is `["tree"]`, `lib.rs` is `[]`.
fn module_of(file: &str) -> ModPath {
    let stem = file.strip_suffix(".rs").unwrap_or(file);
    let mut parts: ModPath = stem.split('/').map(str::to_string).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The layer a module belongs to: its top-level module, `lib` for the
/// crate root.
fn layer_of(module: &[String]) -> &str {
    module.first().map_or("lib", String::as_str)
}

fn rank(layer: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&layer))
}

/// `src` with comments, string literals and character literals blanked
/// out (replaced by spaces, so that positions and line numbers stay).
fn strip(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let blank = |c: u8| if c == b'\n' { b'\n' } else { b' ' };
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if rest.starts_with(b"r#\"") || rest.starts_with(b"r\"") {
            let hashes = rest[1..].iter().take_while(|&&c| c == b'#').count();
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            let open = 2 + hashes;
            out.extend(std::iter::repeat_n(b' ', open));
            i += open;
            while i < b.len() && !b[i..].starts_with(&close) {
                out.push(blank(b[i]));
                i += 1;
            }
            out.extend(std::iter::repeat_n(b' ', close.len().min(b.len() - i)));
            i += close.len();
        } else if b[i] == b'"' {
            out.push(b' ');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                let n = if b[i] == b'\\' { 2 } else { 1 };
                for _ in 0..n.min(b.len() - i) {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
            out.push(b' ');
            i += 1;
        } else if b[i] == b'\'' && (rest.get(2) == Some(&b'\'') || rest.get(1) == Some(&b'\\')) {
            // A character literal ('x', '\n', '\'', '\u{..}'), not a lifetime.
            let body = if rest[1] == b'\\' { 3 } else { 2 };
            let end = rest
                .get(body..)
                .and_then(|r| r.iter().position(|&c| c == b'\''))
                .map_or(rest.len(), |p| p + body + 1);
            out.extend(std::iter::repeat_n(b' ', end));
            i += end;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The paths a `use` tree names, expanded: `crate::{a::{self, b}, c}`
/// gives `crate::a`, `crate::a::b`, `crate::c`.
fn expand_use(tree: &str) -> Vec<Vec<String>> {
    fn split_top(s: &str) -> Vec<&str> {
        let (mut depth, mut start, mut parts) = (0, 0, Vec::new());
        for (i, c) in s.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(&s[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&s[start..]);
        parts
    }
    fn go(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
        let tree: String = tree.split_whitespace().collect::<Vec<_>>().join(" ");
        let tree = tree.trim();
        if tree.is_empty() {
            return;
        }
        if let Some(brace) = tree.find('{') {
            let head = tree[..brace].trim_end_matches("::").trim();
            let inner = &tree[brace + 1..tree.rfind('}').unwrap_or(tree.len())];
            let mut p = prefix.to_vec();
            p.extend(
                head.split("::")
                    .filter(|s| !s.is_empty())
                    .map(|s| s.trim().to_string()),
            );
            for part in split_top(inner) {
                go(&p, part, out);
            }
            return;
        }
        let path = tree.split(" as ").next().unwrap_or(tree);
        let mut p = prefix.to_vec();
        for seg in path.split("::").map(str::trim) {
            match seg {
                "self" | "*" | "" => {}
                s => p.push(s.to_string()),
            }
        }
        out.push(p);
    }
    let mut out = Vec::new();
    go(&[], tree, &mut out);
    out
}

/// Every import in a stripped source file, as an absolute module path
/// (crate root first), with its line. `module` is the file's module; a
/// `super::` or `self::` inside an inline `mod x { .. }` is taken
/// relative to that inline module, and so is a path that starts with the
/// name of a child module (`pub use file::RealVfs` in `storage/mod.rs`);
/// `is_module` says which modules exist. Paths into other crates are left
/// out.
fn imports(
    module: &[String],
    code: &str,
    is_module: impl Fn(&[String]) -> bool,
) -> Vec<(usize, ModPath)> {
    let bytes = code.as_bytes();
    let line_of = |pos: usize| code[..pos].matches('\n').count() + 1;
    // Inline modules: where each opens and closes, by brace depth.
    let mut inline: Vec<(usize, usize, String)> = Vec::new();
    {
        let mut depth = 0usize;
        let mut open: Vec<(usize, usize, String)> = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let at_word = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
            if at_word && code[i..].starts_with("mod ") {
                let rest = &code[i + 4..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if rest[name.len()..].trim_start().starts_with('{') {
                    open.push((i, depth + 1, name));
                }
            }
            match bytes[i] {
                b'{' => depth += 1,
                b'}' => {
                    if let Some(pos) = open.iter().rposition(|o| o.1 == depth) {
                        let (start, _, name) = open.remove(pos);
                        inline.push((start, i, name));
                    }
                    depth = depth.saturating_sub(1);
                }
                _ => {}
            }
            i += 1;
        }
    }
    let module_at = |pos: usize| -> ModPath {
        let mut m = module.to_vec();
        let mut within: Vec<&(usize, usize, String)> = inline
            .iter()
            .filter(|(s, e, _)| *s < pos && pos < *e)
            .collect();
        within.sort_by_key(|(s, _, _)| *s);
        m.extend(within.into_iter().map(|(_, _, n)| n.clone()));
        m
    };
    let absolute = |at: &ModPath, path: Vec<String>| -> Option<ModPath> {
        let mut base = at.clone();
        let mut segs = path.into_iter().peekable();
        match segs.peek().map(String::as_str) {
            Some("crate") => {
                base.clear();
                segs.next();
            }
            Some("super") => {
                while segs.peek().map(String::as_str) == Some("super") {
                    base.pop();
                    segs.next();
                }
            }
            Some("self") => {
                segs.next();
            }
            Some(child) if is_module(&[&at[..], &[child.to_string()]].concat()) => {}
            _ => return None,
        }
        base.extend(segs);
        Some(base)
    };
    let mut found = Vec::new();
    let mut use_spans = Vec::new();
    let mut i = 0;
    while let Some(off) = code[i..].find("use ") {
        let start = i + off;
        i = start + 4;
        let at_word =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        if !at_word {
            continue;
        }
        let Some(end) = code[start..].find(';').map(|e| start + e) else {
            break;
        };
        use_spans.push(start..end);
        let at = module_at(start);
        for path in expand_use(&code[start + 4..end]) {
            if let Some(p) = absolute(&at, path) {
                found.push((line_of(start), p));
            }
        }
        i = end;
    }
    // `crate::a::b` written in the code, outside `use`.
    let mut i = 0;
    while let Some(off) = code[i..].find("crate::") {
        let start = i + off;
        i = start + 7;
        if use_spans.iter().any(|s| s.contains(&start)) {
            continue;
        }
        if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            continue;
        }
        let path: String = code[start..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let segs: ModPath = path
            .split("::")
            .skip(1)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        found.push((line_of(start), segs));
    }
    found
}

/// The file an absolute path names: that of the longest module it starts
/// with.
fn target(files: &BTreeMap<String, ModPath>, path: &[String]) -> Option<String> {
    let by_module: BTreeMap<&ModPath, &String> = files.iter().map(|(f, m)| (m, f)).collect();
    (0..=path.len())
        .rev()
        .find_map(|n| by_module.get(&path[..n].to_vec()).map(|f| (*f).clone()))
}

/// Checks a source tree (file name under `src/` to its text): every
/// import against the layer order, and the files for circles. Returns
/// what is wrong, one line each.
fn check(sources: &BTreeMap<String, String>) -> Vec<String> {
    let files: BTreeMap<String, ModPath> =
        sources.keys().map(|f| (f.clone(), module_of(f))).collect();
    let mut problems = Vec::new();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, src) in sources {
        let module = &files[file];
        let layer = layer_of(module);
        let Some(mine) = rank(layer) else {
            problems.push(format!("{file}: layer `{layer}` is not in LAYERS"));
            continue;
        };
        let is_module = |m: &[String]| files.values().any(|f| f == m);
        for (line, path) in imports(module, &strip(src), is_module) {
            let Some(to) = target(&files, &path) else {
                continue;
            };
            if &to == file {
                continue;
            }
            let theirs = layer_of(&files[&to]);
            if rank(theirs).is_some_and(|r| r > mine) {
                problems.push(format!(
                    "{file}:{line}: imports `crate::{}` from layer `{theirs}`, above `{layer}`",
                    path.join("::")
                ));
            }
            edges.entry(file.clone()).or_default().insert(to);
        }
    }
    problems.extend(circles(&edges));
    problems
}

/// Every circle of imports between files, each once, as `a -> b -> a`.
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    // Tarjan's strongly connected components; a component of more than one
    // file holds a circle, and one path around it is reported.
    struct Tarjan<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        components: Vec<Vec<&'a str>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.edges.get(v).into_iter().flatten() {
                if !self.index.contains_key(w.as_str()) {
                    self.visit(w);
                    let lw = self.low[w.as_str()];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if self.on_stack.contains(w.as_str()) {
                    let iw = self.index[w.as_str()];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    self.components.push(comp);
                }
            }
        }
    }
    let mut t = Tarjan {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for v in edges.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.components
        .iter()
        .map(|comp| {
            // Walk from the first file, inside the component, back to it.
            let inside: BTreeSet<&str> = comp.iter().copied().collect();
            let mut path = vec![comp[0]];
            let mut seen = BTreeSet::from([comp[0]]);
            loop {
                let here = *path.last().unwrap();
                let next = edges[here]
                    .iter()
                    .map(String::as_str)
                    .find(|w| inside.contains(w) && (*w == comp[0] || !seen.contains(w)));
                match next {
                    Some(w) if w == comp[0] => {
                        path.push(w);
                        break;
                    }
                    Some(w) => {
                        seen.insert(w);
                        path.push(w);
                    }
                    None => {
                        path.push("...");
                        break;
                    }
                }
            }
            format!("circle of imports: {}", path.join(" -> "))
        })
        .collect()
}

fn read_tree(dir: &Path, under: &str, out: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let entry = entry.expect("src/ is readable");
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if under.is_empty() {
            name.clone()
        } else {
            format!("{under}/{name}")
        };
        if entry.path().is_dir() {
            read_tree(&entry.path(), &rel, out);
        } else if name.ends_with(".rs") {
            let text = std::fs::read_to_string(entry.path()).expect("sources are UTF-8");
            out.insert(rel, text);
        }
    }
}

#[test]
fn the_engine_keeps_to_its_layers() {
    let mut sources = BTreeMap::new();
    read_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        "",
        &mut sources,
    );
    assert!(sources.len() > 20, "read the engine's sources");
    let problems = check(&sources);
    assert!(
        problems.is_empty(),
        "imports against the layer order (LAYERS in engine/tests/layers.rs), or circles:\n{}",
        problems.join("\n")
    );
}

fn tree(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|(f, s)| (f.to_string(), s.to_string()))
        .collect()
}

/// The checker itself: it must see an import against the order, and a
/// circle, or the test above proves nothing.
#[test]
fn the_checker_finds_an_upward_import_and_a_circle() {
    let clean = tree(&[
        ("lib.rs", "mod page; mod tree;\npub use tree::btree::get;"),
        ("page/mod.rs", "pub(crate) mod pager;"),
        (
            "page/pager.rs",
            "use crate::error::Result;\npub fn read() {}",
        ),
        ("tree/mod.rs", "pub(crate) mod btree; pub(crate) mod node;"),
        (
            "tree/btree.rs",
            "use crate::{page::pager::{self, read}, tree::node::{self as n}};\n\
             fn f() { crate::page::pager::read(); }",
        ),
        (
            "tree/node.rs",
            "// use crate::tree::btree; (a comment)\nconst S: &str = \"crate::db::x\";",
        ),
        (
            "error.rs",
            "pub type Result<T> = std::result::Result<T, ()>;",
        ),
    ]);
    assert_eq!(check(&clean), Vec::<String>::new());

    let mut upward = clean.clone();
    upward.insert(
        "page/pager.rs".into(),
        "use crate::error::Result;\nfn f() -> usize { crate::tree::node::count() }".into(),
    );
    let found = check(&upward);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            .starts_with("page/pager.rs:2: imports `crate::tree::node::count` from layer `tree`"),
        "{found:?}"
    );

    let mut circle = clean.clone();
    circle.insert(
        "tree/node.rs".into(),
        "mod tests { use super::super::btree::f; }\nuse crate::tree::btree;".into(),
    );
    let found = check(&circle);
    assert_eq!(
        found,
        ["circle of imports: tree/btree.rs -> tree/node.rs -> tree/btree.rs"],
    );

    let mut unknown = clean;
    unknown.insert("cache/mod.rs".into(), String::new());
    assert_eq!(
        check(&unknown),
        ["cache/mod.rs: layer `cache` is not in LAYERS"]
    );
}

#[test]
fn use_trees_expand_to_every_path() {
    let paths = expand_use("crate::{a::{self, b as c}, d::e::*, f}");
    let paths: Vec<String> = paths.into_iter().map(|p| p.join("::")).collect();
    assert_eq!(
        paths,
        ["crate::a", "crate::a::b", "crate::d::e", "crate::f"]
    );
    let stripped = strip("let s = \"use crate::x;\"; // crate::y\nlet c = '\"'; /* crate::z */ a");
    assert!(!stripped.contains("crate::"), "{stripped}");
    assert!(stripped.ends_with(" a"));
}
