//! `p4tc check`: read a P4 program and report what is wrong with it.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use p4tc_front::{Parsed, PreprocessOptions};

/// Where the program comes from and how to preprocess it (shared by the commands that read P4).
#[derive(Args, Clone)]
pub struct SourceArgs {
    /// The P4 program.
    pub file: PathBuf,
    /// Search DIR for `#include <...>` files (after the built-in ones); may repeat.
    #[arg(short = 'I', value_name = "DIR")]
    pub include: Vec<PathBuf>,
    /// Define a preprocessor macro (`NAME` means `NAME=1`); may repeat.
    #[arg(short = 'D', value_name = "NAME[=VALUE]")]
    pub define: Vec<String>,
}

/// Check a P4 program: preprocess, parse, resolve names and check types; report every error.
///
/// Prints nothing and exits 0 when the program is fine; otherwise prints each problem as
/// `file:line:col: error: message` with the source line and a caret, and exits 1.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  p4tc check examples/simple_l3/simple_l3.p4\n  p4tc check prog.p4 -I include -D USE_IPV6 -D TABLE_SIZE=4096\n  p4tc check prog.p4 --dump=ast"
)]
pub struct CheckArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Stop after parsing (no name resolution or type checking).
    #[arg(long)]
    parse_only: bool,
    /// Print a stage's output to stdout.
    #[arg(long, value_enum, value_name = "STAGE")]
    dump: Option<Dump>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Dump {
    /// The preprocessed tokens, one per line with their positions.
    Tokens,
    /// The syntax tree.
    Ast,
    /// The syntax tree printed back as P4 source.
    Source,
    /// The typed IR.
    Ir,
}

/// Deep programs recurse deeply; the parser bounds nesting, and this stack leaves room for
/// that bound in every pass.
const STACK_SIZE: usize = 256 * 1024 * 1024;

/// The `-I` and `-D` options, checked.
pub fn preprocess_options(source: &SourceArgs) -> anyhow::Result<PreprocessOptions> {
    let options = PreprocessOptions {
        include_dirs: source.include.clone(),
        defines: source
            .define
            .iter()
            .map(|d| match d.split_once('=') {
                Some((name, value)) => (name.to_string(), Some(value.to_string())),
                None => (d.clone(), None),
            })
            .collect(),
    };
    if let Some(bad) = options
        .defines
        .iter()
        .find(|(name, _)| !is_identifier(name))
    {
        anyhow::bail!("-D {}: `{}` is not a valid macro name", bad.0, bad.0);
    }
    Ok(options)
}

/// What a front-end run produced: the rendered diagnostics and whatever `work` returned.
pub struct FrontEndResult<T> {
    pub diagnostics: String,
    pub failed: bool,
    pub output: Option<T>,
}

/// Parses `file` and runs `work` on the result, on a thread with a large stack.
pub fn run_front_end<T: Send + 'static>(
    file: PathBuf,
    options: PreprocessOptions,
    work: impl FnOnce(&mut Parsed) -> Option<T> + Send + 'static,
) -> anyhow::Result<FrontEndResult<T>> {
    let worker = std::thread::Builder::new()
        .stack_size(STACK_SIZE)
        .spawn(move || {
            let mut parsed = p4tc_front::parse_file(&file, &options)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let output = work(&mut parsed);
            anyhow::Ok(FrontEndResult {
                diagnostics: parsed.render_diagnostics(),
                failed: parsed.has_errors(),
                output,
            })
        })?;
    worker
        .join()
        .map_err(|_| anyhow::anyhow!("internal error: the front-end crashed"))?
}

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let options = preprocess_options(&args.source)?;
    let (parse_only, dump) = (args.parse_only, args.dump);
    let file = args.source.file.clone();
    let dump_options = options.clone();
    let dump_file = file.clone();
    let result = run_front_end(file, options, move |parsed| {
        let stops_at_syntax =
            parse_only || matches!(dump, Some(Dump::Tokens | Dump::Ast | Dump::Source));
        let module = if stops_at_syntax {
            None
        } else {
            p4tc_front::check(parsed)
        };
        match dump {
            Some(Dump::Ir) => module.as_ref().map(|m| format!("{m:#?}\n")),
            Some(stage) => Some(render_dump(stage, parsed, &dump_file, &dump_options)),
            None => None,
        }
    })?;
    if let Some(output) = result.output {
        std::io::stdout().write_all(output.as_bytes())?;
    }
    std::io::stderr().write_all(result.diagnostics.as_bytes())?;
    Ok(if result.failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn render_dump(
    stage: Dump,
    parsed: &Parsed,
    file: &std::path::Path,
    options: &PreprocessOptions,
) -> String {
    match stage {
        Dump::Ast => format!("{:#?}\n", parsed.program),
        Dump::Source => p4tc_front::printer::print_program(&parsed.program),
        Dump::Ir => String::new(),
        Dump::Tokens => {
            // Preprocess again on a fresh source map: the dump shows exactly the parser's input.
            let text = std::fs::read_to_string(file).unwrap_or_default();
            let mut sources = p4tc_ir::SourceMap::new();
            let root = sources.add(file.display().to_string(), Some(file), text);
            let mut diagnostics = Vec::new();
            let tokens =
                p4tc_front::preprocess::preprocess(&mut sources, root, options, &mut diagnostics);
            let mut out = String::new();
            for token in tokens {
                let pos = sources.position(token.span);
                out.push_str(&format!(
                    "{}:{}:{}\t{}\n",
                    pos.name, pos.line, pos.col, token.kind
                ));
            }
            out
        }
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
