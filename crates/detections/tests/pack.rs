//! The built-in pack: it loads, every rule the issue names is there with the metadata an
//! analyst reads (id, title, level, ATT&CK tags, false positives), every file's samples hold,
//! and the rules a correlation uses raise nothing of their own.

use std::collections::BTreeSet;

use detections::samples::test_file;
use detections::{Detector, RuleKind, RuleSet, RuleSources};

const NAMES: &[&str] = &[
    "salesforce_threat_detection_event",
    "salesforce_brute_force",
    "salesforce_password_spray",
    "salesforce_credential_stuffing_success",
    "salesforce_login_disabled_account",
    "salesforce_impossible_travel",
    "salesforce_new_login_country",
    "salesforce_new_connected_app",
    "salesforce_data_loader_like_app",
    "salesforce_connected_app_changed",
    "salesforce_privileged_permission_granted",
    "salesforce_security_settings_relaxed",
    "salesforce_user_lifecycle_change",
    "salesforce_login_as",
    "salesforce_bulk_data_extraction",
    "salesforce_report_export",
    "salesforce_mass_file_download",
    "salesforce_secret_hunting_query",
    "salesforce_mass_delete",
    "salesforce_transaction_security_block",
];

fn builtin() -> RuleSet {
    RuleSet::load(&RuleSources {
        builtin: true,
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("the built-in pack loads: {e}"))
}

#[test]
fn every_named_rule_is_there_with_its_metadata() {
    let set = builtin();
    let names: BTreeSet<&str> = set.names();
    let wanted: BTreeSet<&str> = NAMES.iter().copied().collect();
    assert_eq!(names, wanted, "the pack's names");
    for r in set.rules().iter().filter(|r| r.alerts()) {
        assert!(
            uuid_like(&r.id),
            "{}: id {:?} is not a UUID",
            r.sigma_name,
            r.id
        );
        assert!(
            !r.title.is_empty() && !r.description.is_empty(),
            "{}: title and description",
            r.sigma_name
        );
        assert!(
            r.tags.iter().any(|t| t.starts_with("attack.t")),
            "{}: an ATT&CK technique tag",
            r.sigma_name
        );
        // A YAML plain scalar with ": " in it is a mapping, which Sigma drops: quote it.
        assert!(
            !r.falsepositives.is_empty(),
            "{}: falsepositives (quoted?)",
            r.sigma_name
        );
        assert!(
            !r.datasets.is_empty(),
            "{}: a logsource service",
            r.sigma_name
        );
        assert!(r.file.starts_with("builtin:"), "{}", r.file);
    }
    Detector::new(&set).expect("rsigma compiles the pack");
}

#[test]
fn every_file_carries_samples_that_hold() {
    let mut total = 0;
    for (file, text) in detections::pack::BUILTIN {
        let r = test_file(file, text).unwrap_or_else(|e| panic!("{e}"));
        assert!(r.failures.is_empty(), "{file}: {:#?}", r.failures);
        assert!(
            r.without_samples.is_empty(),
            "{file}: rules without samples {:?}",
            r.without_samples
        );
        assert!(r.passed >= 2, "{file}: a match and a no-match at least");
        total += r.passed;
    }
    println!("{total} samples held");
}

#[test]
fn rules_only_a_correlation_uses_raise_nothing_of_their_own() {
    let set = builtin();
    for r in set.rules().iter().filter(|r| r.kind == RuleKind::Base) {
        assert!(
            r.sigma_name.split('.').count() >= 3,
            "{}: a base rule is <name>.<variant>.<role>",
            r.sigma_name
        );
        assert!(r.datasets.iter().all(|d| !d.is_empty()), "{}", r.sigma_name);
    }
}

fn uuid_like(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

#[test]
fn the_pack_names_only_known_fields() {
    let warnings = builtin().unknown_fields();
    assert!(
        warnings.is_empty(),
        "fields the reference does not list for the rule's dataset: {warnings:#?}"
    );
}

#[test]
fn the_pack_reads_its_datasets_and_a_rule_without_a_service_reads_all() {
    let set = builtin();
    assert!(set.reads("login") && set.reads("setup_audit_trail") && set.reads("api_event"));
    assert!(!set.reads("uri") && !set.reads("lightning_page_view"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("any.yml"),
        "title: Any record naming a key\nid: 5d7e1f7e-3f44-4c7e-9a1b-0c4f2d9e8b11\nname: any_key.all\nlogsource: {product: salesforce}\ndetection:\n  selection:\n    Query|contains: api_key\n  condition: selection\nlevel: low\n",
    )
    .unwrap();
    let set = RuleSet::load(&RuleSources {
        builtin: false,
        folders: vec![dir.path().to_path_buf()],
        ..Default::default()
    })
    .unwrap();
    assert!(set.reads("uri") && set.reads("anything"));
}
