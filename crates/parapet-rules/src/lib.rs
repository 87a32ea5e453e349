//! placeholder
pub mod functions;
pub mod value;
