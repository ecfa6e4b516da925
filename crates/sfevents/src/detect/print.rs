//! `detect`'s output: a table for people, JSON or NDJSON (one alert document per line) for
//! programs. Alerts are written as the rules raise them, never gathered: a backtest over
//! months raises hundreds of thousands, each with up to 100 event ids.

use std::io::Write;

use detections::Alert;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Ndjson,
}

/// Writes alerts one at a time in `format`.
pub struct Printer<W: Write> {
    out: W,
    format: Format,
    /// The table's rule column: as wide as the longest rule name that may fire.
    rule_width: usize,
    written: usize,
}

impl<W: Write> Printer<W> {
    /// Starts the output (the table's header, JSON's opening bracket).
    pub fn new(mut out: W, format: Format, rule_width: usize) -> std::io::Result<Self> {
        let rule_width = rule_width.max(4);
        match format {
            Format::Table => writeln!(
                out,
                "{:<24}  {:<13}  {:<rule_width$}  summary",
                "time", "level", "rule"
            )?,
            Format::Json => write!(out, "[")?,
            Format::Ndjson => {}
        }
        Ok(Printer {
            out,
            format,
            rule_width,
            written: 0,
        })
    }

    pub fn alert(&mut self, a: &Alert) -> std::io::Result<()> {
        let w = self.rule_width;
        match self.format {
            Format::Table => writeln!(
                self.out,
                "{:<24}  {:<13}  {:<w$}  {}",
                a.timestamp,
                a.rule.level.as_str(),
                a.rule.name,
                a.summary
            )?,
            Format::Json => {
                let sep = if self.written == 0 { "\n" } else { ",\n" };
                write!(self.out, "{sep}")?;
                let text = serde_json::to_string_pretty(a)?;
                // Indented one level inside the array, as a pretty array of them would be.
                for (i, line) in text.lines().enumerate() {
                    if i > 0 {
                        writeln!(self.out)?;
                    }
                    write!(self.out, "  {line}")?;
                }
            }
            Format::Ndjson => {
                serde_json::to_writer(&mut self.out, a)?;
                writeln!(self.out)?;
            }
        }
        self.written += 1;
        Ok(())
    }

    /// Ends the output (JSON's closing bracket) and flushes it.
    pub fn finish(mut self) -> std::io::Result<()> {
        if self.format == Format::Json {
            if self.written > 0 {
                writeln!(self.out)?;
            }
            writeln!(self.out, "]")?;
        }
        self.out.flush()
    }
}
