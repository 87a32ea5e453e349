//! Parapet's HTTP API and web UI.
