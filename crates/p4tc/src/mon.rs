//! `p4tc mon`: a loaded pipeline's events as they happen (P4TC's `tc mon p4 events`).

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use p4tc_ebpf::{loader, MapRole};
use p4tc_runtime::ctl;
use p4tc_runtime::{Aging, Event, EventKind, ObjectModel as _};

use crate::state;

/// Print a loaded pipeline's events as they happen, until interrupted (Ctrl-C).
///
/// One line per event, as it happens: entries created, updated or deleted, with who did it
/// (`by datapath`: the program's add_entry, and set_entry_expire_time moving an entry to
/// another timer profile; `by timer`: the aging sweep; `by control plane`: changes a control
/// plane process published into the pipeline's event ring), with the entry's key, action and
/// timer profile; and digests the program sends, with their fields. Only entries whose
/// permissions have a publish bit (P) are reported, as in P4TC. Without PIPELINE, every
/// loaded pipeline is watched.
///
/// `-j` prints objects with `event` (create, update, delete, digest), `by`, `table`, `key`,
/// `action`, `aging_profile`, `at_ms` and `pipeline`; digests have `instance`, `fields` and
/// `payload`. Events wait in the kernel until read (up to the ring's size), so none is missed
/// between two runs; but run one mon per pipeline at a time: two would split the events.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  p4tc mon simple_l3\n  p4tc mon stateful_firewall -j | jq -c 'select(.by == \"datapath\")'   # learned flows\n  p4tc mon -j | jq -c 'select(.event == \"digest\")'\n  p4tc mon simple_l3 --count 1     # wait for one event"
)]
pub struct MonArgs {
    /// Only this pipeline.
    pipeline: Option<String>,
    /// Print one JSON object a line (with the pipeline's name).
    #[arg(short = 'j', long)]
    json: bool,
    /// Exit after N events.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// How often to look for events, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5)]
    interval: u64,
}

struct Watched {
    opened: crate::ctl::Opened,
    digests: Vec<(
        p4tc_ir::arena::Handle<p4tc_ir::ir::Instance>,
        p4tc_ebpf::sys::RingReader,
    )>,
}

fn watch(name: &str) -> anyhow::Result<Watched> {
    let opened = crate::ctl::open(name)?;
    let pin_dir = state::pin_dir(name);
    let mut digests = Vec::new();
    for spec in &opened.generated.maps {
        if spec.role != MapRole::Digest {
            continue;
        }
        let Some(instance) = spec.instance else {
            continue;
        };
        let path = pin_dir.join(&spec.name);
        let fd = loader::open_pinned_map(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        let ring = p4tc_ebpf::sys::RingReader::new(fd)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        digests.push((instance, ring));
    }
    Ok(Watched { opened, digests })
}

/// How an entry event's entry ages (None: a static entry, or a digest).
fn aging_of(event: &Event) -> Option<Aging> {
    match &event.kind {
        EventKind::EntryCreated { entry, .. }
        | EventKind::EntryUpdated { entry, .. }
        | EventKind::EntryDeleted { entry, .. } => entry.aging,
        EventKind::Digest { .. } => None,
    }
}

pub fn run(args: MonArgs) -> anyhow::Result<ExitCode> {
    let names = match &args.pipeline {
        Some(name) => vec![name.clone()],
        None => state::pipelines(),
    };
    if names.is_empty() {
        anyhow::bail!("no pipelines are loaded (p4tc load loads one)");
    }
    let mut watched = Vec::new();
    for name in &names {
        watched.push(watch(name)?);
    }
    // SIGINT and SIGTERM end the loop; the exit is then a success.
    let stop = p4tc_ebpf::sys::catch_interrupts();
    let mut out = std::io::stdout().lock();
    let mut seen = 0u64;
    let interval = Duration::from_millis(args.interval.max(1));
    while !stop.load(Ordering::Relaxed) {
        for w in &mut watched {
            let mut events = w.opened.backend.take_events();
            for (instance, ring) in &mut w.digests {
                for item in ring.drain() {
                    events.push(Event {
                        at: Duration::from_nanos(p4tc_ebpf::sys::monotonic_ns()),
                        kind: EventKind::Digest {
                            instance: *instance,
                            payload: item,
                        },
                    });
                }
            }
            events.sort_by_key(|e| e.at);
            for event in &events {
                let view = ctl::event_view(&w.opened.model, event);
                let aging = aging_of(event);
                if args.json {
                    let mut value = view.to_json();
                    if let Some(obj) = value.as_object_mut() {
                        obj.insert(
                            "pipeline".into(),
                            serde_json::Value::String(w.opened.state.pipeline.clone()),
                        );
                        // Named as in `p4tc ctl -j get`'s entries.
                        match aging {
                            Some(Aging::Profile(p)) => {
                                obj.insert("aging_profile".into(), p.into());
                            }
                            Some(Aging::After(d)) => {
                                let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
                                obj.insert("aging_ms".into(), ms.into());
                            }
                            None => {}
                        }
                    }
                    writeln!(out, "{value}")?;
                } else {
                    if names.len() > 1 {
                        write!(out, "{}: ", w.opened.state.pipeline)?;
                    }
                    // The entry's aging in the command language's words.
                    match aging {
                        Some(Aging::Profile(p)) => writeln!(out, "{view} profile_id {p}")?,
                        Some(Aging::After(d)) => writeln!(out, "{view} aging {}", d.as_millis())?,
                        None => writeln!(out, "{view}")?,
                    }
                }
                out.flush()?;
                seen += 1;
                if args.count.is_some_and(|n| seen >= n) {
                    return Ok(ExitCode::SUCCESS);
                }
            }
        }
        std::thread::sleep(interval);
    }
    Ok(ExitCode::SUCCESS)
}
