//! The network topology of an estate and what the internet can reach of it.
//!
//! [`Topology::build`] reads VPCs, subnets, route tables, gateways, network
//! ACLs, security groups, instances, interfaces, databases and load
//! balancers from the assets' configuration documents; [`exposures`]
//! evaluates, hop by hop, which protocols and ports of each asset the
//! internet reaches and explains each with its path; [`public_by_policy`]
//! finds what policies open to everyone.

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
