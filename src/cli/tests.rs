use clap::CommandFactory;

use super::Cli;

/// Every command below `command`, with its path (`warung bench flash-sale`).
fn commands(command: &clap::Command, path: String, all: &mut Vec<(String, clap::Command)>) {
    for sub in command.get_subcommands() {
        let path = format!("{path} {}", sub.get_name());
        all.push((path.clone(), sub.clone()));
        commands(sub, path, all);
    }
}

#[test]
fn the_command_line_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn every_command_and_option_explains_itself_and_every_command_shows_examples() {
    let mut all = vec![("warung".to_string(), Cli::command())];
    commands(&Cli::command(), "warung".to_string(), &mut all);
    assert!(all.len() >= 8, "{:?}", all.iter().map(|(p, _)| p).collect::<Vec<_>>());
    for (path, command) in &all {
        assert!(command.get_about().is_some(), "{path} has no description");
        let is_group = command.get_subcommands().next().is_some() && path != "warung";
        if !is_group {
            let examples = command.get_after_help().map(|h| h.to_string()).unwrap_or_default();
            assert!(examples.starts_with("Examples:\n  warung"), "{path} shows no examples: {examples:?}");
        }
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            assert!(arg.get_help().is_some(), "{path}: --{id} has no description");
        }
    }
}

#[test]
fn options_that_mirror_a_setting_name_its_environment_variable() {
    let mut command = Cli::command();
    command.build();
    let help = command.find_subcommand_mut("serve").unwrap().render_long_help().to_string();
    assert!(help.contains("[env: WARUNG_DATABASE__URL"), "{help}");
    assert!(help.contains("[env: WARUNG_CONFIG"), "{help}");
    assert!(help.contains("Examples:"), "{help}");
}

#[test]
fn completions_are_written_for_bash_zsh_and_fish() {
    for shell in [clap_complete::Shell::Bash, clap_complete::Shell::Zsh, clap_complete::Shell::Fish] {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "warung", &mut script);
        let script = String::from_utf8(script).unwrap();
        for word in ["serve", "audit", "completions", "database-url", "flash-sale"] {
            assert!(script.contains(word), "{shell}: {word} is not completed");
        }
        if shell == clap_complete::Shell::Bash {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("warung.bash");
            std::fs::write(&file, &script).unwrap();
            let status = std::process::Command::new("bash").arg("-n").arg(&file).status().unwrap();
            assert!(status.success(), "the bash script parses");
        }
    }
}
