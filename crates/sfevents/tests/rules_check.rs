//! `sfevents rules check`: a field the rule's dataset does not have is a warning (file, rule,
//! field, dataset and the fields it does have, the nearest first), counted in the summary, and
//! does not fail the check; the built-in pack has none.

mod common;

use common::*;

const RULE: &str = "title: A failed login of one user
id: 7c2d9e4a-3b1f-4d6e-8a5c-2f0e1d3c4b5a
name: test_user_failed_login.elf
status: experimental
logsource:
  product: salesforce
  service: login
detection:
  selection:
    LOGIN_STATUS|startswith: LOGIN_ERROR
    USER_ID: 005xx0000012345
  condition: selection
level: low
";

const AUDIT: &str = "title: A setup change by one admin
id: 9e4f1a6c-5d3b-4f8e-9c7a-4b2f3e5d6c7a
name: test_admin_change.sat
status: experimental
logsource:
  product: salesforce
  service: setup_audit_trail
detection:
  selection:
    CreatedBy.Username: admin@example.com
    Action: PermSetAssign
  condition: selection
level: low
";

async fn check(dir: &std::path::Path, rules: &str) -> std::process::Output {
    let folder = dir.join("rules");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("rules.yml"), rules).unwrap();
    run(&["rules".into(), "check".into(), folder.display().to_string()]).await
}

#[tokio::test]
async fn a_field_the_dataset_lacks_is_a_warning_not_a_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let typo = RULE.replace("USER_ID:", "USERID:");
    let o = check(tmp.path(), &format!("{typo}---\n{AUDIT}")).await;
    assert_exit(&o, 0);
    let err = String::from_utf8_lossy(&o.stderr);
    let file = tmp.path().join("rules").join("rules.yml");
    let expected = format!(
        "warning: {}: rule 'test_user_failed_login.elf': field 'USERID' is not a field of login \
         (known: USER_ID, ",
        file.display()
    );
    assert!(err.contains(&expected), "{}", describe(&o));
    assert!(err.contains("more)"), "the list is capped: {err}");
    assert_eq!(err.matches("warning: ").count(), 1, "{}", describe(&o));
    assert!(!err.contains("CreatedBy.Username"), "{err}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("\n1 warning(s)"), "{}", describe(&o));

    let o = check(tmp.path(), &format!("{RULE}---\n{AUDIT}")).await;
    assert_exit(&o, 0);
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("warning: "),
        "{}",
        describe(&o)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("\n0 warning(s)"));
}

#[tokio::test]
async fn a_dataset_the_reference_does_not_describe_is_not_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let rule = RULE
        .replace("service: login", "service: login_as_event")
        .replace("USER_ID:", "NoSuchField:");
    let o = check(tmp.path(), &rule).await;
    assert_exit(&o, 0);
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("warning: "),
        "{}",
        describe(&o)
    );
}

#[tokio::test]
async fn the_built_in_pack_gives_no_field_warning() {
    let o = run(&["rules".into(), "check".into()]).await;
    assert_exit(&o, 0);
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("is not a field of"),
        "{}",
        describe(&o)
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("\n0 warning(s)"),
        "{}",
        describe(&o)
    );
}
