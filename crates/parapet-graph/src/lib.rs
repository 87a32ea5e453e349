//! The network topology of an estate and what the internet can reach of it.
//!
//! [`Topology::build`] reads networks, subnets, route tables, gateways,
//! subnet rules, firewalls and endpoints into a model of no provider, each
//! provider's assets through its [`adapter`]; [`exposures`] evaluates, hop
//! by hop, which protocols and ports of each asset the internet reaches and
//! explains each with its path; [`public_by_policy`] finds what policies
//! open to everyone.
//!
//! # Layout
//!
//! - [`topology`]: the provider-neutral model.
//! - [`adapter`]: each provider's assets read into it, and its public grants.
//! - [`exposure`]: what the internet reaches, and the facts rules read.
//! - [`public`]: grants that open resources to everyone.
//! - [`export`]: the graph drawn (JSON, DOT, SVG).
//! - [`ports`]: protocols and port ranges.

pub mod adapter;
pub mod export;
pub mod exposure;
#[cfg(test)]
mod fixtures;
pub mod ports;
pub mod public;
pub mod topology;

pub use export::{Filter, Graph, graph, to_dot, to_svg};
pub use exposure::{Exposure, Hop, exposures, facts as exposure_facts, undecided};
pub use ports::{PortSet, Protocol};
pub use public::{PublicAccess, public_by_policy};
pub use topology::Topology;
