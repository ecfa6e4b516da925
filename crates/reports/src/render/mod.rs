//! Renderers of a report [`Document`](super::model::Document): `text` for the terminal,
//! `data` for JSON and CSV, `html` (with `svg` charts) for one self-contained page; `format`
//! is how those two write values, shared so the arrows run one way (html -> svg -> format).

pub mod data;
mod format;
pub mod html;
pub mod svg;
pub mod text;
