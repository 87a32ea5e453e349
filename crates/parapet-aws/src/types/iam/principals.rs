//! IAM principals: users (console password, MFA, access keys with their age
//! and last use, groups), roles (trust policy) and groups (members), each
//! with its attached managed policies (`has_policy` edges), its inline
//! policies with their documents and, for users and roles, the permissions
//! boundary (a `permissions_boundary` edge): what their effective
//! permissions are worked out from.

use super::report::{Report, cell};
use super::{GROUP, ROLE, USER};
use crate::collect::{Ctx, relate};
use crate::error::{Call, Failure, Named};
use crate::types::{Doc, optional_policy, policy, strings, tag_map, text, time};
use aws_sdk_iam::Client;
use aws_sdk_iam::types::AttachedPermissionsBoundary;
use futures::future::{BoxFuture, Shared};
use parapet_core::{Asset, Relationship};
use serde_json::{Value, json};
use std::collections::HashMap;

/// A principal's inline policies with their documents, as
/// `[{PolicyName, PolicyDocument}]`: the names listed, then each read.
macro_rules! inline_policies {
    ($iam:expr, $list:ident, $get:ident, $who:ident, $name:expr, $listed:literal, $read:literal) => {
        async {
            let names = all_pages!($iam.$list().$who($name), $listed, policy_names)?;
            let mut documents = Vec::with_capacity(names.len());
            for policy_name in names {
                let answer = $iam
                    .$get()
                    .$who($name)
                    .policy_name(&policy_name)
                    .send()
                    .await
                    .named($read)?;
                documents.push(json!({
                    "PolicyName": policy_name,
                    "PolicyDocument": policy($read, answer.policy_document())?,
                }));
            }
            Ok::<Value, Failure>(Value::Array(documents))
        }
    };
}

/// A principal's attached managed policies, as `[{PolicyName, PolicyArn}]`.
macro_rules! attached_policies {
    ($iam:expr, $list:ident, $who:ident, $name:expr, $listed:literal) => {
        async {
            all_pages!($iam.$list().$who($name), $listed, attached_policies)
                .map(|p| attached_json(&p))
        }
    };
}

pub(super) async fn users(
    ctx: &Ctx,
    iam: &Client,
    report: Shared<BoxFuture<'_, Report>>,
) -> Call<Vec<Asset>> {
    let mut users = all_pages!(iam.list_users(), "iam:ListUsers", users)?;
    ctx.keep(USER, &mut users, |u| vec![u.user_name(), u.arn()]);
    let report = report.await;
    let details = ctx
        .each(
            users.iter().map(|u| u.user_name().to_owned()).collect(),
            move |name| user_details(iam, name),
        )
        .await;
    Ok(users
        .iter()
        .zip(details)
        .map(|(user, details)| {
            let mut asset = ctx.asset(
                USER,
                user.arn(),
                user.user_name(),
                json!({
                    "UserName": user.user_name(),
                    "UserId": user.user_id(),
                    "Arn": user.arn(),
                    "Path": user.path(),
                    "CreateDate": time(Some(user.create_date())),
                    "PasswordLastUsed": time(user.password_last_used()),
                }),
            );
            let mut doc = Doc::of(&mut asset);
            match report.as_ref() {
                Ok(rows) => {
                    let empty = HashMap::new();
                    let row = rows.get(user.user_name()).unwrap_or(&empty);
                    for (field, column) in [
                        ("PasswordEnabled", "password_enabled"),
                        ("MfaActive", "mfa_active"),
                    ] {
                        doc.set(
                            field,
                            Ok(Value::Bool(cell(row, column) == Value::Bool(true))),
                            &[],
                        );
                    }
                }
                Err(failure) => {
                    doc.unknown("PasswordEnabled", failure);
                    doc.unknown("MfaActive", failure);
                }
            }
            let UserDetails {
                keys,
                attached,
                inline,
                groups,
                boundary,
                tags,
            } = details;
            doc.set("AccessKeys", keys, &[]);
            doc.set("AttachedPolicies", attached.clone(), &[]);
            doc.set("InlinePolicies", inline, &[]);
            doc.set("Groups", groups.clone(), &[]);
            doc.set("PermissionsBoundary", boundary.clone(), &[]);
            doc.tags(tags);
            for group in groups
                .iter()
                .flat_map(|g| g.as_array().cloned().unwrap_or_default())
            {
                if let Some(name) = group.as_str() {
                    relate(
                        &mut asset,
                        Relationship::MEMBER_OF,
                        format!("arn:aws:iam::{}:group/{name}", ctx.session.account),
                    );
                }
            }
            relate_policies(&mut asset, &attached, &boundary);
            asset
        })
        .collect())
}

struct UserDetails {
    keys: Call<Value>,
    attached: Call<Value>,
    inline: Call<Value>,
    groups: Call<Value>,
    boundary: Call<Value>,
    tags: Call<std::collections::BTreeMap<String, String>>,
}

async fn user_details(iam: &Client, name: String) -> UserDetails {
    let (keys, attached, inline, groups, boundary, tags) = tokio::join!(
        access_keys(iam, &name),
        attached_policies!(
            iam,
            list_attached_user_policies,
            user_name,
            &name,
            "iam:ListAttachedUserPolicies"
        ),
        inline_policies!(
            iam,
            list_user_policies,
            get_user_policy,
            user_name,
            &name,
            "iam:ListUserPolicies",
            "iam:GetUserPolicy"
        ),
        async {
            all_pages!(
                iam.list_groups_for_user().user_name(&name),
                "iam:ListGroupsForUser",
                groups
            )
            .map(|groups| strings(groups.iter().map(|g| g.group_name())))
        },
        async {
            iam.get_user()
                .user_name(&name)
                .send()
                .await
                .named("iam:GetUser")
                .map(|answer| boundary_json(answer.user().and_then(|u| u.permissions_boundary())))
        },
        async {
            all_pages!(
                iam.list_user_tags().user_name(&name),
                "iam:ListUserTags",
                tags
            )
            .map(|tags| tag_map(tags.iter().map(|t| (Some(t.key()), Some(t.value())))))
        },
    );
    UserDetails {
        keys,
        attached,
        inline,
        groups,
        boundary,
        tags,
    }
}

/// The `PermissionsBoundary` field: the policy's ARN and kind, or `null`.
fn boundary_json(boundary: Option<&AttachedPermissionsBoundary>) -> Value {
    boundary.map_or(Value::Null, |b| {
        json!({
            "PermissionsBoundaryType": text(b.permissions_boundary_type().map(|t| t.as_str())),
            "PermissionsBoundaryArn": text(b.permissions_boundary_arn()),
        })
    })
}

/// `has_policy` edges to the attached managed policies and a
/// `permissions_boundary` edge to the boundary.
fn relate_policies(asset: &mut Asset, attached: &Call<Value>, boundary: &Call<Value>) {
    let arns: Vec<String> = attached
        .iter()
        .flat_map(|list| list.as_array().into_iter().flatten())
        .filter_map(|policy| policy["PolicyArn"].as_str().map(str::to_owned))
        .collect();
    for arn in arns {
        relate(asset, Relationship::HAS_POLICY, arn);
    }
    if let Ok(boundary) = boundary
        && let Some(arn) = boundary["PermissionsBoundaryArn"].as_str()
    {
        relate(asset, Relationship::PERMISSIONS_BOUNDARY, arn);
    }
}

fn attached_json(policies: &[aws_sdk_iam::types::AttachedPolicy]) -> Value {
    Value::Array(
        policies
            .iter()
            .map(
                |p| json!({"PolicyName": text(p.policy_name()), "PolicyArn": text(p.policy_arn())}),
            )
            .collect(),
    )
}

async fn access_keys(iam: &Client, user: &str) -> Call<Value> {
    let keys = all_pages!(
        iam.list_access_keys().user_name(user),
        "iam:ListAccessKeys",
        access_key_metadata
    )?;
    let mut listed = Vec::new();
    for key in keys {
        let id = key.access_key_id().unwrap_or_default();
        let last_used = iam
            .get_access_key_last_used()
            .access_key_id(id)
            .send()
            .await
            .named("iam:GetAccessKeyLastUsed")?;
        listed.push(json!({
            "AccessKeyId": id,
            "Status": text(key.status().map(|s| s.as_str())),
            "CreateDate": time(key.create_date()),
            "LastUsedDate": time(last_used.access_key_last_used().and_then(|u| u.last_used_date())),
        }));
    }
    Ok(Value::Array(listed))
}

pub(super) async fn roles(ctx: &Ctx, iam: &Client) -> Call<Vec<Asset>> {
    let mut roles = all_pages!(iam.list_roles(), "iam:ListRoles", roles)?;
    ctx.keep(ROLE, &mut roles, |r| vec![r.role_name(), r.arn()]);
    let details = ctx
        .each(
            roles.iter().map(|r| r.role_name().to_owned()).collect(),
            move |name| async move {
                tokio::join!(
                    attached_policies!(
                        iam,
                        list_attached_role_policies,
                        role_name,
                        &name,
                        "iam:ListAttachedRolePolicies"
                    ),
                    inline_policies!(
                        iam,
                        list_role_policies,
                        get_role_policy,
                        role_name,
                        &name,
                        "iam:ListRolePolicies",
                        "iam:GetRolePolicy"
                    ),
                    async {
                        iam.get_role()
                            .role_name(&name)
                            .send()
                            .await
                            .named("iam:GetRole")
                            .map(|answer| {
                                boundary_json(answer.role().and_then(|r| r.permissions_boundary()))
                            })
                    },
                )
            },
        )
        .await;
    Ok(roles
        .iter()
        .zip(details)
        .map(|(role, (attached, inline, boundary))| {
            let mut asset = ctx.asset(
                ROLE,
                role.arn(),
                role.role_name(),
                json!({
                    "RoleName": role.role_name(),
                    "RoleId": role.role_id(),
                    "Arn": role.arn(),
                    "Path": role.path(),
                    "CreateDate": time(Some(role.create_date())),
                    "Description": text(role.description()),
                    "MaxSessionDuration": role.max_session_duration(),
                }),
            );
            asset.tags = tag_map(role.tags().iter().map(|t| (Some(t.key()), Some(t.value()))));
            let mut doc = Doc::of(&mut asset);
            doc.set(
                "AssumeRolePolicyDocument",
                optional_policy("iam:ListRoles", role.assume_role_policy_document()),
                &[],
            );
            doc.set("AttachedPolicies", attached.clone(), &[]);
            doc.set("InlinePolicies", inline, &[]);
            doc.set("PermissionsBoundary", boundary.clone(), &[]);
            relate_policies(&mut asset, &attached, &boundary);
            asset
        })
        .collect())
}

pub(super) async fn groups(ctx: &Ctx, iam: &Client) -> Call<Vec<Asset>> {
    let mut groups = all_pages!(iam.list_groups(), "iam:ListGroups", groups)?;
    ctx.keep(GROUP, &mut groups, |g| vec![g.group_name(), g.arn()]);
    let details = ctx
        .each(
            groups.iter().map(|g| g.group_name().to_owned()).collect(),
            move |name| async move {
                tokio::join!(
                    attached_policies!(
                        iam,
                        list_attached_group_policies,
                        group_name,
                        &name,
                        "iam:ListAttachedGroupPolicies"
                    ),
                    inline_policies!(
                        iam,
                        list_group_policies,
                        get_group_policy,
                        group_name,
                        &name,
                        "iam:ListGroupPolicies",
                        "iam:GetGroupPolicy"
                    ),
                    async {
                        all_pages!(iam.get_group().group_name(&name), "iam:GetGroup", users)
                            .map(|users| strings(users.iter().map(|u| u.user_name())))
                    },
                )
            },
        )
        .await;
    Ok(groups
        .iter()
        .zip(details)
        .map(|(group, (attached, inline, members))| {
            let mut asset = ctx.asset(
                GROUP,
                group.arn(),
                group.group_name(),
                json!({
                    "GroupName": group.group_name(),
                    "GroupId": group.group_id(),
                    "Arn": group.arn(),
                    "CreateDate": time(Some(group.create_date())),
                }),
            );
            let mut doc = Doc::of(&mut asset);
            doc.set("AttachedPolicies", attached.clone(), &[]);
            doc.set("InlinePolicies", inline, &[]);
            doc.set("Users", members, &[]);
            relate_policies(&mut asset, &attached, &Ok(Value::Null));
            asset
        })
        .collect())
}
