//! The Google Cloud provider against the fake of Cloud Asset Inventory.

mod collect;
mod refresh;
