//! The subcommands. Each returns the process exit code:
//! 0 success, 1 policy failures or failing tests, 2 bad input (unreadable files),
//! 3 policy compile errors.

use std::io::Write;

use kyvm_compiler::{compile_paths, Severity};

use crate::cli::{ApplyArgs, Cli, Command, CompileArgs, Emit, JpCommand, ReportFormat, TestArgs, TestOutput};
use crate::run::Inputs;
use crate::values::{self, UserInfoFile, ValuesFile};
use crate::{apply, jp, report, resources, testsuite};

pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURES: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;
pub const EXIT_COMPILE_ERRORS: i32 = 3;

pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Apply(args) => apply_cmd(args),
        Command::Test(args) => test_cmd(args),
        Command::Compile(args) => compile_cmd(args),
        Command::Jp(JpCommand::Query(args)) => jp::query(args),
        Command::Jp(JpCommand::Function(args)) => jp::function(args),
        Command::Serve(args) => crate::serve::run(args),
    }
}

fn print_diagnostics(diags: &[kyvm_compiler::Diagnostic], min: Severity) {
    let mut err = std::io::stderr().lock();
    for d in diags.iter().filter(|d| d.severity >= min) {
        let _ = writeln!(err, "{d}\n");
    }
}

fn compile_cmd(args: CompileArgs) -> i32 {
    let comp = compile_paths(&args.paths);
    print_diagnostics(&comp.diagnostics, Severity::Note);
    let errors = comp.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = comp.diagnostics.iter().filter(|d| d.severity == Severity::Warning).count();
    match args.emit {
        Some(Emit::Asm) => print!("{}", kyvm_engine::disasm::disassemble(&comp.program)),
        Some(Emit::Model) => {
            for p in &comp.policies {
                println!("# {}", p.file);
                match serde_yaml::to_string(&p.policy) {
                    Ok(s) => println!("{s}---"),
                    Err(e) => eprintln!("cannot print the model of {}: {e}", p.policy.metadata.name),
                }
            }
        }
        None => {}
    }
    eprintln!(
        "compiled {} polic{} ({} rules): {errors} error(s), {warnings} warning(s)",
        comp.policies.len(),
        if comp.policies.len() == 1 { "y" } else { "ies" },
        comp.program.rules.len()
    );
    if errors > 0 {
        EXIT_COMPILE_ERRORS
    } else {
        EXIT_OK
    }
}

fn apply_cmd(args: ApplyArgs) -> i32 {
    let comp = compile_paths(&args.policies);
    print_diagnostics(&comp.diagnostics, Severity::Warning);
    if comp.has_errors() {
        return EXIT_COMPILE_ERRORS;
    }
    let resources = match resources::load(&args.resources) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let values: Option<ValuesFile> = match args.values_file.as_deref().map(values::read_yaml) {
        Some(Ok(v)) => Some(v),
        Some(Err(e)) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
        None => None,
    };
    let user: Option<UserInfoFile> = match args.userinfo.as_deref().map(values::read_yaml) {
        Some(Ok(v)) => Some(v),
        Some(Err(e)) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
        None => None,
    };
    let inputs = Inputs { values: values.as_ref(), user: user.as_ref(), clone_sources: &[] };
    let result = match apply::apply(&comp, resources, inputs, args.audit_warn) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_FAILURES;
        }
    };
    if let Some(path) = &args.output {
        if let Err(e) = apply::write_mutated(&result, path) {
            eprintln!("error: cannot write mutated resources to {}: {e}", path.display());
            return EXIT_FAILURES;
        }
    }
    if args.policy_report {
        let report = report::build(&comp, &result);
        let text = match args.output_format {
            ReportFormat::Yaml => serde_yaml::to_string(&report).map_err(|e| e.to_string()),
            ReportFormat::Json => serde_json::to_string_pretty(&report).map_err(|e| e.to_string()),
        };
        match text {
            Ok(t) => println!("{t}"),
            Err(e) => {
                eprintln!("error: cannot render the report: {e}");
                return EXIT_FAILURES;
            }
        }
    } else {
        print!("{}", apply::render(&result));
    }
    if result.counts.fail > 0 || result.counts.error > 0 {
        EXIT_FAILURES
    } else {
        EXIT_OK
    }
}

fn test_cmd(args: TestArgs) -> i32 {
    let files = testsuite::discover(&args.paths);
    if files.is_empty() {
        eprintln!("error: no {} found under the given paths", testsuite::TEST_FILE_NAME);
        return EXIT_BAD_INPUT;
    }
    let reports: Vec<testsuite::SuiteReport> = files.iter().map(|f| testsuite::run_suite(f)).collect();
    match args.output {
        TestOutput::Json => {
            let out = testsuite::JsonOutput { tests: reports.clone() };
            match serde_json::to_string(&out) {
                Ok(s) => println!("{s}"),
                Err(e) => {
                    eprintln!("error: cannot render JSON: {e}");
                    return EXIT_FAILURES;
                }
            }
        }
        TestOutput::Table => print!("{}", testsuite::render_human(&reports)),
    }
    if reports.iter().all(testsuite::SuiteReport::passed) {
        EXIT_OK
    } else {
        EXIT_FAILURES
    }
}
