//! Golden tests: every diagnostic the compiler gives, rendered as a person reads it, compared
//! with `tests/golden/NAME.expected`. Regenerate with `UPDATE_GOLDEN=1 cargo test --test golden`
//! (and read the diff).
use antidote_policy::diag::render_all;
use std::path::Path;

#[test]
fn every_diagnostic_matches_its_golden_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var("UPDATE_GOLDEN").is_ok();
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().map(|e| e == "policy").unwrap_or(false)).collect();
    files.sort();
    assert!(files.len() >= 25, "golden policies missing");
    let mut failures = Vec::new();
    let mut codes_seen = std::collections::BTreeSet::new();
    for f in &files {
        let name = f.file_stem().unwrap().to_string_lossy().to_string();
        let src = std::fs::read_to_string(f).unwrap();
        let (diags, ok) = match antidote_policy::compile(&src) {
            Ok(c) => (c.warnings, true),
            Err(d) => (d, false),
        };
        let mut text = render_all(&diags, &src, &format!("{name}.policy"));
        text.push_str(&format!("\n-- compiled: {ok}\n"));
        for d in &diags {
            codes_seen.insert(d.code);
        }
        // The code in the file name must be among the diagnostics (OK-* files: none at all).
        let want = name.split('-').next().unwrap();
        if want == "OK" {
            if !diags.is_empty() || !ok {
                failures.push(format!("{name}: expected no diagnostic, got:\n{text}"));
            }
        } else if !diags.iter().any(|d| d.code == want) {
            failures.push(format!("{name}: no {want} among:\n{text}"));
        }
        let expected_path = f.with_extension("expected");
        if update {
            std::fs::write(&expected_path, &text).unwrap();
        } else {
            let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
            if expected != text {
                failures.push(format!("{name}: rendering changed\n--- expected\n{expected}\n--- got\n{text}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    for code in ["E001", "E002", "E003", "E004", "E005", "E006", "E007", "E008", "E009", "E010", "E011", "E012", "E013", "E014", "E015", "E016", "E017", "W001"]
    {
        assert!(codes_seen.contains(code), "no golden file covers {code}");
    }
}

#[test]
fn json_diagnostics_carry_line_column_and_hint() {
    let src = "set s = { 1 }\nrule r { when llmnr.qnme == \"x\" then drop }\n";
    let d = antidote_policy::compile(src).err().unwrap();
    let j = antidote_policy::diag::to_json(&d, src);
    let first = &j[0];
    assert_eq!(first["code"], "E001");
    assert_eq!(first["line"], 2);
    assert_eq!(first["column"], 15);
    assert_eq!(first["end_column"], 25);
    assert_eq!(first["hint"], "did you mean `llmnr.qname`?");
    assert_eq!(first["level"], "error");
}

#[test]
fn oversized_set_is_rejected() {
    let mut src = String::from("set big : int = { ");
    for i in 0..1_000_001u64 {
        src.push_str(&i.to_string());
        src.push(',');
    }
    src.push_str(" }\n");
    let d = antidote_policy::compile(&src).err().expect("over the limit");
    assert!(d.iter().any(|d| d.code == "E008"), "{d:?}");
}
