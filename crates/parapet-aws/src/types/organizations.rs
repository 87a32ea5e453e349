//! The account's place in AWS Organizations: whether it belongs to an
//! organisation and, for the management account, how the organisation is
//! governed (policy types, organisational units, delegated administrators,
//! the delegation policy, centrally managed root access): CIS 2.1 and FSBP
//! Account.2.

use super::{Collector, Doc, Reach, TypeDef, optional_policy, run_parts, strings, text};
use crate::collect::{Ctx, Out};
use crate::error::{Call, Named};
use aws_sdk_organizations::Client;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) const ORGANIZATIONS: Collector = Collector {
    service: "organizations",
    types: &[TypeDef {
        name: ORGANIZATION,
        page: include_str!("../../../../docs/resources/aws/organizations-organization.md"),
        events: r#"
            source: organizations.amazonaws.com
            global: true
            events:
              - {name: CreateOrganization, action: change, key: [recipientAccountId]}
              - {name: DeleteOrganization, action: change, key: [recipientAccountId]}
              - {name: LeaveOrganization, action: change, key: [recipientAccountId]}
              - {name: AcceptHandshake, action: change, key: [recipientAccountId]}
              - {name: EnablePolicyType, action: change, key: [recipientAccountId]}
              - {name: DisablePolicyType, action: change, key: [recipientAccountId]}
              - {name: CreateOrganizationalUnit, action: change, key: [recipientAccountId]}
              - {name: DeleteOrganizationalUnit, action: change, key: [recipientAccountId]}
              - {name: RegisterDelegatedAdministrator, action: change, key: [recipientAccountId]}
              - {name: DeregisterDelegatedAdministrator, action: change, key: [recipientAccountId]}
              - {name: PutResourcePolicy, action: change, key: [recipientAccountId]}
              - {name: DeleteResourcePolicy, action: change, key: [recipientAccountId]}
              - {name: EnableOrganizationsRootCredentialsManagement, source: iam.amazonaws.com, action: change, key: [recipientAccountId]}
              - {name: DisableOrganizationsRootCredentialsManagement, source: iam.amazonaws.com, action: change, key: [recipientAccountId]}
              - {name: EnableOrganizationsRootSessions, source: iam.amazonaws.com, action: change, key: [recipientAccountId]}
              - {name: DisableOrganizationsRootSessions, source: iam.amazonaws.com, action: change, key: [recipientAccountId]}
            "#,
        dependents: &[],
        network: None,
    }],
    reach: Reach::Global,
    calls: &[
        "iam:ListOrganizationsFeatures",
        "organizations:DescribeOrganization",
        "organizations:DescribeResourcePolicy",
        "organizations:ListDelegatedAdministrators",
        "organizations:ListDelegatedServicesForAccount",
        "organizations:ListOrganizationalUnitsForParent",
        "organizations:ListRoots",
    ],
    run: |ctx| organizations(ctx).boxed(),
};

const ORGANIZATION: &str = "AWS::Organizations::Organization";

async fn organizations(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    run_parts(
        &ctx,
        vec![(ORGANIZATION, organization(&ctx, &client).boxed())],
    )
    .await
}

async fn organization(ctx: &Ctx, organizations: &Client) -> Call<Vec<Asset>> {
    let id = &ctx.session.account;
    let mut asset = ctx.asset(
        ORGANIZATION,
        format!("arn:aws:organizations::{id}:account-membership"),
        id.clone(),
        json!({}),
    );
    let described = match organizations
        .describe_organization()
        .send()
        .await
        .named("organizations:DescribeOrganization")
    {
        Ok(answer) => answer.organization().cloned(),
        Err(failure) if failure.code == "AWSOrganizationsNotInUseException" => None,
        Err(failure) => return Err(failure),
    };
    let management = described
        .as_ref()
        .is_some_and(|o| o.master_account_id() == Some(id.as_str()));
    let mut doc = Doc::of(&mut asset);
    doc.set(
        "Organization",
        Ok(described.as_ref().map_or(Value::Null, |o| {
            json!({
                "Id": text(o.id()),
                "Arn": text(o.arn()),
                "MasterAccountId": text(o.master_account_id()),
                "FeatureSet": text(o.feature_set().map(|f| f.as_str())),
            })
        })),
        &[],
    );
    doc.set("IsManagementAccount", Ok(json!(management)), &[]);
    if described.is_none() {
        // No organisation: nothing governs the account.
        for field in [
            "EnabledPolicyTypes",
            "OrganizationalUnits",
            "DelegatedAdministrators",
        ] {
            doc.set(field, Ok(json!([])), &[]);
        }
        doc.set("DelegationPolicy", Ok(Value::Null), &[]);
        doc.set("RootAccessFeatures", Ok(json!([])), &[]);
    } else if management {
        let (roots, administrators, policy, features) = tokio::join!(
            roots(organizations),
            delegated_administrators(ctx, organizations),
            organizations.describe_resource_policy().send(),
            aws_sdk_iam::Client::new(&ctx.sdk())
                .list_organizations_features()
                .send(),
        );
        match roots {
            Ok((types, units)) => {
                doc.set("EnabledPolicyTypes", Ok(types), &[]);
                doc.set("OrganizationalUnits", units, &[]);
            }
            Err(failure) => {
                doc.unknown("EnabledPolicyTypes", &failure);
                doc.unknown("OrganizationalUnits", &failure);
            }
        }
        doc.set("DelegatedAdministrators", administrators, &[]);
        doc.set(
            "DelegationPolicy",
            policy
                .named("organizations:DescribeResourcePolicy")
                .and_then(|p| {
                    optional_policy(
                        "organizations:DescribeResourcePolicy",
                        p.resource_policy().and_then(|r| r.content()),
                    )
                }),
            &["ResourcePolicyNotFoundException"],
        );
        doc.set(
            "RootAccessFeatures",
            features
                .named("iam:ListOrganizationsFeatures")
                .map(|f| strings(f.enabled_features().iter().map(|f| f.as_str()))),
            &[],
        );
    }
    Ok(vec![asset])
}

/// The policy types enabled at the organisation's root, and the names of
/// the organisational units directly under it (or why they could not be
/// listed).
async fn roots(organizations: &Client) -> Call<(Value, Call<Value>)> {
    let roots = all_pages!(organizations.list_roots(), "organizations:ListRoots", roots)?;
    let Some(root) = roots.first() else {
        return Ok((json!([]), Ok(json!([]))));
    };
    let types = strings(
        root.policy_types()
            .iter()
            .filter(|t| t.status().is_some_and(|s| s.as_str() == "ENABLED"))
            .filter_map(|t| t.r#type().map(|t| t.as_str())),
    );
    let units = all_pages!(
        organizations
            .list_organizational_units_for_parent()
            .parent_id(root.id().unwrap_or_default()),
        "organizations:ListOrganizationalUnitsForParent",
        organizational_units
    )
    .map(|units| strings(units.iter().filter_map(|u| u.name())));
    Ok((types, units))
}

/// The delegated administrator accounts, each with the services it
/// administers.
async fn delegated_administrators(ctx: &Ctx, organizations: &Client) -> Call<Value> {
    let accounts = all_pages!(
        organizations.list_delegated_administrators(),
        "organizations:ListDelegatedAdministrators",
        delegated_administrators
    )?;
    let services = ctx
        .each(
            accounts
                .iter()
                .map(|a| a.id().unwrap_or_default().to_owned())
                .collect(),
            |account| async move {
                all_pages!(
                    organizations
                        .list_delegated_services_for_account()
                        .account_id(account),
                    "organizations:ListDelegatedServicesForAccount",
                    delegated_services
                )
            },
        )
        .await;
    accounts
        .iter()
        .zip(services)
        .map(|(a, services)| {
            Ok(json!({
                "Id": text(a.id()),
                "Name": text(a.name()),
                "Services": strings(services?.iter().filter_map(|s| s.service_principal())),
            }))
        })
        .collect::<Call<Vec<Value>>>()
        .map(Value::Array)
}
