//! IAM (global): users with console password, MFA, access keys (age and last
//! use), policies and groups; roles with their trust policy; groups;
//! customer managed policies with the default version's document; the
//! password policy; the account summary; and the root user's row of the
//! credential report.

use super::{
    Collector, Doc, Part, Reach, TypeDef, optional_policy, run_parts, strings, tag_map, text, time,
};
use crate::collect::{Ctx, Out, relate};
use crate::error::{Call, Failure, Named};
use aws_sdk_iam::Client;
use aws_sdk_iam::types::{PolicyScopeType, ReportStateType};
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use parapet_core::Asset;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub(super) const IAM: Collector = Collector {
    service: "iam",
    types: &[
        TypeDef {
            name: USER,
            page: include_str!("../../../../docs/resources/aws/iam-user.md"),
            events: r#"
            source: iam.amazonaws.com
            global: true
            events:
              - {name: CreateUser, action: create, key: [requestParameters.userName]}
              - {name: DeleteUser, action: delete, key: [requestParameters.userName]}
              - {name: AttachUserPolicy, action: change, key: [requestParameters.userName]}
              - {name: DetachUserPolicy, action: change, key: [requestParameters.userName]}
              - {name: PutUserPolicy, action: change, key: [requestParameters.userName]}
              - {name: DeleteUserPolicy, action: change, key: [requestParameters.userName]}
              - {name: AddUserToGroup, action: change, key: [requestParameters.userName]}
              - {name: RemoveUserFromGroup, action: change, key: [requestParameters.userName]}
              - {name: CreateAccessKey, action: change, key: [requestParameters.userName, responseElements.accessKey.userName]}
              - {name: UpdateAccessKey, action: change, key: [requestParameters.userName]}
              - {name: DeleteAccessKey, action: change, key: [requestParameters.userName]}
              - {name: CreateLoginProfile, action: change, key: [requestParameters.userName]}
              - {name: DeleteLoginProfile, action: change, key: [requestParameters.userName]}
              - {name: EnableMFADevice, action: change, key: [requestParameters.userName]}
              - {name: DeactivateMFADevice, action: change, key: [requestParameters.userName]}
              - {name: TagUser, action: change, key: [requestParameters.userName]}
              - {name: UntagUser, action: change, key: [requestParameters.userName]}
            "#,
            dependents: &[],
            network: None,
        },
        TypeDef {
            name: ROLE,
            page: include_str!("../../../../docs/resources/aws/iam-role.md"),
            events: r#"
            source: iam.amazonaws.com
            global: true
            events:
              - {name: CreateRole, action: create, key: [requestParameters.roleName]}
              - {name: DeleteRole, action: delete, key: [requestParameters.roleName]}
              - {name: UpdateAssumeRolePolicy, action: change, key: [requestParameters.roleName]}
              - {name: AttachRolePolicy, action: change, key: [requestParameters.roleName]}
              - {name: DetachRolePolicy, action: change, key: [requestParameters.roleName]}
              - {name: PutRolePolicy, action: change, key: [requestParameters.roleName]}
              - {name: DeleteRolePolicy, action: change, key: [requestParameters.roleName]}
              - {name: TagRole, action: change, key: [requestParameters.roleName]}
              - {name: UntagRole, action: change, key: [requestParameters.roleName]}
            "#,
            dependents: &[],
            network: None,
        },
        TypeDef {
            name: GROUP,
            page: include_str!("../../../../docs/resources/aws/iam-group.md"),
            events: r#"
            source: iam.amazonaws.com
            global: true
            events:
              - {name: CreateGroup, action: create, key: [requestParameters.groupName]}
              - {name: DeleteGroup, action: delete, key: [requestParameters.groupName]}
              - {name: AttachGroupPolicy, action: change, key: [requestParameters.groupName]}
              - {name: DetachGroupPolicy, action: change, key: [requestParameters.groupName]}
              - {name: PutGroupPolicy, action: change, key: [requestParameters.groupName]}
              - {name: DeleteGroupPolicy, action: change, key: [requestParameters.groupName]}
              - {name: AddUserToGroup, action: change, key: [requestParameters.groupName]}
              - {name: RemoveUserFromGroup, action: change, key: [requestParameters.groupName]}
            "#,
            dependents: &[],
            network: None,
        },
        TypeDef {
            name: POLICY,
            page: include_str!("../../../../docs/resources/aws/iam-policy.md"),
            events: r#"
            source: iam.amazonaws.com
            global: true
            events:
              - {name: CreatePolicy, action: create, key: [responseElements.policy.arn]}
              - {name: DeletePolicy, action: delete, key: [requestParameters.policyArn]}
              - {name: CreatePolicyVersion, action: change, key: [requestParameters.policyArn]}
              - {name: SetDefaultPolicyVersion, action: change, key: [requestParameters.policyArn]}
              - {name: AttachUserPolicy, action: change, key: [requestParameters.policyArn]}
              - {name: AttachGroupPolicy, action: change, key: [requestParameters.policyArn]}
              - {name: AttachRolePolicy, action: change, key: [requestParameters.policyArn]}
            "#,
            dependents: &[],
            network: None,
        },
        TypeDef {
            name: PASSWORD_POLICY,
            page: include_str!("../../../../docs/resources/aws/iam-password-policy.md"),
            events: r#"
            source: iam.amazonaws.com
            global: true
            events:
              - {name: UpdateAccountPasswordPolicy, action: change, key: [recipientAccountId]}
              - {name: DeleteAccountPasswordPolicy, action: change, key: [recipientAccountId]}
            "#,
            dependents: &[],
            network: None,
        },
        TypeDef {
            name: ACCOUNT_SUMMARY,
            page: include_str!("../../../../docs/resources/aws/iam-account-summary.md"),
            events: r#"
            source: iam.amazonaws.com
            global: true
            events:
              - {name: EnableMFADevice, action: change, key: [recipientAccountId]}
              - {name: DeactivateMFADevice, action: change, key: [recipientAccountId]}
              - {name: CreateAccessKey, action: change, key: [recipientAccountId]}
              - {name: DeleteAccessKey, action: change, key: [recipientAccountId]}
            "#,
            dependents: &[],
            network: None,
        },
        TypeDef {
            name: ROOT,
            page: include_str!("../../../../docs/resources/aws/iam-root-account.md"),
            events: r#"
            source: signin.amazonaws.com
            global: true
            events:
              - {name: ConsoleLogin, action: change, key: [recipientAccountId], when: {userIdentity.type: Root}}
            "#,
            dependents: &[],
            network: None,
        },
    ],
    reach: Reach::Global,
    run: |ctx| iam(ctx).boxed(),
};

const USER: &str = "AWS::IAM::User";
const ROLE: &str = "AWS::IAM::Role";
const GROUP: &str = "AWS::IAM::Group";
const POLICY: &str = "AWS::IAM::Policy";
const PASSWORD_POLICY: &str = "AWS::IAM::PasswordPolicy";
const ACCOUNT_SUMMARY: &str = "AWS::IAM::AccountSummary";
const ROOT: &str = "AWS::IAM::RootAccount";

async fn iam(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let c = &client;
    let x = &*ctx;
    // Users and the root account both read the credential report: fetch it
    // once, shared.
    let report = credential_report(c).boxed().shared();
    let parts: Vec<Part<'_>> = vec![
        (USER, users(x, c, report.clone()).boxed()),
        (ROLE, roles(x, c).boxed()),
        (GROUP, groups(x, c).boxed()),
        (POLICY, policies(x, c).boxed()),
        (PASSWORD_POLICY, password_policy(x, c).boxed()),
        (ACCOUNT_SUMMARY, account_summary(x, c).boxed()),
        (ROOT, root(x, report).boxed()),
    ];
    run_parts(x, parts).await
}

/// The credential report's rows by user name (`<root_account>` for root).
type Report = Arc<Call<HashMap<String, HashMap<String, String>>>>;

async fn credential_report(iam: &Client) -> Report {
    Arc::new(read_credential_report(iam).await)
}

async fn read_credential_report(iam: &Client) -> Call<HashMap<String, HashMap<String, String>>> {
    // The report is generated on demand and may take a few seconds.
    for _ in 0..20 {
        let state = iam
            .generate_credential_report()
            .send()
            .await
            .named("iam:GenerateCredentialReport")?;
        if state.state() == Some(&ReportStateType::Complete) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let answer = iam
        .get_credential_report()
        .send()
        .await
        .named("iam:GetCredentialReport")?;
    let content = answer
        .content()
        .ok_or_else(|| Failure::malformed("iam:GetCredentialReport", "the report is empty"))?;
    parse_credential_report(content.as_ref())
        .map_err(|e| Failure::malformed("iam:GetCredentialReport", e))
}

/// The rows of a credential report (CSV with a header line).
fn parse_credential_report(
    content: &[u8],
) -> Result<HashMap<String, HashMap<String, String>>, String> {
    let mut reader = csv::Reader::from_reader(content);
    let headers = reader
        .headers()
        .map_err(|e| format!("the report's header does not parse: {e}"))?
        .clone();
    let mut rows = HashMap::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("row {} does not parse: {e}", line + 2))?;
        let row: HashMap<String, String> = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.to_owned(), v.to_owned()))
            .collect();
        if let Some(user) = row.get("user") {
            rows.insert(user.clone(), row);
        }
    }
    Ok(rows)
}

/// A report cell as a JSON value: booleans, `null` for `N/A` and
/// `no_information`, strings otherwise.
fn cell(row: &HashMap<String, String>, column: &str) -> Value {
    match row.get(column).map(String::as_str) {
        Some("true") => Value::Bool(true),
        Some("false") => Value::Bool(false),
        None | Some("N/A") | Some("not_supported") | Some("no_information") => Value::Null,
        Some(other) => Value::String(other.to_owned()),
    }
}

async fn users(ctx: &Ctx, iam: &Client, report: Shared<BoxFuture<'_, Report>>) -> Call<Vec<Asset>> {
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
                    let row = rows.get(user.user_name());
                    let empty = HashMap::new();
                    let row = row.unwrap_or(&empty);
                    doc.set(
                        "PasswordEnabled",
                        Ok(Value::Bool(
                            cell(row, "password_enabled") == Value::Bool(true),
                        )),
                        &[],
                    );
                    doc.set(
                        "MfaActive",
                        Ok(Value::Bool(cell(row, "mfa_active") == Value::Bool(true))),
                        &[],
                    );
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
                tags,
            } = details;
            doc.set("AccessKeys", keys, &[]);
            doc.set("AttachedPolicies", attached.clone(), &[]);
            doc.set("InlinePolicies", inline, &[]);
            doc.set("Groups", groups.clone(), &[]);
            doc.tags(tags);
            for group in groups
                .iter()
                .flat_map(|g| g.as_array().cloned().unwrap_or_default())
            {
                if let Some(name) = group.as_str() {
                    relate(
                        &mut asset,
                        "member_of",
                        format!("arn:aws:iam::{}:group/{name}", ctx.session.account),
                    );
                }
            }
            relate_policies(&mut asset, &attached);
            asset
        })
        .collect())
}

struct UserDetails {
    keys: Call<Value>,
    attached: Call<Value>,
    inline: Call<Value>,
    groups: Call<Value>,
    tags: Call<std::collections::BTreeMap<String, String>>,
}

async fn user_details(iam: &Client, name: String) -> UserDetails {
    let (keys, attached, inline, groups, tags) = tokio::join!(
        access_keys(iam, &name),
        async {
            all_pages!(
                iam.list_attached_user_policies().user_name(&name),
                "iam:ListAttachedUserPolicies",
                attached_policies
            )
            .map(|p| attached_json(&p))
        },
        async {
            all_pages!(
                iam.list_user_policies().user_name(&name),
                "iam:ListUserPolicies",
                policy_names
            )
            .map(|names| strings(names.iter().map(String::as_str)))
        },
        async {
            all_pages!(
                iam.list_groups_for_user().user_name(&name),
                "iam:ListGroupsForUser",
                groups
            )
            .map(|groups| strings(groups.iter().map(|g| g.group_name())))
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
        tags,
    }
}

/// `has_policy` edges to the attached managed policies.
fn relate_policies(asset: &mut Asset, attached: &Call<Value>) {
    let arns = attached
        .iter()
        .flat_map(|list| list.as_array().into_iter().flatten())
        .filter_map(|policy| policy["PolicyArn"].as_str());
    for arn in arns {
        relate(asset, "has_policy", arn);
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

async fn roles(ctx: &Ctx, iam: &Client) -> Call<Vec<Asset>> {
    let mut roles = all_pages!(iam.list_roles(), "iam:ListRoles", roles)?;
    ctx.keep(ROLE, &mut roles, |r| vec![r.role_name(), r.arn()]);
    let details = ctx
        .each(
            roles.iter().map(|r| r.role_name().to_owned()).collect(),
            move |name| async move {
                tokio::join!(
                    async {
                        all_pages!(
                            iam.list_attached_role_policies().role_name(&name),
                            "iam:ListAttachedRolePolicies",
                            attached_policies
                        )
                        .map(|p| attached_json(&p))
                    },
                    async {
                        all_pages!(
                            iam.list_role_policies().role_name(&name),
                            "iam:ListRolePolicies",
                            policy_names
                        )
                        .map(|names| strings(names.iter().map(String::as_str)))
                    },
                )
            },
        )
        .await;
    Ok(roles
        .iter()
        .zip(details)
        .map(|(role, (attached, inline))| {
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
            relate_policies(&mut asset, &attached);
            asset
        })
        .collect())
}

async fn groups(ctx: &Ctx, iam: &Client) -> Call<Vec<Asset>> {
    let mut groups = all_pages!(iam.list_groups(), "iam:ListGroups", groups)?;
    ctx.keep(GROUP, &mut groups, |g| vec![g.group_name(), g.arn()]);
    let details = ctx
        .each(
            groups.iter().map(|g| g.group_name().to_owned()).collect(),
            move |name| async move {
                tokio::join!(
                    async {
                        all_pages!(
                            iam.list_attached_group_policies().group_name(&name),
                            "iam:ListAttachedGroupPolicies",
                            attached_policies
                        )
                        .map(|p| attached_json(&p))
                    },
                    async {
                        all_pages!(
                            iam.list_group_policies().group_name(&name),
                            "iam:ListGroupPolicies",
                            policy_names
                        )
                        .map(|names| strings(names.iter().map(String::as_str)))
                    },
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
            relate_policies(&mut asset, &attached);
            asset
        })
        .collect())
}

async fn policies(ctx: &Ctx, iam: &Client) -> Call<Vec<Asset>> {
    let mut policies = all_pages!(
        iam.list_policies().scope(PolicyScopeType::Local),
        "iam:ListPolicies",
        policies
    )?;
    ctx.keep(POLICY, &mut policies, |p| {
        p.arn().into_iter().chain(p.policy_name()).collect()
    });
    let documents = ctx
        .each(
            policies
                .iter()
                .map(|p| {
                    (
                        p.arn().unwrap_or_default().to_owned(),
                        p.default_version_id().unwrap_or("v1").to_owned(),
                    )
                })
                .collect(),
            move |(arn, version)| async move {
                let answer = iam
                    .get_policy_version()
                    .policy_arn(arn)
                    .version_id(version)
                    .send()
                    .await
                    .named("iam:GetPolicyVersion")?;
                optional_policy(
                    "iam:GetPolicyVersion",
                    answer.policy_version().and_then(|v| v.document()),
                )
            },
        )
        .await;
    Ok(policies
        .iter()
        .zip(documents)
        .map(|(policy, document)| {
            let arn = policy.arn().unwrap_or_default();
            let mut asset = ctx.asset(
                POLICY,
                arn,
                policy.policy_name().unwrap_or(arn),
                json!({
                    "PolicyName": text(policy.policy_name()),
                    "PolicyId": text(policy.policy_id()),
                    "Arn": arn,
                    "DefaultVersionId": text(policy.default_version_id()),
                    "AttachmentCount": policy.attachment_count(),
                    "CreateDate": time(policy.create_date()),
                    "UpdateDate": time(policy.update_date()),
                }),
            );
            asset.tags = tag_map(
                policy
                    .tags()
                    .iter()
                    .map(|t| (Some(t.key()), Some(t.value()))),
            );
            Doc::of(&mut asset).set("PolicyDocument", document, &[]);
            asset
        })
        .collect())
}

async fn password_policy(ctx: &Ctx, iam: &Client) -> Call<Vec<Asset>> {
    let policy = match iam
        .get_account_password_policy()
        .send()
        .await
        .named("iam:GetAccountPasswordPolicy")
    {
        Ok(answer) => answer.password_policy().map_or(Value::Null, |p| {
            json!({
                "MinimumPasswordLength": p.minimum_password_length(),
                "RequireSymbols": p.require_symbols(),
                "RequireNumbers": p.require_numbers(),
                "RequireUppercaseCharacters": p.require_uppercase_characters(),
                "RequireLowercaseCharacters": p.require_lowercase_characters(),
                "AllowUsersToChangePassword": p.allow_users_to_change_password(),
                "ExpirePasswords": p.expire_passwords(),
                // AWS leaves it out when passwords do not expire; emulators
                // may say 0.
                "MaxPasswordAge": p.max_password_age().filter(|age| *age > 0),
                "PasswordReusePrevention": p.password_reuse_prevention(),
                "HardExpiry": p.hard_expiry().unwrap_or(false),
            })
        }),
        Err(failure) if failure.code == "NoSuchEntity" => Value::Null,
        Err(failure) => return Err(failure),
    };
    let account = &ctx.session.account;
    Ok(vec![ctx.asset(
        PASSWORD_POLICY,
        format!("arn:aws:iam::{account}:account-password-policy"),
        account.clone(),
        json!({"PasswordPolicy": policy}),
    )])
}

async fn account_summary(ctx: &Ctx, iam: &Client) -> Call<Vec<Asset>> {
    let answer = iam
        .get_account_summary()
        .send()
        .await
        .named("iam:GetAccountSummary")?;
    let summary: Map<String, Value> = answer
        .summary_map()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str().to_owned(), json!(v)))
                .collect()
        })
        .unwrap_or_default();
    let account = &ctx.session.account;
    Ok(vec![ctx.asset(
        ACCOUNT_SUMMARY,
        format!("arn:aws:iam::{account}:account-summary"),
        account.clone(),
        json!({"SummaryMap": summary}),
    )])
}

async fn root(ctx: &Ctx, report: Shared<BoxFuture<'_, Report>>) -> Call<Vec<Asset>> {
    let report = report.await;
    let rows = report.as_ref().as_ref().map_err(Clone::clone)?;
    let Some(row) = rows.get("<root_account>") else {
        // No root row (emulators have no root user): nothing to report on.
        return Ok(Vec::new());
    };
    let account = &ctx.session.account;
    Ok(vec![ctx.asset(
        ROOT,
        format!("arn:aws:iam::{account}:root"),
        "root",
        json!({
            "PasswordEnabled": cell(row, "password_enabled"),
            "PasswordLastUsed": cell(row, "password_last_used"),
            "MfaActive": cell(row, "mfa_active"),
            "AccessKey1Active": cell(row, "access_key_1_active"),
            "AccessKey1LastUsedDate": cell(row, "access_key_1_last_used_date"),
            "AccessKey2Active": cell(row, "access_key_2_active"),
            "AccessKey2LastUsedDate": cell(row, "access_key_2_last_used_date"),
        }),
    )])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_reports_are_read_by_user() {
        let csv = "user,arn,user_creation_time,password_enabled,mfa_active,access_key_1_active\n\
                   <root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,true,false\n\
                   alice,arn:aws:iam::123456789012:user/alice,2021-01-01T00:00:00+00:00,true,false,true\n";
        let rows = parse_credential_report(csv.as_bytes()).expect("parses");
        assert_eq!(cell(&rows["alice"], "password_enabled"), Value::Bool(true));
        assert_eq!(cell(&rows["alice"], "mfa_active"), Value::Bool(false));
        assert_eq!(
            cell(&rows["<root_account>"], "password_enabled"),
            Value::Null
        );
        assert_eq!(
            cell(&rows["<root_account>"], "mfa_active"),
            Value::Bool(true)
        );
    }

    #[test]
    fn a_broken_credential_report_is_an_error_with_its_row() {
        let csv = "user,arn\nalice,arn,extra\n";
        let error = parse_credential_report(csv.as_bytes()).expect_err("broken");
        assert!(error.contains("row 2"), "{error}");
    }
}
