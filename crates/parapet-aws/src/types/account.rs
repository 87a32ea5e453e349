//! The account's alternate contacts (billing, operations, security): whom
//! AWS tells about a compromised key or an abuse report (CIS 2.2, 2.3).

use super::{Collector, Doc, Reach, TypeDef, run_parts, text};
use crate::collect::{Ctx, Out};
use crate::error::{Call, Named};
use aws_sdk_account::Client;
use aws_sdk_account::types::AlternateContactType;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) const ACCOUNT: Collector = Collector {
    service: "account",
    types: &[TypeDef {
        name: CONTACTS,
        page: include_str!("../../../../docs/resources/aws/account-contacts.md"),
        events: r#"
            source: account.amazonaws.com
            global: true
            events:
              - {name: PutAlternateContact, action: change, key: [recipientAccountId]}
              - {name: DeleteAlternateContact, action: change, key: [recipientAccountId]}
            "#,
        dependents: &[],
        network: None,
    }],
    reach: Reach::Global,
    calls: &["account:GetAlternateContact"],
    run: |ctx| account(ctx).boxed(),
};

const CONTACTS: &str = "AWS::Account::Contacts";

async fn account(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    run_parts(&ctx, vec![(CONTACTS, contacts(&ctx, &client).boxed())]).await
}

async fn contacts(ctx: &Ctx, account: &Client) -> Call<Vec<Asset>> {
    let id = &ctx.session.account;
    let mut asset = ctx.asset(
        CONTACTS,
        format!("arn:aws:account::{id}:account/contacts"),
        id.clone(),
        json!({}),
    );
    let kinds = [
        ("BillingContact", AlternateContactType::Billing),
        ("OperationsContact", AlternateContactType::Operations),
        ("SecurityContact", AlternateContactType::Security),
    ];
    let answers = futures::future::join_all(kinds.iter().map(|(_, kind)| {
        account
            .get_alternate_contact()
            .alternate_contact_type(kind.clone())
            .send()
    }))
    .await;
    let mut doc = Doc::of(&mut asset);
    for ((field, _), answer) in kinds.iter().zip(answers) {
        let contact = answer.named("account:GetAlternateContact").map(|a| {
            a.alternate_contact().map_or(Value::Null, |c| {
                json!({
                    "Name": text(c.name()),
                    "Title": text(c.title()),
                    "EmailAddress": text(c.email_address()),
                })
            })
        });
        doc.set(field, contact, &["ResourceNotFoundException"]);
    }
    Ok(vec![asset])
}
