//! Entries and bulk files: one command per line, `#` comments, blank lines, and a `\` at
//! the end of a line continuing the command on the next. `PIPE/` may be left out of paths
//! (`table/ingress/nh_table`), and a leading `p4tc ctl` or `tc p4ctrl` is skipped, so commands
//! can be pasted from a shell. Every command is parsed, and every error is reported, each
//! with its line and column.

use std::time::Duration;

use super::command::{parse_words_cached, Command, PathCache};
use super::execute::execute_all;
use super::format::Output;
use super::lexer::{lex_line, LineEnd, Word};
use super::{CtlError, DevResolver, Pos};
use crate::model::PipelineModel;
use crate::object_model::ObjectModel;

/// Parses every command of `text`; on any error, returns all the errors (one per bad
/// command), in line order.
pub fn parse_file(
    text: &str,
    model: &PipelineModel,
    resolver: DevResolver<'_>,
) -> Result<Vec<Command>, Vec<CtlError>> {
    let mut commands = Vec::new();
    let mut errors = Vec::new();
    let mut words: Vec<Word> = Vec::new();
    // A lexing error spoils its command: skip to the command's end, then go on.
    let mut spoiled = false;
    let mut last_line = 0;
    let mut cache = PathCache::default();
    for (number, line) in text.lines().enumerate() {
        let number = number + 1;
        last_line = number;
        let end = match lex_line(line, number, &mut words) {
            Ok(end) => end,
            Err(e) => {
                if !spoiled {
                    errors.push(e);
                }
                spoiled = true;
                // Assume the command ends here unless the line clearly continues.
                if line.trim_end().ends_with('\\') {
                    LineEnd::Continues
                } else {
                    LineEnd::End
                }
            }
        };
        if end == LineEnd::Continues {
            continue;
        }
        // The words' buffer is kept from line to line.
        if std::mem::take(&mut spoiled) || words.is_empty() {
            words.clear();
            continue;
        }
        match parse_words_cached(&mut words, model, resolver, true, &mut cache) {
            Ok(c) => commands.push(c),
            Err(e) => errors.push(e),
        }
        words.clear();
    }
    if !words.is_empty() && !spoiled {
        // The last line ended with `\`: the command is complete anyway.
        match parse_words_cached(&mut words, model, resolver, true, &mut cache) {
            Ok(c) => commands.push(c),
            Err(e) => errors.push(e),
        }
    } else if spoiled && errors.is_empty() {
        errors.push(CtlError::new(
            Pos {
                line: Some(last_line),
                column: 1,
                word: 0,
            },
            "the file ends inside a command",
        ));
    }
    if errors.is_empty() {
        Ok(commands)
    } else {
        Err(errors)
    }
}

/// Parses `text` ([`parse_file`]) and runs every command on `om`, in order
/// ([`execute_all`](super::execute_all): runs of creates on one table go to the object model
/// as batches).
///
/// Any parse error: nothing runs, and every parse error is returned. Otherwise every command
/// runs even when one fails (as a batch does); each refused command, and each failed entry
/// of a batch, is returned as an error at its command's line. `Ok` holds every command's
/// output.
pub fn apply_file(
    om: &mut dyn ObjectModel,
    model: &PipelineModel,
    text: &str,
    resolver: DevResolver<'_>,
    now: Duration,
) -> Result<Vec<Output>, Vec<CtlError>> {
    let commands = parse_file(text, model, resolver)?;
    let mut outputs = Vec::with_capacity(commands.len());
    let mut errors = Vec::new();
    let results = execute_all(om, model, &commands, now, &mut |_| {});
    for (command, result) in commands.iter().zip(results) {
        match result {
            Ok(output) => {
                if let Output::Batch { failures, .. } = &output {
                    for f in failures {
                        errors.push(CtlError::new(
                            command.at,
                            format!("entry {} ({}): {}", f.index, f.key, f.error),
                        ));
                    }
                }
                outputs.push(output);
            }
            Err(e) => errors.push(CtlError::new(command.at, e.to_string())),
        }
    }
    if errors.is_empty() {
        Ok(outputs)
    } else {
        Err(errors)
    }
}
