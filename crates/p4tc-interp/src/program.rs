//! The compiled program: code for every action, function, table and block the pipeline can
//! reach, by IR handle index, plus the state vector's template.

use crate::ctx::{Ctx, Flow, XFn};
use crate::parser::ParserCode;
use crate::table::TableCode;

/// One action-data parameter: where it lies in the entry's blob and which slots receive it.
#[derive(Clone, Debug)]
pub(crate) struct DataParam {
    /// First slot of the parameter.
    pub slot: usize,
    /// Byte offset in the blob.
    pub offset: usize,
    /// Bytes it takes.
    pub size: usize,
    /// Width in bits.
    pub width: u32,
}

/// A compiled action.
pub(crate) struct ActionCode {
    /// Its action data, as tables pass it.
    pub data: Vec<DataParam>,
    /// Its statements.
    pub body: Vec<XFn>,
}

/// A compiled function: its statements (the return value goes to its return slots).
pub(crate) struct FunctionCode {
    pub body: Vec<XFn>,
}

/// A compiled parser or control.
pub(crate) enum BlockCode {
    /// A control's apply block.
    Control(Vec<XFn>),
    /// A parser's states.
    Parser(ParserCode),
}

/// Indices of the errors the architecture raises.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Errors {
    pub no_error: u32,
    pub packet_too_short: u32,
    pub no_match: u32,
    pub stack_out_of_bounds: u32,
    pub header_too_short: u32,
    pub parser_timeout: u32,
}

/// Everything compiled.
#[derive(Default)]
pub(crate) struct Program {
    pub actions: Vec<Option<ActionCode>>,
    pub functions: Vec<Option<FunctionCode>>,
    pub tables: Vec<Option<TableCode>>,
    pub blocks: Vec<Option<BlockCode>>,
    pub errors: Errors,
    /// Table handles by index.
    pub table_handles: Vec<Option<p4tc_ir::arena::Handle<p4tc_ir::ir::Table>>>,
}

/// Runs statements until one does not finish normally.
#[inline]
pub(crate) fn run_block(c: &mut Ctx<'_>, stmts: &[XFn]) -> Flow {
    for s in stmts {
        let f = s(c);
        if f != Flow::Next {
            return f;
        }
    }
    Flow::Next
}

/// Runs action `index` (its parameters already bound); `exit` propagates.
pub(crate) fn run_action(c: &mut Ctx<'_>, index: usize) -> Flow {
    let prog = c.prog;
    match prog.actions.get(index).and_then(Option::as_ref) {
        Some(a) => match run_block(c, &a.body) {
            Flow::Exit => Flow::Exit,
            _ => Flow::Next,
        },
        None => Flow::Next,
    }
}

/// Runs function `index`; `exit` propagates.
pub(crate) fn run_function(c: &mut Ctx<'_>, index: usize) -> Flow {
    let prog = c.prog;
    match prog.functions.get(index).and_then(Option::as_ref) {
        Some(f) => match run_block(c, &f.body) {
            Flow::Exit => Flow::Exit,
            _ => Flow::Next,
        },
        None => Flow::Next,
    }
}
