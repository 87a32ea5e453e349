//! A client of a Storage queue on Azurite, signed in to the fake of Entra
//! ID as its service principal: what stands for Event Grid in the tests
//! (it delivers events as Event Grid does, Base64-encoded), and what reads
//! the queues Parapet writes to. Shared with `parapet`'s tests and
//! benchmarks.

use azure_core::http::{Transport, Url};
use azure_storage_queue::models::QueueMessage;
use azure_storage_queue::{QueueClient, QueueClientOptions};
use base64::Engine;
use parapet_azure::{Credentials, Endpoints};
use parapet_azure_fake::{CLIENT_ID, Fake, SECRET, TENANT};
use std::path::Path;

/// A PEM file in `dir` with the certificates of the fake and of Azurite,
/// to trust.
pub fn trusted(
    fake: &Fake,
    azurite: &parapet_azure_fake::azurite::Azurite,
    dir: &Path,
) -> std::path::PathBuf {
    let pem = dir.join("trusted.pem");
    std::fs::write(&pem, format!("{}{}", fake.certificate, azurite.certificate))
        .expect("the certificates");
    pem
}

/// A client of the queue at `url`, trusting the certificates of `pem`.
pub fn queue_client(url: &str, fake: &Fake, pem: &Path) -> QueueClient {
    let base = format!("https://{}", fake.address);
    let endpoints = Endpoints::new(&base, &base)
        .and_then(|e| e.trust(pem))
        .expect("the fake's endpoints");
    let http = endpoints.http_client().expect("a client");
    let credential = Credentials::ClientSecret {
        tenant: TENANT.to_owned(),
        client_id: CLIENT_ID.to_owned(),
        secret: azure_core::credentials::Secret::new(SECRET.to_owned()),
    }
    .token_credential(&endpoints, &http)
    .expect("a credential");
    let mut options = QueueClientOptions::default();
    options.client_options.transport = Some(Transport::new(http));
    QueueClient::new(
        Url::parse(url).expect("a URL"),
        Some(credential),
        Some(options),
    )
    .expect("a client")
}

/// Waits for `future` on a runtime of its own.
pub fn block<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}

/// Sends `text` as it is.
pub fn send(queue: &QueueClient, text: &str) {
    let message = QueueMessage {
        message_text: Some(text.to_owned()),
    };
    block(queue.send_message(message.try_into().expect("XML"), None)).expect("sent");
}

/// Sends `text` as Event Grid does: Base64-encoded.
pub fn deliver(queue: &QueueClient, text: &str) {
    send(
        queue,
        &base64::engine::general_purpose::STANDARD.encode(text),
    );
}
