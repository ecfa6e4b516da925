//! The commands that read archives and move events to outputs: `ship`, `replay` and
//! `setup <kind>` (`collect` ships through [`ship_to`] too).

use std::path::PathBuf;

use super::*;

/// Ships every archive under `dirs` to `outputs` (or the one named `only`); the exit code.
pub(super) async fn ship_to(
    dirs: &[PathBuf],
    outputs: &[outputs::OutputConfig],
    only: Option<&str>,
    quiet: bool,
) -> u8 {
    let chosen: Vec<&outputs::OutputConfig> = outputs
        .iter()
        .filter(|o| only.is_none_or(|n| n == o.name))
        .collect();
    if chosen.is_empty() {
        match only {
            Some(n) => eprintln!(
                "error: no output named '{n}': the outputs are {}",
                outputs
                    .iter()
                    .map(|o| o.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => eprintln!(
                "error: no output configured: add --to URL or [[output]] tables to the config"
            ),
        }
        return exit::CONFIG;
    }
    let targets = match crate::ship::targets(dirs) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CONFIG;
        }
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut code = exit::OK;
    for t in &targets {
        for o in &chosen {
            let retry = outputs::shipper::RetryLimit::bounded(6);
            let r = crate::ship::ship_one(t, o, retry, stop.clone()).await;
            if !quiet || r.error.is_some() {
                println!("{}", crate::ship::describe(&r, &t.root));
            }
            if let Some(e) = &r.error {
                eprintln!("error: output '{}': {e}", o.name);
                code = exit::PARTIAL;
            }
            if r.dead > 0 {
                eprintln!(
                    "error: output '{}': {} events refused for good, kept in {}",
                    o.name,
                    r.dead,
                    t.root.join("dead-letter").join(&o.name).display()
                );
                code = exit::PARTIAL;
            }
        }
    }
    code
}

fn ship_setup(args: &ShipArgs) -> Result<(Vec<PathBuf>, Vec<outputs::OutputConfig>), u8> {
    let ov = Overrides {
        config: args.config.clone(),
        to: args.to.clone(),
        redaction: args.redaction.clone(),
        ..Overrides::default()
    };
    let outputs = crate::config::resolve_outputs(&ov).map_err(|e| {
        eprintln!("error: {e}");
        exit::CONFIG
    })?;
    let dirs =
        config::archive_roots(args.output_dir.as_deref(), args.config.as_deref()).map_err(|e| {
            eprintln!("error: {e}");
            exit::CONFIG
        })?;
    Ok((dirs, outputs))
}

/// `setup <kind>`: installs what the outputs of that kind need at their destinations. The
/// kind's own name (`elasticsearch`) takes every output of the kind, however it is written;
/// an alias (`opensearch`) only those written with it, and is refused when there is none.
/// The other outputs are named and left alone.
pub(super) async fn setup_outputs(
    kind: &str,
    config: Option<PathBuf>,
    to: Vec<String>,
    only: Option<&str>,
    quiet: bool,
) -> u8 {
    let ov = Overrides {
        config,
        to,
        ..Overrides::default()
    };
    let outputs = match crate::config::resolve_outputs(&ov) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CONFIG;
        }
    };
    logging::init(LogFormat::Text, quiet, None);
    let chosen: Vec<_> = outputs
        .iter()
        .filter(|o| only.is_none_or(|n| n == o.name))
        .collect();
    if chosen.is_empty() {
        eprintln!("error: no output to set up: add --to URL or [[output]] tables to the config");
        return exit::CONFIG;
    }
    let Some(named) = outputs::registry::lookup(kind) else {
        eprintln!(
            "error: no kind of output is named '{kind}': the kinds are {}",
            outputs::registry::kinds()
        );
        return exit::CONFIG;
    };
    if named.is_alias() && !chosen.iter().any(|o| o.kind.answers_to(kind)) {
        eprintln!(
            "error: no {kind} output to set up: write it as type = \"{kind}\" or --to {kind}+https://... (`sfevents setup {}` sets up every {} output, however it is written)",
            named.kind, named.kind
        );
        return exit::CONFIG;
    }
    let mut code = exit::OK;
    for o in chosen {
        if !setup_one(kind, o).await {
            code = exit::PARTIAL;
        }
    }
    code
}

/// Sets up one output if it answers to `kind`; `false` when that failed.
async fn setup_one(kind: &str, o: &outputs::OutputConfig) -> bool {
    let type_name = o.kind.type_name();
    let setup = match o.setup() {
        None => {
            println!("output '{}': a {type_name} output needs no setup", o.name);
            return true;
        }
        Some(_) if !o.kind.answers_to(kind) => {
            println!(
                "output '{}': left alone (written as {}, not {kind}): `sfevents setup {type_name}` sets it up",
                o.name,
                o.kind.named()
            );
            return true;
        }
        Some(setup) => setup,
    };
    match setup.await {
        Ok(lines) => {
            for l in lines {
                println!("output '{}': {l}", o.name);
            }
            true
        }
        Err(e) => {
            eprintln!("error: output '{}': {e}", o.name);
            false
        }
    }
}

pub(super) async fn ship(args: &ShipArgs, only: Option<&str>, quiet: bool) -> u8 {
    let (dirs, outputs) = match ship_setup(args) {
        Ok(x) => x,
        Err(code) => return code,
    };
    logging::init(LogFormat::Text, quiet, None);
    ship_to(&dirs, &outputs, only, quiet).await
}

pub(super) async fn replay(
    args: &ShipArgs,
    output: &str,
    since: Option<String>,
    until: Option<String>,
    datasets: &[String],
    quiet: bool,
) -> u8 {
    let (dirs, outputs) = match ship_setup(args) {
        Ok(x) => x,
        Err(code) => return code,
    };
    logging::init(LogFormat::Text, quiet, None);
    let Some(o) = outputs.iter().find(|o| o.name == output) else {
        eprintln!(
            "error: no output named '{output}': the outputs are {}",
            outputs
                .iter()
                .map(|o| o.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return exit::CONFIG;
    };
    let instant = |v: Option<String>| v.map(|s| crate::ship::parse_instant(&s)).transpose();
    let (since, until) = match (instant(since), instant(until)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return exit::CONFIG;
        }
    };
    let targets = match crate::ship::targets(&dirs) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CONFIG;
        }
    };
    let mut code = exit::OK;
    for t in &targets {
        let r = crate::ship::replay_one(t, o, since.as_deref(), until.as_deref(), datasets).await;
        if !quiet || r.error.is_some() {
            println!("{}", crate::ship::describe(&r, &t.root));
        }
        if let Some(e) = &r.error {
            eprintln!("error: output '{}': {e}", o.name);
            code = exit::PARTIAL;
        }
    }
    code
}
