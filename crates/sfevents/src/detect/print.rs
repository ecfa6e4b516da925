//! `detect`'s output: a table for people, JSON or NDJSON (one alert document per line) for
//! programs.

use std::io::Write;

use detections::Alert;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Ndjson,
}

pub fn write(out: &mut dyn Write, format: Format, alerts: &[Alert]) -> std::io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, alerts)?;
            writeln!(out)
        }
        Format::Ndjson => {
            for a in alerts {
                serde_json::to_writer(&mut *out, a)?;
                writeln!(out)?;
            }
            Ok(())
        }
        Format::Table => table(out, alerts),
    }
}

fn table(out: &mut dyn Write, alerts: &[Alert]) -> std::io::Result<()> {
    let rule_width = alerts
        .iter()
        .map(|a| a.rule.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    writeln!(
        out,
        "{:<24}  {:<13}  {:<rule_width$}  summary",
        "time", "level", "rule"
    )?;
    for a in alerts {
        writeln!(
            out,
            "{:<24}  {:<13}  {:<rule_width$}  {}",
            a.timestamp,
            a.rule.level.as_str(),
            a.rule.name,
            a.summary
        )?;
    }
    Ok(())
}
