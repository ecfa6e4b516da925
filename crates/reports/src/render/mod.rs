//! Renderers of a report [`Document`](super::model::Document): `text` for the terminal,
//! `data` for JSON and CSV, `html` (with `svg` charts) for one self-contained page.

pub mod data;
pub mod html;
pub mod svg;
pub mod text;
