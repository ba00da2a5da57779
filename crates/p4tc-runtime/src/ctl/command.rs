//! Commands: the words of one command parsed and resolved against the pipeline into a typed
//! object-model operation (tables, actions, key fields and parameters by handle and index;
//! values as integers). Every name is checked here, so running a command only meets the
//! object model's own errors.

use std::time::Duration;

use num_bigint::BigUint;
use p4tc_ir::arena::Handle;
use p4tc_ir::introspection::Permissions;
use p4tc_ir::ir;
use p4tc_ir::layout::MatchKind;

use super::filter::{parse_filter, Filter};
use super::lexer::{lex_line, number_words, words_of_args, LineEnd, Word};
use super::values::{parse_key_match, parse_number, parse_value_for};
use super::{CtlError, DevResolver, Pos};
use crate::entry::{ActionCall, Aging, DefaultKind, EntrySpec, KeyMatch, Priority};
use crate::model::{ActionModel, PipelineModel, TableModel};
use crate::object_model::MeterConfig;

/// A parsed command, with where it starts (its verb).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// Where the command starts (its line, in a file).
    pub at: Pos,
    /// What it does.
    pub kind: CommandKind,
}

/// What a command does, resolved against the pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandKind {
    /// `create` or `update` of one entry, or of a batch (`entry ... entry ...`).
    WriteEntries {
        /// The table.
        table: Handle<ir::Table>,
        /// `update` (else `create`).
        update: bool,
        /// The entries, in order.
        entries: Vec<EntrySpec>,
        /// Written as a batch: failures are reported per entry.
        batch: bool,
    },
    /// `delete` of one entry or a batch, by key (and priority).
    DeleteEntries {
        /// The table.
        table: Handle<ir::Table>,
        /// Keys and priorities, in order.
        entries: Vec<(Vec<KeyMatch>, Option<Priority>)>,
        /// Written as a batch.
        batch: bool,
    },
    /// `get` of one entry.
    GetEntry {
        /// The table.
        table: Handle<ir::Table>,
        /// Its key.
        key: Vec<KeyMatch>,
        /// Its priority, when given.
        priority: Option<Priority>,
    },
    /// `get` without a key: every entry, or those the filter selects.
    Dump {
        /// The table.
        table: Handle<ir::Table>,
        /// Which entries.
        filter: Option<Filter>,
    },
    /// `delete` without a key: every entry the control plane may delete, or those the filter
    /// selects.
    Flush {
        /// The table.
        table: Handle<ir::Table>,
        /// Which entries.
        filter: Option<Filter>,
    },
    /// `get ... default_miss_action|default_hit_action`.
    GetDefault {
        /// The table.
        table: Handle<ir::Table>,
        /// Which one.
        which: DefaultKind,
    },
    /// `update ... default_miss_action|default_hit_action action A [param ...]`.
    SetDefault {
        /// The table.
        table: Handle<ir::Table>,
        /// Which one.
        which: DefaultKind,
        /// The action with its data.
        call: ActionCall,
    },
    /// `get PIPE/timer_profile`.
    TimerProfiles,
    /// `update PIPE/timer_profile/N aging MS`.
    SetTimerProfile {
        /// The profile.
        profile: u32,
        /// Its aging time.
        after: Duration,
    },
    /// An operation on an extern instance.
    Extern {
        /// The instance.
        instance: Handle<ir::Instance>,
        /// What to do.
        op: ExternOp,
    },
    /// `help`: what the pipeline holds ([`super::describe`]).
    Help,
}

/// An operation on an extern instance; `index: None` means every element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternOp {
    /// Read a `Counter`.
    ReadCounter {
        /// The element.
        index: Option<u64>,
    },
    /// Reset a `Counter` to zero.
    ResetCounter {
        /// The element.
        index: Option<u64>,
    },
    /// Read a `Register`.
    ReadRegister {
        /// The element.
        index: Option<u64>,
    },
    /// Write fields of a `Register` (the others keep their values).
    WriteRegister {
        /// The element.
        index: Option<u64>,
        /// Field index (in the register's value) and new value.
        fields: Vec<(usize, BigUint)>,
    },
    /// Configure a `Meter`.
    SetMeter {
        /// The element.
        index: Option<u64>,
        /// Rates and bursts.
        config: MeterConfig,
    },
}

/// The verbs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verb {
    Create,
    Update,
    Delete,
    Get,
    Reset,
}

impl Verb {
    fn name(self) -> &'static str {
        match self {
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Delete => "delete",
            Verb::Get => "get",
            Verb::Reset => "reset",
        }
    }
}

/// Parses command-line arguments (`create simple_l3/table/ingress/nh_table dstAddr ...`),
/// one word per argument; the pipeline must be named in the path.
pub fn parse_args<S: AsRef<str>>(
    args: &[S],
    model: &PipelineModel,
    resolver: DevResolver<'_>,
) -> Result<Command, CtlError> {
    parse_words(words_of_args(args), model, resolver, false)
}

/// Parses one command written as text (split like a shell line, with quotes; as in a file,
/// `PIPE/` may be left out).
pub fn parse_line(
    text: &str,
    model: &PipelineModel,
    resolver: DevResolver<'_>,
) -> Result<Command, CtlError> {
    let mut words = Vec::new();
    if lex_line(text, 1, &mut words)? == LineEnd::Continues {
        return Err(CtlError::new(
            Pos {
                line: Some(1),
                column: text.chars().count(),
                word: words.len(),
            },
            "the command ends with `\\` but nothing follows",
        ));
    }
    parse_words(words, model, resolver, true)
}

/// The pipeline a path names (`simple_l3` for `simple_l3/table/ingress/nh_table`), or `None`
/// when it leaves the pipeline out (`table/...`, `extern/...`, `timer_profile`): lets a CLI
/// load the right pipeline before parsing.
pub fn pipeline_of(path: &str) -> Option<&str> {
    let first = path.split('/').next()?;
    (!first.is_empty() && !matches!(first, "table" | "extern" | "timer_profile")).then_some(first)
}

/// Parses the words of one command.
pub(crate) fn parse_words(
    mut words: Vec<Word<'_>>,
    model: &PipelineModel,
    resolver: DevResolver<'_>,
    pipeline_optional: bool,
) -> Result<Command, CtlError> {
    parse_words_cached(
        &mut words,
        model,
        resolver,
        pipeline_optional,
        &mut PathCache::default(),
    )
}

/// What the last command of a file resolved its path to: the lines of a bulk file name the
/// same table, and the same text always resolves the same way, so the path is split and
/// looked up once.
#[derive(Debug, Default)]
pub(crate) struct PathCache {
    /// The path's text and its table's index in the model's tables.
    table: Option<(String, usize)>,
    /// The last action named, the same way: its table, its name as written and its index in
    /// the table's actions.
    action: Option<(Handle<ir::Table>, String, usize)>,
}

impl PathCache {
    /// `table`'s action named `name` ([`TableModel::action_by_name`]), remembered for the
    /// next line naming it the same way (that lookup normalises the name into a new string).
    fn action<'t>(&mut self, table: &'t TableModel, name: &str) -> Option<&'t ActionModel> {
        if let Some((t, text, index)) = &self.action {
            if *t == table.handle && text == name {
                if let Some(action) = table.actions.get(*index) {
                    return Some(action);
                }
            }
        }
        let action = table.action_by_name(name)?;
        if let Some(index) = table.actions.iter().position(|a| std::ptr::eq(a, action)) {
            let (t, text, at) = self
                .action
                .get_or_insert_with(|| (table.handle, String::new(), 0));
            *t = table.handle;
            text.clear();
            text.push_str(name);
            *at = index;
        }
        Some(action)
    }
}

/// [`parse_words`] with the path of the previous command remembered in `cache`.
pub(crate) fn parse_words_cached(
    words: &mut [Word<'_>],
    model: &PipelineModel,
    resolver: DevResolver<'_>,
    pipeline_optional: bool,
    cache: &mut PathCache,
) -> Result<Command, CtlError> {
    number_words(words);
    let mut parser = Parser {
        words,
        next: 0,
        model,
        resolver,
        pipeline_optional,
        cache: std::mem::take(cache),
    };
    let command = parser.command();
    *cache = parser.cache;
    command
}

/// The words of a command and a cursor.
pub(crate) struct Parser<'a> {
    pub(crate) words: &'a [Word<'a>],
    pub(crate) next: usize,
    pub(crate) model: &'a PipelineModel,
    pub(crate) resolver: DevResolver<'a>,
    pipeline_optional: bool,
    cache: PathCache,
}

impl<'a> Parser<'a> {
    pub(crate) fn peek(&self) -> Option<&'a Word<'a>> {
        self.words.get(self.next)
    }

    pub(crate) fn peek_is(&self, text: &str) -> bool {
        self.peek().is_some_and(|w| w.text == text)
    }

    pub(crate) fn advance(&mut self) -> Option<&'a Word<'a>> {
        let word = self.words.get(self.next);
        if word.is_some() {
            self.next += 1;
        }
        word
    }

    /// Where the command ends (just past its last word), for "expected ..." at the end.
    pub(crate) fn end_pos(&self) -> Pos {
        match self.words.last() {
            Some(w) => Pos {
                column: w.at.column + w.text.chars().count(),
                word: w.at.word + 1,
                ..w.at
            },
            None => Pos::default(),
        }
    }

    /// The word after `keyword`, which needs one (`what` says what it is).
    pub(crate) fn value_after(
        &mut self,
        keyword: &Word<'_>,
        what: &str,
    ) -> Result<&'a Word<'a>, CtlError> {
        self.advance().ok_or_else(|| {
            CtlError::new(
                keyword.at,
                format!("`{}` needs {what} after it", keyword.text),
            )
        })
    }

    /// Fails on a word left over.
    pub(crate) fn finish(&self, after: &str) -> Result<(), CtlError> {
        match self.peek() {
            None => Ok(()),
            Some(w) => Err(CtlError::new(
                w.at,
                format!("unexpected `{}` after {after}", w.text),
            )),
        }
    }

    fn command(&mut self) -> Result<Command, CtlError> {
        // Pasted commands: `p4tc ctl create ...`, `tc p4ctrl create ...`.
        if let [a, b, ..] = self.words {
            if matches!(
                (a.text.as_ref(), b.text.as_ref()),
                ("p4tc", "ctl") | ("tc", "p4ctrl")
            ) {
                self.next = 2;
            }
        }
        // `PIPE help` as `p4tc ctl PIPE help` passes it.
        if self.peek_is(&self.model.name)
            && self
                .words
                .get(self.next + 1)
                .is_some_and(|w| w.text == "help")
        {
            self.next += 1;
        }
        let Some(verb_word) = self.advance() else {
            return Err(CtlError::new(
                self.end_pos(),
                "empty command: expected create, update, delete, get, reset or help",
            ));
        };
        let at = verb_word.at;
        let verb = match verb_word.text.as_ref() {
            "create" => Verb::Create,
            "update" => Verb::Update,
            "delete" => Verb::Delete,
            "get" => Verb::Get,
            "reset" => Verb::Reset,
            "help" => {
                self.finish("`help`")?;
                return Ok(Command {
                    at,
                    kind: CommandKind::Help,
                });
            }
            other => {
                return Err(CtlError::new(
                    at,
                    format!(
                        "unknown command `{other}`: expected create, update, delete, get, \
                         reset or help"
                    ),
                ))
            }
        };
        let path = self.value_after(
            verb_word,
            "a path (PIPE/table/CONTROL/TABLE, PIPE/extern/KIND/INSTANCE or \
             PIPE/timer_profile)",
        )?;
        let kind = self.object(verb, path)?;
        Ok(Command { at, kind })
    }

    /// Resolves the path and parses the rest by the object it names.
    fn object(&mut self, verb: Verb, path: &Word<'_>) -> Result<CommandKind, CtlError> {
        let model = self.model;
        if let Some((text, index)) = &self.cache.table {
            if *text == *path.text {
                if let Some(table) = model.tables.get(*index) {
                    return self.table_command(verb, table);
                }
            }
        }
        let trimmed = path.text.trim_end_matches('/');
        let segments: Vec<&str> = trimmed.split('/').collect();
        let rest: &[&str] = if segments.first() == Some(&self.model.name.as_str()) {
            &segments[1..]
        } else if self.pipeline_optional
            && matches!(
                segments.first(),
                Some(&("table" | "extern" | "timer_profile"))
            )
        {
            &segments
        } else {
            let first = segments.first().copied().unwrap_or("");
            let hint = if self.pipeline_optional {
                " (or leave it out: table/CONTROL/TABLE)"
            } else {
                ""
            };
            return Err(CtlError::new(
                path.at,
                format!(
                    "unknown pipeline `{first}` in `{}`: the pipeline loaded is `{}`; write \
                     {}/table/CONTROL/TABLE{hint}",
                    path.text, self.model.name, self.model.name
                ),
            ));
        };
        match rest {
            [] => Err(CtlError::new(
                path.at,
                format!(
                    "`{}` names no object: expected {p}/table/CONTROL/TABLE, \
                     {p}/extern/KIND/INSTANCE or {p}/timer_profile",
                    path.text,
                    p = self.model.name
                ),
            )),
            ["extern", kind, instance @ ..] if !instance.is_empty() => {
                let instance = instance.join("/");
                self.extern_command(verb, path, kind, &instance)
            }
            ["extern", ..] => Err(CtlError::new(
                path.at,
                format!(
                    "`{}`: expected {}/extern/KIND/INSTANCE ({})",
                    path.text,
                    self.model.name,
                    self.extern_list()
                ),
            )),
            ["timer_profile"] => self.timer_profile(verb, path, None),
            ["timer_profile", n] => {
                let profile = n.parse::<u32>().map_err(|_| {
                    CtlError::new(path.at, format!("timer profile `{n}` is not a number"))
                })?;
                self.timer_profile(verb, path, Some(profile))
            }
            ["table"] => Err(CtlError::new(
                path.at,
                format!(
                    "`{}` names no table; the tables are: {}",
                    path.text,
                    self.table_list()
                ),
            )),
            ["table", name @ ..] | name => {
                let name = name.join("/");
                let table = self.model.table_by_name(&name).ok_or_else(|| {
                    CtlError::new(
                        path.at,
                        format!(
                            "pipeline {} has no table `{name}`; its tables are: {}",
                            self.model.name,
                            self.table_list()
                        ),
                    )
                })?;
                if let Some(index) = model.tables.iter().position(|t| std::ptr::eq(t, table)) {
                    let (text, at) = self.cache.table.get_or_insert_with(Default::default);
                    text.clear();
                    text.push_str(&path.text);
                    *at = index;
                }
                self.table_command(verb, table)
            }
        }
    }

    fn table_list(&self) -> String {
        let names: Vec<&str> = self.model.tables.iter().map(|t| t.name.as_str()).collect();
        if names.is_empty() {
            "(none)".into()
        } else {
            names.join(", ")
        }
    }

    fn timer_profile(
        &mut self,
        verb: Verb,
        path: &Word,
        profile: Option<u32>,
    ) -> Result<CommandKind, CtlError> {
        match verb {
            Verb::Get => {
                self.finish("`get .../timer_profile` (it lists every profile)")?;
                Ok(CommandKind::TimerProfiles)
            }
            Verb::Update | Verb::Create => {
                let mut profile = profile;
                let mut after = None;
                while let Some(word) = self.advance() {
                    match word.text.as_ref() {
                        "profile_id" => {
                            let n = self.value_after(word, "a profile number")?;
                            profile = Some(self.u32_of(n, "profile_id")?);
                        }
                        "aging" => {
                            let n = self.value_after(word, "a time in milliseconds")?;
                            after = Some(Duration::from_millis(self.u64_of(n, "aging")?));
                        }
                        _ if profile.is_none() && parse_number(&word.text).is_some() => {
                            profile = Some(self.u32_of(word, "profile")?);
                        }
                        other => {
                            return Err(CtlError::new(
                                word.at,
                                format!(
                                    "unexpected `{other}`: expected `profile_id N` or \
                                     `aging MS`"
                                ),
                            ))
                        }
                    }
                }
                let profile = profile.ok_or_else(|| {
                    CtlError::new(
                        path.at,
                        "which timer profile? write timer_profile/N or `profile_id N`",
                    )
                })?;
                let after = after.ok_or_else(|| {
                    CtlError::new(path.at, "a timer profile update needs `aging MS`")
                })?;
                Ok(CommandKind::SetTimerProfile { profile, after })
            }
            Verb::Delete | Verb::Reset => Err(CtlError::new(
                path.at,
                format!(
                    "timer profiles cannot be {}d: use `update` to change one",
                    verb.name().trim_end_matches('e')
                ),
            )),
        }
    }

    pub(crate) fn u64_of(&self, word: &Word, what: &str) -> Result<u64, CtlError> {
        parse_number(&word.text)
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| {
                CtlError::new(
                    word.at,
                    format!("{what} `{}` is not a number (64 bits at most)", word.text),
                )
            })
    }

    pub(crate) fn u32_of(&self, word: &Word, what: &str) -> Result<u32, CtlError> {
        parse_number(&word.text)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                CtlError::new(
                    word.at,
                    format!("{what} `{}` is not a number (32 bits at most)", word.text),
                )
            })
    }

    fn table_command(&mut self, verb: Verb, table: &TableModel) -> Result<CommandKind, CtlError> {
        let handle = table.handle;
        let which = match self.peek().map(|w| w.text.as_ref()) {
            Some("default_miss_action") => Some(DefaultKind::Miss),
            Some("default_hit_action") => Some(DefaultKind::Hit),
            _ => None,
        };
        if let Some(which) = which {
            let word = self.advance().unwrap_or(&NO_WORD);
            return match verb {
                Verb::Get => {
                    self.finish(&format!("`{}`", word.text))?;
                    Ok(CommandKind::GetDefault {
                        table: handle,
                        which,
                    })
                }
                Verb::Update | Verb::Create => {
                    let action = self.value_after(word, "`action NAME`")?;
                    if action.text != "action" {
                        return Err(CtlError::new(
                            action.at,
                            format!("expected `action NAME` after `{}`", word.text),
                        ));
                    }
                    let call = self.action_call(table, action, true)?;
                    self.finish("the default action")?;
                    Ok(CommandKind::SetDefault {
                        table: handle,
                        which,
                        call,
                    })
                }
                Verb::Delete | Verb::Reset => Err(CtlError::new(
                    word.at,
                    format!(
                        "a default action cannot be removed with `{}`: `update` it to \
                         another action",
                        verb.name()
                    ),
                )),
            };
        }
        if self.peek_is("permissions") && self.words.len() == self.next + 2 && verb == Verb::Update
        {
            return Err(CtlError::new(
                self.peek().map(|w| w.at).unwrap_or_default(),
                format!(
                    "changing table {}'s permissions at run time is not supported",
                    table.name
                ),
            ));
        }
        match verb {
            Verb::Reset => Err(CtlError::new(
                self.words
                    .get(self.next.saturating_sub(1))
                    .map(|w| w.at)
                    .unwrap_or_default(),
                "`reset` applies to externs (counters); for a table use `delete` (flush)",
            )),
            Verb::Get | Verb::Delete if self.peek().is_none() || self.peek_is("filter") => {
                let filter = match self.advance() {
                    Some(word) => {
                        let rest = &self.words[self.next..];
                        self.next = self.words.len();
                        if rest.is_empty() {
                            return Err(CtlError::new(word.at, "`filter` needs an expression"));
                        }
                        Some(parse_filter(rest, table, self.resolver)?)
                    }
                    None => None,
                };
                Ok(if verb == Verb::Get {
                    CommandKind::Dump {
                        table: handle,
                        filter,
                    }
                } else {
                    CommandKind::Flush {
                        table: handle,
                        filter,
                    }
                })
            }
            _ => {
                let batch = self.peek_is("entry");
                if batch && verb == Verb::Get {
                    return Err(CtlError::new(
                        self.peek().map(|w| w.at).unwrap_or_default(),
                        "`get` takes one key (or none, to dump): no `entry` batches",
                    ));
                }
                // One entry without `entry` (a bulk file's lines): no room for more.
                let mut entries = Vec::with_capacity(if batch { 4 } else { 1 });
                loop {
                    if batch {
                        let entry_word = self.advance().unwrap_or(&NO_WORD);
                        if self.peek().is_none() || self.peek_is("entry") {
                            return Err(CtlError::new(
                                entry_word.at,
                                "`entry` needs a key after it",
                            ));
                        }
                    }
                    entries.push(self.entry(verb, table, batch)?);
                    if self.peek().is_none() {
                        break;
                    }
                }
                Ok(match verb {
                    Verb::Create | Verb::Update => CommandKind::WriteEntries {
                        table: handle,
                        update: verb == Verb::Update,
                        entries,
                        batch,
                    },
                    Verb::Delete => CommandKind::DeleteEntries {
                        table: handle,
                        entries: entries.into_iter().map(|e| (e.key, e.priority)).collect(),
                        batch,
                    },
                    Verb::Get | Verb::Reset => {
                        let entry = entries
                            .into_iter()
                            .next()
                            .unwrap_or_else(|| EntrySpec::new(Vec::new(), None));
                        CommandKind::GetEntry {
                            table: handle,
                            key: entry.key,
                            priority: entry.priority,
                        }
                    }
                })
            }
        }
    }

    /// One entry: key fields and options up to the end, or to the next `entry` of a batch.
    fn entry(
        &mut self,
        verb: Verb,
        table: &TableModel,
        batch: bool,
    ) -> Result<EntrySpec, CtlError> {
        let start = self.peek().map(|w| w.at).unwrap_or_else(|| self.end_pos());
        let mut keys: Vec<Option<KeyMatch>> = vec![None; table.keys.len()];
        let mut spec = EntrySpec::new(Vec::new(), None);
        let mut aging_word: Option<&Word> = None;
        let writes = matches!(verb, Verb::Create | Verb::Update);
        while let Some(word) = self.peek() {
            if word.text == "entry" && batch {
                break;
            }
            self.next += 1;
            let keyword = word.text.as_ref();
            let only_writes = || -> Result<(), CtlError> {
                if writes {
                    Ok(())
                } else {
                    Err(CtlError::new(
                        word.at,
                        format!(
                            "`{keyword}` has no meaning in `{}`: give the key (and prio) only",
                            verb.name()
                        ),
                    ))
                }
            };
            match keyword {
                "prio" => {
                    let n = self.value_after(word, "a priority (lower wins)")?;
                    if !table.has_priorities() {
                        return Err(CtlError::new(
                            word.at,
                            format!(
                                "table {} takes no prio: its keys are exact or lpm only",
                                table.name
                            ),
                        ));
                    }
                    if spec.priority.is_some() {
                        return Err(CtlError::new(word.at, "`prio` is given twice"));
                    }
                    spec.priority = Some(Priority(self.u32_of(n, "prio")?));
                }
                "action" => {
                    only_writes()?;
                    if spec.action.is_some() {
                        return Err(CtlError::new(word.at, "`action` is given twice"));
                    }
                    spec.action = Some(self.action_call(table, word, false)?);
                }
                "param" => {
                    return Err(CtlError::new(
                        word.at,
                        "`param` belongs after `action NAME` (its parameters follow it)",
                    ))
                }
                "permissions" => {
                    only_writes()?;
                    let value = self.value_after(word, "permissions (0xHHHH)")?;
                    spec.permissions = Some(parse_permissions(&value.text).ok_or_else(|| {
                        CtlError::new(
                            value.at,
                            format!(
                                "`{}` is not a permission: write 0xHHHH (14 bits, such as \
                                 0x1da4) or the letters form (-RUD-PS-R--X--)",
                                value.text
                            ),
                        )
                    })?);
                }
                "dynamic" => {
                    only_writes()?;
                    spec.dynamic = true;
                }
                "aging" | "profile_id" => {
                    only_writes()?;
                    if let Some(previous) = &aging_word {
                        return Err(CtlError::new(
                            word.at,
                            format!(
                                "`{keyword}` and `{}` both say how the entry ages: give one",
                                previous.text
                            ),
                        ));
                    }
                    let value = self.value_after(
                        word,
                        if keyword == "aging" {
                            "a time in milliseconds"
                        } else {
                            "a timer profile number"
                        },
                    )?;
                    spec.aging = Some(if keyword == "aging" {
                        Aging::After(Duration::from_millis(self.u64_of(value, "aging")?))
                    } else {
                        Aging::Profile(self.u32_of(value, "profile_id")?)
                    });
                    spec.dynamic = true;
                    aging_word = Some(word);
                }
                "filter" => {
                    return Err(CtlError::new(
                        word.at,
                        "`filter` applies to dumps and flushes: leave the key out",
                    ))
                }
                "entry" => {
                    return Err(CtlError::new(
                        word.at,
                        "`entry` starts a batch: write `entry` before the first key too",
                    ))
                }
                _ => {
                    let name = keyword.strip_prefix("key.").unwrap_or(keyword);
                    let Some((index, field)) = table.key_by_name(name) else {
                        return Err(CtlError::new(word.at, self.unknown_word(table, keyword)));
                    };
                    let value = self.value_after(word, "a value")?;
                    if keys[index].is_some() {
                        return Err(CtlError::new(
                            word.at,
                            format!("key field `{name}` is given twice"),
                        ));
                    }
                    keys[index] = Some(
                        parse_key_match(&value.text, field, self.resolver)
                            .map_err(|m| CtlError::new(value.at, m))?,
                    );
                }
            }
        }
        let mut missing = Vec::new();
        for (slot, field) in keys.iter_mut().zip(&table.keys) {
            if slot.is_none() {
                match field.match_kind {
                    MatchKind::Exact | MatchKind::Lpm => missing.push(format!(
                        "`{}` ({} {})",
                        field.name,
                        field.match_kind.name(),
                        field.ty
                    )),
                    _ => *slot = Some(KeyMatch::Any),
                }
            }
        }
        if !missing.is_empty() {
            return Err(CtlError::new(
                start,
                format!(
                    "missing key field{} {} of table {}",
                    if missing.len() > 1 { "s" } else { "" },
                    missing.join(", "),
                    table.name
                ),
            ));
        }
        spec.key = keys
            .into_iter()
            .map(|k| k.unwrap_or(KeyMatch::Any))
            .collect();
        Ok(spec)
    }

    /// The message for a word that is no key field and no keyword.
    fn unknown_word(&self, table: &TableModel, word: &str) -> String {
        let name = word.strip_prefix("key.").unwrap_or(word);
        if table.keys.is_empty() {
            return format!(
                "table {} has no key, so `{name}` is no key field (options: prio, action, \
                 permissions, dynamic, aging, profile_id)",
                table.name
            );
        }
        let keys: Vec<&str> = table.keys.iter().map(|k| k.name.as_str()).collect();
        format!(
            "table {} has no key field `{name}`; its keys are: {}",
            table.name,
            keys.join(", ")
        )
    }

    /// `action NAME [param NAME VALUE]...` after the `action` word.
    fn action_call(
        &mut self,
        table: &TableModel,
        action_word: &Word,
        default: bool,
    ) -> Result<ActionCall, CtlError> {
        let name = self.value_after(action_word, "an action name")?;
        let Some(action) = self.cache.action(table, &name.text) else {
            let names: Vec<&str> = table
                .actions
                .iter()
                .map(|a| a.name.rsplit('/').next().unwrap_or(&a.name))
                .collect();
            return Err(CtlError::new(
                name.at,
                format!(
                    "unknown action `{}`; table {} has: {}",
                    name.text,
                    table.name,
                    names.join(", ")
                ),
            ));
        };
        match (action.scope, default) {
            (ir::ActionScope::DefaultOnly, false) => {
                return Err(CtlError::new(
                    name.at,
                    format!(
                        "action `{}` is @defaultonly in table {}: it cannot be an entry's action",
                        action.name, table.name
                    ),
                ))
            }
            (ir::ActionScope::TableOnly, true) => {
                return Err(CtlError::new(
                    name.at,
                    format!(
                        "action `{}` is @tableonly in table {}: it cannot be a default action",
                        action.name, table.name
                    ),
                ))
            }
            _ => {}
        }
        let mut params: Vec<Option<BigUint>> = vec![None; action.params.len()];
        while self.peek_is("param") {
            let word = self.advance().unwrap_or(&NO_WORD);
            let pname = self.value_after(word, "a parameter name and value")?;
            let Some(index) = action.params.iter().position(|p| p.name == pname.text) else {
                let list: Vec<&str> = action.params.iter().map(|p| p.name.as_str()).collect();
                return Err(CtlError::new(
                    pname.at,
                    if list.is_empty() {
                        format!(
                            "action {} has no params (got `{}`)",
                            action.name, pname.text
                        )
                    } else {
                        format!(
                            "action {} has no param `{}`; its params are: {}",
                            action.name,
                            pname.text,
                            list.join(", ")
                        )
                    },
                ));
            };
            let value = self.value_after(pname, "a value")?;
            if params[index].is_some() {
                return Err(CtlError::new(
                    pname.at,
                    format!("param `{}` is given twice", pname.text),
                ));
            }
            let p = &action.params[index];
            params[index] = Some(
                parse_value_for(
                    &value.text,
                    p.ty,
                    p.width,
                    &|| format!("param `{}`", p.name),
                    self.resolver,
                )
                .map_err(|m| CtlError::new(value.at, m))?,
            );
        }
        let missing: Vec<String> = action
            .params
            .iter()
            .zip(&params)
            .filter(|(_, v)| v.is_none())
            .map(|(p, _)| format!("`{}` ({})", p.name, p.ty))
            .collect();
        if !missing.is_empty() {
            return Err(CtlError::new(
                name.at,
                format!(
                    "action {} needs param{} {} (write `param NAME VALUE`)",
                    action.name,
                    if missing.len() > 1 { "s" } else { "" },
                    missing.join(", ")
                ),
            ));
        }
        Ok(ActionCall {
            action: action.handle,
            params: params.into_iter().map(Option::unwrap_or_default).collect(),
        })
    }
}

/// Permissions as `0xHHHH` or in the letters form `CRUD-PS-R--X--`.
pub(crate) fn parse_permissions(text: &str) -> Option<Permissions> {
    if let Some(p) = Permissions::from_hex(text) {
        return Some(p);
    }
    let chars: Vec<char> = text.chars().collect();
    if chars.len() != 14 {
        return None;
    }
    const LETTERS: [char; 7] = ['C', 'R', 'U', 'D', 'X', 'P', 'S'];
    let mut bits = 0u16;
    for (i, c) in chars.iter().enumerate() {
        bits <<= 1;
        if *c == LETTERS[i % 7] {
            bits |= 1;
        } else if *c != '-' {
            return None;
        }
    }
    Permissions::from_bits(bits)
}

/// Stands for the word just peeked, which is there: taking it cannot fail, and this keeps
/// the parser from panicking even if that reasoning were wrong.
static NO_WORD: Word<'static> = Word {
    text: std::borrow::Cow::Borrowed(""),
    at: Pos {
        line: None,
        column: 0,
        word: 0,
    },
};
