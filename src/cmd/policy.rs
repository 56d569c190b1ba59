//! `antidote check` and `antidote explain`.
use antidote_policy::diag::{render_all, to_json};
use std::path::Path;
use std::process::ExitCode;

fn read(file: &Path) -> Result<String, ExitCode> {
    std::fs::read_to_string(file).map_err(|e| {
        eprintln!("antidote: cannot read {}: {e}", file.display());
        ExitCode::from(2)
    })
}

pub fn check(file: &Path, json: bool) -> ExitCode {
    let src = match read(file) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let name = file.display().to_string();
    match antidote_policy::compile(&src) {
        Ok(c) => {
            if json {
                println!("{}", serde_json::json!({"ok": true, "rules": c.program.rules.len(), "diagnostics": to_json(&c.warnings, &src)}));
            } else {
                if !c.warnings.is_empty() {
                    eprintln!("{}", render_all(&c.warnings, &src, &name));
                }
                println!("{name}: ok, {} rule(s), {} set(s), {} table(s)", c.program.rules.len(), c.program.sets.len(), c.program.tables.len());
            }
            ExitCode::SUCCESS
        }
        Err(diags) => {
            if json {
                println!("{}", serde_json::json!({"ok": false, "diagnostics": to_json(&diags, &src)}));
            } else {
                let errors = diags.iter().filter(|d| d.is_error()).count();
                eprintln!("{}", render_all(&diags, &src, &name));
                eprintln!("{name}: {errors} error(s); the policy was not compiled");
            }
            ExitCode::FAILURE
        }
    }
}

pub fn explain(file: &Path) -> ExitCode {
    let src = match read(file) {
        Ok(s) => s,
        Err(c) => return c,
    };
    match antidote_policy::compile(&src) {
        Ok(c) => {
            print!("{}", antidote_policy::explain::explain(&c.program));
            ExitCode::SUCCESS
        }
        Err(diags) => {
            eprintln!("{}", render_all(&diags, &src, &file.display().to_string()));
            ExitCode::FAILURE
        }
    }
}
