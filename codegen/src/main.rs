//! `cargo codegen [--check]`: regenerates `sdk/src/generated/` from `schema/`,
//! or with `--check` exits non-zero naming each stale file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("codegen: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let mut check = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" => check = true,
            "-h" | "--help" => {
                println!(
                    "Regenerates sdk/src/generated/ from schema/.\n\n\
                     Usage: cargo codegen [--check]\n\n\
                     --check  write nothing; exit 1 naming each stale file"
                );
                return Ok(ExitCode::SUCCESS);
            }
            other => anyhow::bail!("unknown argument `{other}` (try --help)"),
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("codegen/ has no parent folder")?
        .to_path_buf();
    let out_dir = root.join("sdk/src/generated");
    let generated = icr_webhooks_codegen::generate(&root.join("schema"))?;
    let stale = icr_webhooks_codegen::stale_files(&out_dir, &generated);
    if check {
        if stale.is_empty() {
            println!("sdk/src/generated/ is up to date");
            return Ok(ExitCode::SUCCESS);
        }
        for name in &stale {
            eprintln!("stale: sdk/src/generated/{name}");
        }
        eprintln!("run `cargo codegen` and commit the result");
        return Ok(ExitCode::from(1));
    }
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    for name in &stale {
        let path = out_dir.join(name);
        match generated.get(name) {
            Some(text) => std::fs::write(&path, text)
                .with_context(|| format!("writing {}", path.display()))?,
            None => std::fs::remove_file(&path)
                .with_context(|| format!("removing {}", path.display()))?,
        }
        println!("wrote sdk/src/generated/{name}");
    }
    Ok(ExitCode::SUCCESS)
}
