//! The loader: simple_l3 loaded with its entries, its maps pinned on bpffs, and attached to a
//! dummy interface at TC ingress, TC egress and XDP.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::os::fd::AsFd;
use std::path::Path;
use std::process::Command;

use p4tc_ebpf::{loader, sys, Hook};

/// A dummy interface that is deleted on drop.
struct Dummy(String);

impl Dummy {
    fn new(name: &str) -> Option<Dummy> {
        let _ = Command::new("ip").args(["link", "del", name]).output();
        let run = |args: &[&str]| {
            Command::new("ip")
                .args(args)
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        // A dummy device, or a veth pair where the dummy driver is missing.
        let peer = format!("{name}p");
        let ok = (run(&["link", "add", name, "type", "dummy"])
            || run(&["link", "add", name, "type", "veth", "peer", "name", &peer]))
            && Command::new("ip")
                .args(["link", "set", name, "up"])
                .status()
                .is_ok_and(|s| s.success());
        ok.then(|| Dummy(name.into()))
    }
}

impl Drop for Dummy {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.0]).output();
    }
}

#[test]
fn simple_l3_loads_pins_and_attaches() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let path = common::examples_dir().join("simple_l3/simple_l3.p4");
    let module = common::module_of(&path);
    let Some(dummy) = Dummy::new("p4tcebpf0") else {
        println!("skipped: cannot create a dummy or veth interface (ip link add)");
        return;
    };
    for hook in [Hook::Tc, Hook::Xdp] {
        let (g, bytes) = common::build("simple_l3", &module, hook, "attach").expect("build");
        let mut loaded = loader::load(&bytes, &g).expect("load");
        // The const default action is in place.
        let table = g.table("nh_table").expect("table");
        let defaults = loaded.map_fd(&table.defaults_map).expect("defaults map");
        let miss = sys::map_lookup(
            defaults.as_fd(),
            &p4tc_ebpf::entry::DEFAULT_MISS.to_ne_bytes(),
        )
        .expect("lookup");
        let head = table.value.decode_head(&miss).expect("head");
        assert_eq!(head.flags & p4tc_ebpf::entry::FLAG_HAS_ACTION, 1);
        // Pinned maps, when bpffs is there.
        let bpffs = Path::new("/sys/fs/bpf");
        if !is_bpffs(bpffs) && bpffs.is_dir() {
            // As root, mount it (what `p4tc load` needs too).
            let _ = Command::new("mount")
                .args(["-t", "bpf", "bpf", "/sys/fs/bpf"])
                .status();
        }
        if is_bpffs(bpffs) {
            let dir = bpffs.join(format!("p4tc-ebpf-test-{}-{hook:?}", std::process::id()));
            loaded.pin_maps(&dir).expect("pin");
            for m in &g.maps {
                assert!(dir.join(&m.name).exists(), "{} pinned", m.name);
            }
            let _ = std::fs::remove_dir_all(&dir);
        } else {
            println!("note: /sys/fs/bpf is not a bpffs mount: pinning not tested");
        }
        // A device just created may still be settling: a few tries.
        let mut attach = |egress: bool| {
            let mut last = None;
            for _ in 0..5 {
                match loaded.attach(&dummy.0, egress) {
                    Ok(()) => return,
                    Err(e) => last = Some(e),
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            panic!(
                "{hook:?} attach (egress {egress}): {}",
                last.map(|e| e.to_string()).unwrap_or_default()
            );
        };
        attach(false);
        if hook == Hook::Tc {
            attach(true);
        }
        let show = Command::new("ip")
            .args(["-d", "link", "show", &dummy.0])
            .output()
            .expect("ip");
        println!(
            "{hook:?}: {}",
            String::from_utf8_lossy(&show.stdout)
                .lines()
                .next()
                .unwrap_or_default()
        );
        drop(loaded); // detaches
    }
}

fn is_bpffs(p: &Path) -> bool {
    std::fs::read_to_string("/proc/mounts")
        .unwrap_or_default()
        .lines()
        .any(|l| {
            l.split_whitespace().nth(1) == p.to_str() && l.split_whitespace().nth(2) == Some("bpf")
        })
}

/// What `ip -d link show` says about `dev`.
fn link_details(dev: &str) -> String {
    let out = Command::new("ip")
        .args(["-d", "link", "show", "dev", dev])
        .output()
        .expect("ip");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn persistent_attachment_outlives_the_loader() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let bpffs = Path::new("/sys/fs/bpf");
    if !is_bpffs(bpffs) {
        println!("skipped: /sys/fs/bpf is not a bpffs mount");
        return;
    }
    let path = common::examples_dir().join("simple_l3/simple_l3.p4");
    let module = common::module_of(&path);
    let Some(dummy) = Dummy::new("p4tcebpf1") else {
        println!("skipped: cannot create a dummy or veth interface (ip link add)");
        return;
    };
    let dir = bpffs.join(format!("p4tc-ebpf-persist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("pin dir");
    for (hook, point) in [
        (Hook::Xdp, loader::AttachPoint::Xdp),
        (Hook::Tc, loader::AttachPoint::TcIngress),
    ] {
        let (g, bytes) = common::build("simple_l3", &module, hook, "persist").expect("build");
        let mut loaded = loader::load(&bytes, &g).expect("load");
        let link_pin = dir.join(format!("link-{}", point.name()));
        let mut mode = None;
        // A device just created may still be settling: a few tries.
        for _ in 0..5 {
            match loaded.attach_persistent(&dummy.0, point, None, &link_pin) {
                Ok(m) => {
                    mode = Some(m);
                    break;
                }
                Err(e) => println!("{point:?}: {e}; again"),
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        let mode = mode.expect("attached");
        // The loader (program, maps, aya's link handles) goes; the attachment stays.
        drop(loaded);
        if mode.has_link() {
            assert!(link_pin.exists(), "{point:?}: link pinned");
        }
        if point == loader::AttachPoint::Xdp {
            assert!(
                link_details(&dummy.0).contains("prog/xdp"),
                "XDP still attached after the loader is gone ({mode:?}):\n{}",
                link_details(&dummy.0)
            );
        }
        if mode.has_link() {
            loader::detach_pinned_link(&link_pin).expect("detach");
            assert!(!link_pin.exists());
        } else {
            loader::detach_clsact(&dummy.0, point, None, &g.program).expect("detach");
        }
        if point == loader::AttachPoint::Xdp {
            assert!(
                !link_details(&dummy.0).contains("prog/xdp"),
                "XDP detached:\n{}",
                link_details(&dummy.0)
            );
        }
        println!("{point:?}: {mode:?}, outlived the loader, detached");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn clsact_filter_outlives_the_loader() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let tc_ok = Command::new("tc")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !tc_ok {
        println!("skipped: `tc` (iproute2) is missing: it is how the test sees the filter");
        return;
    }
    let path = common::examples_dir().join("simple_l3/simple_l3.p4");
    let module = common::module_of(&path);
    let Some(dummy) = Dummy::new("p4tcebpf2") else {
        println!("skipped: cannot create a dummy or veth interface (ip link add)");
        return;
    };
    let filters = || {
        let out = Command::new("tc")
            .args(["filter", "show", "dev", &dummy.0, "ingress"])
            .output()
            .expect("tc");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let (g, bytes) = common::build("simple_l3", &module, Hook::Tc, "clsact").expect("build");
    let mut loaded = loader::load(&bytes, &g).expect("load");
    let unused = std::env::temp_dir().join("p4tc-clsact-no-link");
    let mut mode = None;
    for _ in 0..5 {
        match loaded.attach_persistent_via(
            &dummy.0,
            loader::AttachPoint::TcIngress,
            None,
            &unused,
            true,
        ) {
            Ok(m) => {
                mode = Some(m);
                break;
            }
            Err(e) => println!("clsact: {e}; again"),
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(mode, Some(loader::AttachMode::Clsact));
    drop(loaded);
    assert!(
        filters().contains("p4tc_main"),
        "the filter stays after the loader is gone:\n{}",
        filters()
    );
    loader::detach_clsact(&dummy.0, loader::AttachPoint::TcIngress, None, &g.program)
        .expect("detach");
    assert!(!filters().contains("p4tc_main"), "{}", filters());
}

#[test]
fn a_reload_keeps_each_cpus_counter_values() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let bpffs = Path::new("/sys/fs/bpf");
    if !is_bpffs(bpffs) {
        println!("skipped: /sys/fs/bpf is not a bpffs mount");
        return;
    }
    let path = common::examples_dir().join("indirect_counters/indirect_counters.p4");
    let module = common::module_of(&path);
    let (g, bytes) =
        common::build("indirect_counters", &module, Hook::Tc, "restore").expect("build");
    let counter = g
        .maps
        .iter()
        .find(|m| m.role == p4tc_ebpf::MapRole::Counter)
        .expect("a counter map")
        .name
        .clone();
    let dir = bpffs.join(format!("p4tc-ebpf-restore-{}", std::process::id()));
    let first = loader::load(&bytes, &g).expect("load");
    first.pin_maps(&dir).expect("pin");
    let fd = first.map_fd(&counter).expect("counter fd");
    let cpus = sys::possible_cpus().expect("cpus");
    let (_, value_size) = sys::map_sizes(fd.as_fd()).expect("sizes");
    // Each CPU its own count, so a copy that summed or spread them would show.
    let values: Vec<Vec<u8>> = (0..cpus)
        .map(|c| {
            let mut v = vec![0u8; value_size as usize];
            v[0] = c as u8 + 1;
            v
        })
        .collect();
    sys::map_update_percpu(fd.as_fd(), &3u32.to_ne_bytes(), &values).expect("counts");
    drop(first);

    let second = loader::load(&bytes, &g).expect("load again");
    let copied = second.restore(&dir).expect("restore");
    assert!(copied.iter().any(|(m, _)| *m == counter), "{copied:?}");
    let fd = second.map_fd(&counter).expect("counter fd");
    let got = sys::map_lookup_percpu(fd.as_fd(), &3u32.to_ne_bytes()).expect("lookup");
    assert_eq!(got, values, "each CPU's count carried over");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_reload_keeps_aging_running() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let bpffs = Path::new("/sys/fs/bpf");
    if !is_bpffs(bpffs) {
        println!("skipped: /sys/fs/bpf is not a bpffs mount");
        return;
    }
    use p4tc_ebpf::aging;
    use p4tc_ebpf::entry::{EntryHead, FLAG_DYNAMIC, FLAG_HAS_ACTION};
    let path = common::examples_dir().join("simple_l3/simple_l3.p4");
    let module = common::module_of(&path);
    let (g, bytes) = common::build("simple_l3", &module, Hook::Tc, "reload-aging").expect("build");
    if !aging::has_aging(&g) {
        println!("skipped: simple_l3 has no aging timer");
        return;
    }
    let old_dir = bpffs.join(format!("p4tc-ebpf-reload-aging-a-{}", std::process::id()));
    let new_dir = bpffs.join(format!("p4tc-ebpf-reload-aging-b-{}", std::process::id()));
    // The first load, pinned, with a short profile 0 (which the reload must keep).
    let first = loader::load(&bytes, &g).expect("load");
    first.pin_maps(&old_dir).expect("pin");
    let profiles = first.map_fd(aging::PROFILES_MAP).expect("profiles");
    aging::set_profile(profiles.as_fd(), 0, std::time::Duration::from_millis(100))
        .expect("profile");
    drop(profiles);
    drop(first);

    // The reload as `p4tc load` does it: load (which arms the new timer), restore, pin.
    let second = loader::load(&bytes, &g).expect("reload");
    second.restore(&old_dir).expect("restore");
    let _ = std::fs::remove_dir_all(&old_dir);
    second.pin_maps(&new_dir).expect("pin");
    let table = g.table("nh_table").expect("table");
    let head = EntryHead {
        flags: FLAG_HAS_ACTION | FLAG_DYNAMIC,
        permissions: 0x1da4,
        created_ns: sys::monotonic_ns(),
        last_used_ns: sys::monotonic_ns(),
        ..EntryHead::default()
    };
    let value = table.value.encode(&head, &[]).expect("value");
    let key = table.key.encode_key(&[0x0a00_0009u32]).expect("key");
    let entries = second.map_fd(&table.map).expect("entries");
    p4tc_ebpf::table_map::insert(entries.as_fd(), table, &key, &value).expect("entry");
    drop(entries);
    // A dynamic entry written by hand: the sweep is told (it walks marked tables only).
    let table_id = p4tc_ir::introspection::introspection(&module, "simple_l3")
        .expect("introspection")
        .tables
        .iter()
        .find(|t| t.name == table.name)
        .expect("the table")
        .id;
    let marks = second.map_fd(aging::DYNAMIC_MAP).expect("marks");
    aging::mark_dynamic(marks.as_fd(), table_id).expect("mark");
    drop(marks);
    drop(second);

    // Only the pins hold the maps now; the restored 100 ms profile ages the entry out.
    let pinned = loader::open_pinned_map(&new_dir.join(&table.map)).expect("pinned");
    let start = std::time::Instant::now();
    let mut gone = false;
    while start.elapsed() < std::time::Duration::from_secs(3) {
        if p4tc_ebpf::table_map::lookup(pinned.as_fd(), table, &key).is_err() {
            gone = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    drop(pinned);
    let _ = std::fs::remove_dir_all(&new_dir);
    assert!(
        gone,
        "the entry did not age out after a reload: the timer stopped"
    );
    println!("aged out {:?} after the reload", start.elapsed());
}
