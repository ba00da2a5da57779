//! The reference interpreter: runs a validated P4 program (its IR) on packets, in userspace,
//! with the PNA semantics P4TC gives them. Every other datapath is compared with it.
//!
//! Table and extern state is not kept here: the interpreter asks a
//! [`p4tc_runtime::Datapath`] (in practice the in-memory backend of the object model), so the
//! control plane sees and changes the same state whichever datapath runs.
//!
//! # Design
//!
//! [`Interpreter::new`] compiles the IR once into a tree of closures; nothing walks the IR per
//! packet.
//! - **Slots.** P4 has no recursion, so every local of every body (parser, controls, actions,
//!   functions), every temporary and every return value gets a fixed address in one flat
//!   state vector of `u128` slots. A scalar of at most 128 bits is one slot holding its W-bit
//!   pattern (`int<W>` in two's complement, `bool` 0/1, `error` and plain enums as indices,
//!   serializable enums as their value); wider ones are several limbs, least significant
//!   first, computed on a `num_bigint` slow path. A header is its validity slot then its
//!   fields, a stack its next-index slot then its elements, structs, tuples and unions their
//!   members back to back (see `types.rs`). The main parser, control and deparser share the
//!   slots of the headers and metadata, so nothing is copied between them.
//! - **Per packet** the state is reset from a template by one copy (headers invalid, `out`
//!   parameters zero, constants in place), then the parser, control and deparser run.
//! - **Calls** copy arguments into the callee's parameter slots and copy `out`/`inout` ones
//!   back when it returns (P4's copy-in/copy-out).
//! - **Tables** build their key into a reusable blob laid out by `p4tc_ir::layout`, ask the
//!   [`Datapath`], and decode the action data straight into the action's parameter slots.
//!
//! # Semantics worth knowing
//! - A parser `reject` with an error (extract past the end: `PacketTooShort`, a failed
//!   `verify`, no select case: `NoMatch`, a full stack: `StackOutOfBounds`) lets the control
//!   run with `istd.parser_error` set; a plain `transition reject` (NoError) drops the packet,
//!   as P4TC's generated code does. A parser stops after [`MAX_PARSER_STEPS`] transitions with
//!   `ParserTimeout`.
//! - Out-of-range stack indices at run time read a zeroed scratch element and writes to them
//!   are lost (never a panic). Division or modulo by zero gives 0.
//! - The verdict: `drop_packet()` -> [`Verdict::Drop`]; else no `send_to_port` (port 0) ->
//!   [`Verdict::Pass`]; else [`Verdict::Send`]. `recirculate()` runs the deparsed packet
//!   through the pipeline again, at most [`MAX_PASSES`] passes in all.
//! - Value sets start empty; [`Interpreter::set_value_set`] fills them. `mirror_packet` is ignored; `is_net_port` is
//!   true for every port but `PNA_PORT_CPU` (see the `externs` module for the rest).
//! - Hash input is the data's fields packed back to back, zero-padded at the end to whole
//!   bytes as BMv2 does; CRC16 is CRC-16/ARC, CRC32 CRC-32/ISO-HDLC, the `_CUSTOM` variants and
//!   `TARGET_DEFAULT` use the same polynomials. `InternetChecksum` sums the data's bits as
//!   16-bit words (an odd byte padded at its end), RFC 1071, and subtracts by RFC 1624.
//! - Only the three blocks of P4TC's PNA run (main parser, main control, deparser); a
//!   four-block PNA's pre-control is not run. Any package whose pipeline names those three
//!   roles runs: blocks share the slots of parameters of the same type.
//! - TC metadata (`skb_get_*`/`skb_set_*`) lives in the interpreter for one packet: all zero
//!   at first except the protocol, the Ethernet type of packets of at least 14 bytes.
//! - A dropped packet's [`Outcome::packet`] is whatever the deparser emitted (empty when the
//!   parser dropped it).

mod arith;
mod bits;
mod blob;
mod call;
mod compile;
mod ctx;
mod expr;
mod externs;
mod packet;
mod parser;
mod program;
mod stmt;
mod table;
mod types;

use std::sync::Arc;

use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{BlockType, Module, Role};
use p4tc_runtime::Datapath;

use crate::bits::BitWriter;
use crate::compile::{BodyKey, Compiler};
use crate::ctx::{Ctx, LastLookup, Run};
use crate::program::{run_block, BlockCode, Program};

pub use crate::externs::PNA_PORT_CPU;
pub use crate::parser::MAX_PARSER_STEPS;

/// Passes through the pipeline a packet may make (the first and its recirculations).
pub const MAX_PASSES: usize = 4;

/// Why a program cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum InterpError {
    /// The module has no pipeline, or not the roles the architecture needs.
    #[error("{0}")]
    Pipeline(String),
    /// Something the interpreter does not support, named.
    #[error("not supported by the interpreter: {0}")]
    Unsupported(String),
}

/// What happens to a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Sent out of this port (`send_to_port`).
    Send(u32),
    /// Neither sent nor dropped: P4TC passes it on to the kernel's stack (TC_ACT_OK).
    Pass,
    /// Dropped (`drop_packet`, or a parser `reject` without an error).
    Drop,
}

/// The result of one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome<'a> {
    /// Where it goes.
    pub verdict: Verdict,
    /// The parser error the control saw, by index into `Module::errors` (`None` for NoError).
    pub parser_error: Option<u32>,
    /// The packet as the deparser left it (emitted headers, then the unparsed payload).
    pub packet: &'a [u8],
}

/// Slots of the intrinsic metadata fields the architecture fills in.
#[derive(Clone, Copy, Debug, Default)]
struct Intrinsics {
    parser_recirculated: Option<usize>,
    parser_input_port: Option<usize>,
    recirculated: Option<usize>,
    timestamp: Option<usize>,
    parser_error: Option<usize>,
    input_port: Option<usize>,
}

/// A compiled program, ready to run packets.
pub struct Interpreter {
    module: Arc<Module>,
    prog: Program,
    template: Vec<u128>,
    state: Vec<u128>,
    run: Run,
    out: BitWriter,
    recirculated: Vec<u8>,
    parser: usize,
    control: usize,
    deparser: usize,
    intrinsics: Intrinsics,
}

fn role(module: &Module, role: Role) -> Result<Handle<BlockType>, InterpError> {
    module
        .pipeline
        .as_ref()
        .and_then(|p| p.blocks.iter().find(|(r, _)| *r == role).map(|(_, b)| *b))
        .ok_or_else(|| InterpError::Pipeline(format!("the pipeline has no {role:?} block")))
}

impl Interpreter {
    /// Prepares `module` (validated, with a PNA pipeline) to run. `seed` seeds `Random`.
    pub fn new(module: Arc<Module>, seed: u64) -> Result<Interpreter, InterpError> {
        if module.pipeline.is_none() {
            return Err(InterpError::Pipeline(
                "the program has no `main` package".into(),
            ));
        }
        let m: &Module = &module;
        let parser = role(m, Role::MainParser)?;
        let control = role(m, Role::MainControl)?;
        let deparser = role(m, Role::MainDeparser)?;
        let mut cc = Compiler::new(m);

        // The blocks share the slots of parameters of the same type (headers, metadata, output
        // metadata), so nothing is copied between them.
        let mut shared: Vec<(Handle<p4tc_ir::ir::Type>, usize)> = Vec::new();
        for b in [parser, control, deparser] {
            let Some(bt) = m.block_types.get(b) else {
                return Err(InterpError::Pipeline(format!("block {b:?} is missing")));
            };
            let mut used = Vec::new();
            for (i, (_, local)) in bt.body.locals.iter().take(bt.apply_params).enumerate() {
                let n = cc.t.slots(local.ty);
                if n == 0 {
                    continue;
                }
                let at = match shared
                    .iter()
                    .find(|(ty, at)| *ty == local.ty && !used.contains(at))
                {
                    Some(&(_, at)) => at,
                    None => {
                        let at = cc.alloc(n);
                        shared.push((local.ty, at));
                        at
                    }
                };
                used.push(at);
                cc.alias.insert((BodyKey::Block(b), i), at);
            }
        }
        let pidx = cc.request_block(parser);
        let cidx = cc.request_block(control);
        let didx = cc.request_block(deparser);
        cc.drain()?;

        // Intrinsic metadata fields, by the names of PNA's types and fields.
        let mut intrinsics = Intrinsics::default();
        let field_slot =
            |cc: &mut Compiler<'_>, b: Handle<BlockType>, ty_name: &str, name: &str| {
                let sc = cc.block_scope(b)?;
                let (lh, local) = sc
                    .body
                    .locals
                    .iter()
                    .find(|(_, l)| cc.m.type_name(l.ty) == ty_name)?;
                let idx = cc.t.field_names(local.ty).iter().position(|n| n == name)?;
                let base = cc.local(&sc, lh);
                Some(base + cc.t.field_offset(local.ty, idx))
            };
        let pin = "pna_main_parser_input_metadata_t";
        let cin = "pna_main_input_metadata_t";
        intrinsics.parser_recirculated = field_slot(&mut cc, parser, pin, "recirculated");
        intrinsics.parser_input_port = field_slot(&mut cc, parser, pin, "input_port");
        intrinsics.recirculated = field_slot(&mut cc, control, cin, "recirculated");
        intrinsics.timestamp = field_slot(&mut cc, control, cin, "timestamp");
        intrinsics.parser_error = field_slot(&mut cc, control, cin, "parser_error");
        intrinsics.input_port = field_slot(&mut cc, control, cin, "input_port");

        let template = std::mem::take(&mut cc.template);
        let run = Run {
            lookups: vec![LastLookup::default(); m.tables.len()],
            checksums: (0..cc.checksum_units.len())
                .map(|_| BitWriter::default())
                .collect(),
            rng: seed,
            value_sets: vec![Vec::new(); m.instances.len()],
            ..Run::default()
        };
        let prog = std::mem::take(&mut cc.prog);
        drop(cc);
        Ok(Interpreter {
            state: template.clone(),
            template,
            prog,
            run,
            out: BitWriter::default(),
            recirculated: Vec::new(),
            parser: pidx,
            control: cidx,
            deparser: didx,
            intrinsics,
            module,
        })
    }

    /// The program.
    pub fn module(&self) -> &Arc<Module> {
        &self.module
    }

    /// Sets the members of the parser value set `instance` (a `value_set<T>` over a scalar
    /// `T`): a select case on it matches a key `k` when `k & mask == value & mask` for some
    /// member. Value sets start empty. Fails for an instance that is not a value set.
    pub fn set_value_set(
        &mut self,
        instance: Handle<p4tc_ir::ir::Instance>,
        members: Vec<(u128, u128)>,
    ) -> Result<(), InterpError> {
        let is_set = self
            .module
            .instances
            .get(instance)
            .and_then(|i| self.module.types.get(i.ty))
            .is_some_and(|t| matches!(t, p4tc_ir::ir::Type::Set(_)));
        match self.run.value_sets.get_mut(instance.index()) {
            Some(set) if is_set => {
                *set = members;
                Ok(())
            }
            _ => Err(InterpError::Pipeline(format!(
                "instance {instance:?} is not a parser value set"
            ))),
        }
    }

    /// Slots in the state vector (for diagnostics and sizing).
    pub fn state_slots(&self) -> usize {
        self.template.len()
    }

    /// Runs one packet that arrived on `input_port`.
    pub fn process(
        &mut self,
        datapath: &mut dyn Datapath,
        packet: &[u8],
        input_port: u32,
    ) -> Outcome<'_> {
        datapath.expire();
        let Interpreter {
            prog,
            template,
            state,
            run,
            out,
            recirculated,
            parser,
            control,
            deparser,
            intrinsics,
            ..
        } = self;
        let mut input: Vec<u8> = Vec::new();
        let mut pass = 0;
        let (verdict, parser_error) = loop {
            let pkt: &[u8] = if pass == 0 { packet } else { &input };
            state.copy_from_slice(template);
            run.drop = false;
            run.egress = 0;
            run.recirculate = false;
            run.trap = None;
            run.exit = false;
            run.table = None;
            run.packet_len = pkt.len() as u64;
            run.skb = ctx::Skb {
                protocol: match pkt.get(12..14) {
                    Some(&[a, b]) => u16::from_be_bytes([a, b]),
                    _ => 0,
                },
                ..ctx::Skb::default()
            };
            for l in &mut run.lookups {
                l.entry = None;
            }
            for c in &mut run.checksums {
                c.clear();
            }
            let now = datapath.now();
            let mut set = |slot: Option<usize>, v: u128| {
                if let Some(s) = slot.and_then(|s| state.get_mut(s)) {
                    *s = v;
                }
            };
            let recirc = u128::from(pass > 0);
            set(intrinsics.parser_recirculated, recirc);
            set(intrinsics.parser_input_port, u128::from(input_port));
            set(intrinsics.recirculated, recirc);
            set(intrinsics.input_port, u128::from(input_port));
            set(intrinsics.timestamp, now.as_nanos() & u128::from(u64::MAX));
            out.clear();
            let mut c = Ctx {
                s: state,
                pkt,
                pos: 0,
                out,
                dp: &mut *datapath,
                run,
                prog,
            };
            // Parser.
            let mut error = None;
            if let Some(BlockCode::Parser(code)) = prog.blocks.get(*parser).and_then(Option::as_ref)
            {
                if let Err(e) = parser::run_parser(&mut c, code) {
                    if e == prog.errors.no_error {
                        break (Verdict::Drop, None);
                    }
                    error = Some(e);
                    if let Some(s) = intrinsics.parser_error {
                        c.s[s] = u128::from(e);
                    }
                }
            }
            c.run.trap = None;
            // Control.
            if let Some(BlockCode::Control(stmts)) =
                prog.blocks.get(*control).and_then(Option::as_ref)
            {
                run_block(&mut c, stmts);
            }
            c.run.exit = false;
            c.run.trap = None;
            // Deparser, then the payload the parser did not consume.
            if let Some(BlockCode::Control(stmts)) =
                prog.blocks.get(*deparser).and_then(Option::as_ref)
            {
                run_block(&mut c, stmts);
            }
            let consumed = c.pos.div_ceil(8);
            let payload = pkt.get(consumed..).unwrap_or_default();
            if c.out.bits % 8 == 0 {
                c.out.bytes.extend_from_slice(payload);
            } else {
                for &b in payload {
                    c.out.put(u128::from(b), 8);
                }
            }
            let (drop, egress, again) = (c.run.drop, c.run.egress, c.run.recirculate);
            pass += 1;
            if again && !drop && pass < MAX_PASSES {
                recirculated.clear();
                recirculated.extend_from_slice(&c.out.bytes);
                std::mem::swap(&mut input, recirculated);
                continue;
            }
            let verdict = if drop {
                Verdict::Drop
            } else if egress == 0 {
                Verdict::Pass
            } else {
                Verdict::Send(egress)
            };
            break (verdict, error);
        };
        if verdict == Verdict::Drop && parser_error.is_none() && out.bytes.is_empty() {
            out.clear();
        }
        Outcome {
            verdict,
            parser_error,
            packet: &out.bytes,
        }
    }
}
