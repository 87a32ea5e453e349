//! IAM (global): users with console password, MFA, access keys (age and last
//! use), policies, groups and permissions boundary; roles with their trust
//! policy; groups; managed policies with the default version's document;
//! the password policy; the account summary; the root user's row of the
//! credential report; and the server certificates stored in IAM.

mod account;
mod certificates;
mod policies;
mod principals;
mod report;

use super::{Collector, Part, Reach, TypeDef, run_parts};
use crate::collect::{Ctx, Out};
use aws_sdk_iam::Client;
use futures::FutureExt;
use std::sync::Arc;

pub(super) const IAM: Collector = Collector {
    service: "iam",
    types: &[
        TypeDef {
            name: USER,
            page: include_str!("../../../../../docs/resources/aws/iam-user.md"),
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
              - {name: PutUserPermissionsBoundary, action: change, key: [requestParameters.userName]}
              - {name: DeleteUserPermissionsBoundary, action: change, key: [requestParameters.userName]}
              - {name: TagUser, action: change, key: [requestParameters.userName]}
              - {name: UntagUser, action: change, key: [requestParameters.userName]}
            "#,
            dependents: &[],
            network: None,
        },
        TypeDef {
            name: ROLE,
            page: include_str!("../../../../../docs/resources/aws/iam-role.md"),
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
              - {name: PutRolePermissionsBoundary, action: change, key: [requestParameters.roleName]}
              - {name: DeleteRolePermissionsBoundary, action: change, key: [requestParameters.roleName]}
              - {name: TagRole, action: change, key: [requestParameters.roleName]}
              - {name: UntagRole, action: change, key: [requestParameters.roleName]}
            "#,
            dependents: &[],
            network: None,
        },
        TypeDef {
            name: GROUP,
            page: include_str!("../../../../../docs/resources/aws/iam-group.md"),
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
            // Its members hold its policies.
            dependents: &[USER],
            network: None,
        },
        TypeDef {
            name: POLICY,
            page: include_str!("../../../../../docs/resources/aws/iam-policy.md"),
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
            // The principals it is attached to, or bounds, hold it.
            dependents: &[USER, ROLE, GROUP],
            network: None,
        },
        TypeDef {
            name: PASSWORD_POLICY,
            page: include_str!("../../../../../docs/resources/aws/iam-password-policy.md"),
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
            page: include_str!("../../../../../docs/resources/aws/iam-account-summary.md"),
            events: r#"
            source: iam.amazonaws.com
            global: true
            events:
              - {name: EnableMFADevice, action: change, key: [recipientAccountId]}
              - {name: DeactivateMFADevice, action: change, key: [recipientAccountId]}
              - {name: DeleteVirtualMFADevice, action: change, key: [recipientAccountId]}
              - {name: CreateAccessKey, action: change, key: [recipientAccountId]}
              - {name: DeleteAccessKey, action: change, key: [recipientAccountId]}
              - {name: CreateSAMLProvider, action: change, key: [recipientAccountId]}
              - {name: DeleteSAMLProvider, action: change, key: [recipientAccountId]}
              - {name: CreateUser, action: change, key: [recipientAccountId]}
              - {name: DeleteUser, action: change, key: [recipientAccountId]}
              - {name: AttachRolePolicy, action: change, key: [recipientAccountId], when: {requestParameters.policyArn: "arn:aws:iam::aws:policy/AWSSupportAccess"}}
              - {name: DetachRolePolicy, action: change, key: [recipientAccountId], when: {requestParameters.policyArn: "arn:aws:iam::aws:policy/AWSSupportAccess"}}
            "#,
            dependents: &[],
            network: None,
        },
        TypeDef {
            name: ROOT,
            page: include_str!("../../../../../docs/resources/aws/iam-root-account.md"),
            events: r#"
            source: signin.amazonaws.com
            global: true
            events:
              - {name: ConsoleLogin, action: change, key: [recipientAccountId], when: {userIdentity.type: Root}}
            "#,
            dependents: &[],
            network: None,
        },
        TypeDef {
            name: SERVER_CERTIFICATE,
            page: include_str!("../../../../../docs/resources/aws/iam-server-certificate.md"),
            events: r#"
            source: iam.amazonaws.com
            global: true
            events:
              - {name: UploadServerCertificate, action: create, key: [requestParameters.serverCertificateName]}
              - {name: UpdateServerCertificate, action: change, key: [requestParameters.serverCertificateName, requestParameters.newServerCertificateName]}
              - {name: DeleteServerCertificate, action: delete, key: [requestParameters.serverCertificateName]}
            "#,
            dependents: &[],
            network: None,
        },
    ],
    reach: Reach::Global,
    calls: &[
        "iam:GenerateCredentialReport",
        "iam:GetAccessKeyLastUsed",
        "iam:GetAccountPasswordPolicy",
        "iam:GetAccountSummary",
        "iam:GetCredentialReport",
        "iam:GetGroup",
        "iam:GetGroupPolicy",
        "iam:GetPolicyVersion",
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:GetUser",
        "iam:GetUserPolicy",
        "iam:ListAccessKeys",
        "iam:ListAttachedGroupPolicies",
        "iam:ListAttachedRolePolicies",
        "iam:ListAttachedUserPolicies",
        "iam:ListEntitiesForPolicy",
        "iam:ListGroupPolicies",
        "iam:ListGroups",
        "iam:ListGroupsForUser",
        "iam:ListPolicies",
        "iam:ListRolePolicies",
        "iam:ListRoles",
        "iam:ListServerCertificates",
        "iam:ListUserPolicies",
        "iam:ListUserTags",
        "iam:ListUsers",
        "iam:ListVirtualMFADevices",
    ],
    run: |ctx| iam(ctx).boxed(),
};

const USER: &str = "AWS::IAM::User";
const ROLE: &str = "AWS::IAM::Role";
const GROUP: &str = "AWS::IAM::Group";
const POLICY: &str = "AWS::IAM::Policy";
const PASSWORD_POLICY: &str = "AWS::IAM::PasswordPolicy";
const ACCOUNT_SUMMARY: &str = "AWS::IAM::AccountSummary";
const ROOT: &str = "AWS::IAM::RootAccount";
const SERVER_CERTIFICATE: &str = "AWS::IAM::ServerCertificate";

async fn iam(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let c = &client;
    let x = &*ctx;
    // Users and the root account both read the credential report: fetch it
    // once, shared.
    let report = report::credential_report(c).boxed().shared();
    let parts: Vec<Part<'_>> = vec![
        (USER, principals::users(x, c, report.clone()).boxed()),
        (ROLE, principals::roles(x, c).boxed()),
        (GROUP, principals::groups(x, c).boxed()),
        (POLICY, policies::policies(x, c).boxed()),
        (PASSWORD_POLICY, account::password_policy(x, c).boxed()),
        (ACCOUNT_SUMMARY, account::account_summary(x, c).boxed()),
        (ROOT, account::root(x, report).boxed()),
        (
            SERVER_CERTIFICATE,
            certificates::server_certificates(x, c).boxed(),
        ),
    ];
    run_parts(x, parts).await
}
