//! The quickstart reproduces the seed's examples: its output is checked
//! line by line against `quickstart.expected`.

#[path = "../examples/quickstart.rs"]
mod quickstart;

#[test]
fn quickstart_output_matches_the_seed() {
    let dir = std::env::temp_dir().join(format!("strata-quickstart-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut out = Vec::new();
    quickstart::run(&dir.join("quickstart.strata"), &mut out).unwrap();
    let got = String::from_utf8(out).unwrap();
    let want = include_str!("quickstart.expected");
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(g, w, "line {}", i + 1);
    }
    assert_eq!(got.lines().count(), want.lines().count(), "number of lines");
    // Running it again on the same file is refused: it starts fresh.
    assert!(quickstart::run(&dir.join("quickstart.strata"), &mut Vec::new()).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
