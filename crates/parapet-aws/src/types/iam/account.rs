//! The account-wide IAM settings: the password policy, the account
//! summary and the root user's row of the credential report.

use super::report::{Report, cell};
use super::{ACCOUNT_SUMMARY, PASSWORD_POLICY, ROOT};
use crate::collect::Ctx;
use crate::error::{Call, Named};
use crate::types::Doc;
use aws_sdk_iam::Client;
use aws_sdk_iam::types::{AssignmentStatusType, EntityType};
use futures::future::{BoxFuture, Shared};
use parapet_core::Asset;
use serde_json::{Map, Value, json};

pub(super) async fn password_policy(ctx: &Ctx, iam: &Client) -> Call<Vec<Asset>> {
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

/// The AWS managed policy that lets a role manage AWS Support cases.
const SUPPORT_POLICY: &str = "arn:aws:iam::aws:policy/AWSSupportAccess";

pub(super) async fn account_summary(ctx: &Ctx, iam: &Client) -> Call<Vec<Asset>> {
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
    let mut asset = ctx.asset(
        ACCOUNT_SUMMARY,
        format!("arn:aws:iam::{account}:account-summary"),
        account.clone(),
        json!({"SummaryMap": summary}),
    );
    // A virtual MFA device assigned to the root user: its MFA is not a
    // hardware key.
    let root_virtual = all_pages!(
        iam.list_virtual_mfa_devices()
            .assignment_status(AssignmentStatusType::Assigned),
        "iam:ListVirtualMFADevices",
        virtual_mfa_devices
    )
    .map(|devices| {
        devices
            .iter()
            .find(|d| d.user().is_some_and(|u| u.arn().ends_with(":root")))
            .map_or(Value::Null, |d| Value::String(d.serial_number().to_owned()))
    });
    let support_roles = all_pages!(
        iam.list_entities_for_policy()
            .policy_arn(SUPPORT_POLICY)
            .entity_filter(EntityType::Role),
        "iam:ListEntitiesForPolicy",
        policy_roles
    )
    .map(|roles| {
        Value::Array(
            roles
                .iter()
                .filter_map(|r| r.role_name().map(|n| json!(n)))
                .collect(),
        )
    });
    let mut doc = Doc::of(&mut asset);
    doc.set("RootVirtualMfaDevice", root_virtual, &[]);
    doc.set("SupportRoles", support_roles, &[]);
    Ok(vec![asset])
}

pub(super) async fn root(ctx: &Ctx, report: Shared<BoxFuture<'_, Report>>) -> Call<Vec<Asset>> {
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
