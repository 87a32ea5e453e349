//! The Storage queue of Event Grid's events on Azurite, signed in with the
//! fake's Entra ID tokens: Base64 and plain messages received, handled
//! ones deleted, one that is not an event kept in the dead-letter queue.

use crate::arm::{endpoints, principal};
use crate::queue_client::{block, deliver, queue_client, send, trusted};
use parapet_azure::StorageQueue;
use parapet_azure_fake::azurite::Azurite;
use parapet_azure_fake::{Fake, SECRET};
use parapet_provider::Queue;

#[test]
fn events_are_received_base64_or_plain_deleted_once_handled_and_others_set_aside() {
    let fake = Fake::start();
    let azurite = Azurite::start();
    let (endpoints, dir) = endpoints(&fake);
    let both = trusted(&fake, &azurite, dir.path());
    let endpoints = endpoints.trust(&both).expect("trusted");
    let (url, dead_url) = (
        azurite.queue_url("events"),
        azurite.queue_url("events-dead"),
    );
    let (sender, dead) = (
        queue_client(&url, &fake, &both),
        queue_client(&dead_url, &fake, &both),
    );
    block(sender.create(None)).expect("the queue");
    block(dead.create(None)).expect("the dead-letter queue");

    let event = r#"[{"eventType":"Microsoft.Resources.ResourceWriteSuccess"}]"#;
    deliver(&sender, event);
    send(&sender, event);
    let queue = StorageQueue::connect(&url, Some(&dead_url), &principal(SECRET), &endpoints)
        .expect("the queue");
    assert_eq!(queue.name(), url);
    let received = queue.receive(2).expect("received");
    assert_eq!(received.len(), 2, "{received:?}");
    for message in &received {
        assert_eq!(message.body, event);
        assert!(message.sent_at_ms.is_some());
    }
    assert!(
        queue.receive(0).expect("received").is_empty(),
        "hidden while their batch is handled"
    );
    let handled: Vec<_> = received.iter().collect();
    queue.delete(&handled).expect("deleted");

    send(&sender, "not an event");
    let received = queue.receive(2).expect("received");
    assert_eq!(received.len(), 1);
    queue.set_aside(&received[0]).expect("set aside");
    let kept = StorageQueue::connect(&dead_url, None, &principal(SECRET), &endpoints)
        .expect("the dead-letter queue")
        .receive(2)
        .expect("received");
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].body, "not an event");

    let refused = StorageQueue::connect(
        &azurite.queue_url("missing"),
        None,
        &principal(SECRET),
        &endpoints,
    )
    .expect("a client")
    .receive(0)
    .expect_err("no such queue");
    let said = refused.to_string();
    assert!(
        said.contains("missing") && said.contains("receive"),
        "{said}"
    );
    assert!(!said.contains(SECRET));
}
