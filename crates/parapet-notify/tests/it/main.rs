//! Delivery of the outbox to real receivers on 127.0.0.1: what each channel
//! sends (payload, signature, headers), and what happens when a receiver is
//! down.

mod channels;
mod email;
mod fake_jira;
mod receiver;
mod webhook;

pub use receiver::{Received, Receiver};
