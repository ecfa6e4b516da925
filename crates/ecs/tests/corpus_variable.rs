//! `ecs::corpus::dir`, the lookup every corpus-reading test goes through, reads
//! `SFEVENTS_CONFORMANCE_DIR` from the environment: when set it is the only place looked at,
//! and a folder that is not there fails with the message that names it. The test sets the
//! variable in its own process, so it is this file's only test (each file is a process of its
//! own, and no other test reads the environment meanwhile).

use std::fs;
use std::path::Path;

use ecs::corpus::{self, Places, DIR_VAR};

#[test]
fn the_variable_decides_where_the_corpus_is() {
    let before = std::env::var_os(DIR_VAR);
    let real = corpus::dir().unwrap_or_else(|e| panic!("{e}"));

    // A copy elsewhere: used, and the fixtures read from it.
    let tmp = tempfile::tempdir().expect("temp dir");
    let copy = tmp.path().join("copy");
    copy_dir(&real, &copy);
    std::env::set_var(DIR_VAR, &copy);
    assert_eq!(corpus::dir(), Ok(copy.clone()));
    let fixtures = corpus::fixtures(&copy).unwrap_or_else(|e| panic!("{e}"));
    assert!(fixtures.iter().all(|f| f.log.starts_with(&copy)));

    // A folder that is not there: an error, even though the corpus is elsewhere.
    let gone = tmp.path().join("gone");
    std::env::set_var(DIR_VAR, &gone);
    let e = corpus::dir().expect_err("not a folder");
    assert_eq!(e.0, Places::from_env().missing());
    assert!(
        e.0.starts_with(&format!(
            "the conformance corpus is missing: {DIR_VAR}={} is not a folder",
            gone.display()
        )),
        "{e}"
    );

    // Empty is unset: the other places again.
    std::env::set_var(DIR_VAR, "");
    assert_eq!(Places::from_env().variable, None);
    match before {
        Some(v) => std::env::set_var(DIR_VAR, v),
        None => std::env::remove_var(DIR_VAR),
    }
    assert_eq!(corpus::dir(), Ok(real));
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read dir") {
        let path = entry.expect("entry").path();
        let dest = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &dest);
        } else {
            fs::copy(&path, &dest).expect("copy");
        }
    }
}
