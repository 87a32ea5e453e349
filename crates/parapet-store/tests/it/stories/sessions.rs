use crate::{Backend, at};
use parapet_store::roles::*;
use parapet_store::{Policy, TokenScope, WebSession};

pub fn sessions_last_until_they_expire_or_end_and_a_login_is_taken_once(backend: &impl Backend) {
    let (_dir, open) = backend.open_shared(Policy::default());
    let (mut one, mut other) = (open(), open());
    let session = WebSession {
        name: "alice".into(),
        scope: TokenScope::ReadWrite,
        token_hash: Some("tokenhash".into()),
        expires_at: at(12),
    };
    one.start_session("cookiehash", &session, at(0))
        .expect("start");
    // Another replica knows it.
    assert_eq!(
        other.session("cookiehash", at(1)).expect("read"),
        Some(session.clone())
    );
    assert_eq!(
        other.session("cookiehash", at(12)).expect("read"),
        None,
        "expired"
    );
    assert_eq!(other.session("unknown", at(1)).expect("read"), None);
    other.end_session("cookiehash").expect("end");
    assert_eq!(
        one.session("cookiehash", at(1)).expect("read"),
        None,
        "ended everywhere"
    );

    one.start_login("statehash", "bindinghash", at(1), at(0))
        .expect("login");
    assert_eq!(
        other.take_login("statehash", at(0)).expect("take"),
        Some("bindinghash".to_owned())
    );
    assert_eq!(
        one.take_login("statehash", at(0)).expect("take"),
        None,
        "taken once"
    );
    one.start_login("late", "b", at(1), at(0)).expect("login");
    assert_eq!(
        one.take_login("late", at(2)).expect("take"),
        None,
        "expired"
    );
}
