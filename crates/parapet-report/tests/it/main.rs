//! Integration tests: each format's output checked against its published
//! definition.

mod html;
mod ocsf;
mod sample;
mod sarif;
