//! Issue #10 item 7: errors that say what went wrong and where.
//!
//! Before the fix, an HTML 404 or 500 answer (a mistyped region or path against an emulator, a
//! proxy's error page) surfaced as `DescribeAutoScalingGroups failed: UnknownError`, with no
//! status or endpoint, and `AWS_PROFILE` naming a profile that does not exist was ignored
//! without a word.

use std::time::Instant;

use e2e::LoopbackServer;

use crate::Scenario;
use crate::unresponsive::flat;

/// An import against an endpoint that answers with an HTML error page: the diagnostic has the
/// HTTP status, the endpoint and what the page said, for a 404 and for a (retried) 500.
#[test]
fn an_html_error_page_is_reported_with_status_and_endpoint() {
    let scenario = Scenario::start("html-error-page");
    let fleet = scenario.fleet("this", "e2e-html-error-page");
    for (status, reason, page) in [
        (
            404,
            "Not Found",
            "The requested URL was not found on the server.",
        ),
        (
            500,
            "Internal Server Error",
            "The server encountered an internal error.",
        ),
    ] {
        let server = LoopbackServer::answering(status, page);
        let mut workdir = scenario.workdir();
        workdir.set_env("AWS_ENDPOINT_URL", &server.endpoint());
        scenario.write_config(&workdir, &[&fleet]);
        scenario.step(&format!(
            "import against {} answering HTTP {status} with an HTML page",
            server.endpoint()
        ));
        let started = Instant::now();
        let output = workdir.try_run(&[
            "import",
            "-input=false",
            &fleet.address(),
            "e2e-html-error-page-g1",
        ]);
        scenario.step(&format!(
            "import exited {:?} after {:.1}s",
            output.code,
            started.elapsed().as_secs_f64()
        ));
        assert_eq!(output.code, Some(1), "the import fails\n{output}");
        eprintln!("{}", output.stderr.trim_end());
        let text = flat(&output);
        for expected in [
            format!("HTTP {status} {reason} from {}/", server.endpoint()),
            "which is not an AWS API answer".to_owned(),
            page.to_owned(),
        ] {
            assert!(
                text.contains(&expected),
                "missing {expected:?} (whitespace collapsed)\n{output}"
            );
        }
        assert!(
            !text.contains("failed: UnknownError"),
            "no bare UnknownError\n{output}"
        );
    }
}

/// `AWS_PROFILE` naming a profile that is in neither shared file: configure fails naming the
/// profile, both files and the profiles they do define.
#[test]
fn a_missing_aws_profile_is_named_at_configure() {
    let scenario = Scenario::start("missing-profile");
    let fleet = scenario.fleet("this", "e2e-missing-profile");
    let mut workdir = scenario.workdir();
    let config = workdir.path().join("aws-config");
    let credentials = workdir.path().join("aws-credentials");
    std::fs::write(&config, "[profile staging]\nregion = us-east-1\n").unwrap();
    std::fs::write(
        &credentials,
        "[prod]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = not-a-secret\n",
    )
    .unwrap();
    workdir.set_env("AWS_CONFIG_FILE", &config.display().to_string());
    workdir.set_env(
        "AWS_SHARED_CREDENTIALS_FILE",
        &credentials.display().to_string(),
    );
    workdir.set_env("AWS_PROFILE", "stagign");
    scenario.write_config(&workdir, &[&fleet]);

    scenario.step("plan with AWS_PROFILE=stagign (the files define staging and prod)");
    let output = workdir.try_run(&["plan", "-input=false"]);
    assert_eq!(output.code, Some(1), "the plan fails\n{output}");
    eprintln!("{}", output.stderr.trim_end());
    let text = flat(&output);
    for expected in [
        "AWS profile not found".to_owned(),
        "AWS_PROFILE is \"stagign\"".to_owned(),
        format!("{} (AWS_CONFIG_FILE)", config.display()),
        format!("{} (AWS_SHARED_CREDENTIALS_FILE)", credentials.display()),
        "they define: prod, staging".to_owned(),
    ] {
        assert!(
            text.contains(&expected),
            "missing {expected:?} (whitespace collapsed)\n{output}"
        );
    }
    assert!(
        !text.contains("not-a-secret") && !text.contains("AKIDEXAMPLE"),
        "credentials are never printed\n{output}"
    );

    scenario.step("the same plan with AWS_PROFILE=staging works");
    workdir.set_env("AWS_PROFILE", "staging");
    workdir.run(&["plan", "-input=false"]);
}
