//! Integration tests: each format's output checked against its published
//! definition.

mod ocsf;
mod sample;
mod sarif;
