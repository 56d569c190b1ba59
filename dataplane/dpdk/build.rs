//! Binds Debian's DPDK 22.11 LTS: link lines from pkg-config, types and functions from bindgen
//! (tight allowlist), and a C shim for the `static inline` fast-path functions.
use std::{env, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=shim/shim.h");
    println!("cargo:rerun-if-changed=shim/shim.c");
    // DPDK is linked into the executable (`static`, the default) or loaded from Debian's shared
    // libraries and driver plugins (`ANTIDOTE_DPDK_LINK=shared`). Linked in, the PMDs' per-frame
    // calls into the mempool and EAL are direct and their per-lcore variables are read at a
    // fixed offset from the thread pointer, without `__tls_get_addr` or the PLT: ~8 % more
    // frames a second on the bench (bench/RESULTS.md, session 26).
    println!("cargo:rerun-if-env-changed=ANTIDOTE_DPDK_LINK");
    let link = env::var("ANTIDOTE_DPDK_LINK").unwrap_or_else(|_| "static".into());
    let statik = match link.as_str() {
        "static" => true,
        "shared" => false,
        other => panic!("ANTIDOTE_DPDK_LINK={other}: say `static` (the default: DPDK linked in) or `shared` (Debian's shared libraries)"),
    };
    let lib = pkg_config::Config::new()
        .atleast_version("22.11")
        .cargo_metadata(!statik)
        .probe("libdpdk")
        .unwrap_or_else(|e| panic!("libdpdk >= 22.11 not found by pkg-config ({e}); run scripts/setup.sh (it installs libdpdk-dev)"));
    if statik {
        link_static();
    }

    // pkg-config's `-include rte_config.h -march=corei7` are not passed on by the crate: add them.
    let mut extra: Vec<String> = Vec::new();
    let out = std::process::Command::new("pkg-config").args(["--cflags-only-other", "libdpdk"]).output().expect("pkg-config runs");
    let flags = String::from_utf8_lossy(&out.stdout).to_string();
    let mut it = flags.split_whitespace();
    while let Some(f) = it.next() {
        if f == "-include" {
            if let Some(h) = it.next() {
                extra.push("-include".into());
                extra.push(h.into());
            }
        } else {
            extra.push(f.into());
        }
    }
    let includes: Vec<String> = lib.include_paths.iter().map(|p| format!("-I{}", p.display())).collect();

    let mut cc = cc::Build::new();
    cc.file("shim/shim.c").opt_level(3).warnings(false);
    // The shim is linked into executables only, and DPDK's libraries are loaded with them: their
    // per-lcore variables (`rte_lcore_id()` in every mempool get and put) are read at a fixed
    // offset from the thread pointer, as testpmd reads them, not through `__tls_get_addr`. (So
    // do the PMDs' own, once DPDK is linked in; in the `shared` link they go through it, as
    // Debian's testpmd's do.)
    cc.flag("-ftls-model=initial-exec");
    for p in &lib.include_paths {
        cc.include(p);
    }
    for f in &extra {
        cc.flag(f);
    }
    cc.compile("antidote_dpdk_shim");

    let bindings = bindgen::Builder::default()
        .header("shim/shim.h")
        .clang_args(&includes)
        .clang_args(&extra)
        .allowlist_function("ad_.*")
        .allowlist_function("rte_eal_(init|cleanup|remote_launch|wait_lcore|mp_wait_lcore|get_main_lcore|process_type)")
        .allowlist_function("rte_lcore_(count|is_enabled)")
        .allowlist_function("rte_get_(next|main)_lcore")
        .allowlist_function("rte_socket_id")
        .allowlist_function("rte_strerror")
        .allowlist_function("rte_eth_(dev_configure|dev_start|dev_stop|dev_close|dev_count_avail|dev_get_port_by_name|dev_info_get|dev_socket_id|macaddr_get|link_get_nowait|stats_get|stats_reset|promiscuous_enable|allmulticast_enable|rx_queue_setup|tx_queue_setup|dev_adjust_nb_rx_tx_desc|dev_is_valid_port|find_next_owned_by|dev_get_name_by_port|dev_set_link_up|dev_set_link_down|dev_set_mtu|dev_get_mtu)")
        .allowlist_function("rte_pktmbuf_(pool_create|copy)")
        .allowlist_function("rte_mempool_(free|avail_count|in_use_count)")
        .allowlist_function("rte_dev_probe")
        .allowlist_type("rte_eth_(conf|dev_info|stats|link|rxconf|txconf)")
        .allowlist_type("rte_ether_addr")
        .allowlist_var("RTE_ETH_.*")
        .allowlist_var("RTE_MAX_(ETHPORTS|LCORE)")
        .allowlist_var("RTE_PKTMBUF_HEADROOM")
        .allowlist_var("RTE_MBUF_DEFAULT_BUF_SIZE")
        .allowlist_var("RTE_MBUF_DEFAULT_DATAROOM")
        .opaque_type("rte_arp_.*")
        .opaque_type("rte_l2tpv2_.*")
        .opaque_type("rte_gtp_.*")
        .layout_tests(false)
        .derive_default(true)
        .generate_comments(false)
        .generate()
        .expect("bindgen could not read DPDK's headers: is libclang-dev installed? (scripts/setup.sh)");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    bindings.write_to_file(out.join("bindings.rs")).expect("write bindings");
}

/// DPDK linked into the executable as DPDK's own guide links an application statically
/// (`pkg-config --static --libs libdpdk`): every DPDK library and driver whole (the drivers
/// register themselves from constructors, so every PMD Debian builds is in: vdevs and NICs
/// alike), and the system libraries they use as shared libraries.
fn link_static() {
    let pc = |args: &[&str]| {
        let out = std::process::Command::new("pkg-config").args(args).output().expect("pkg-config runs");
        assert!(out.status.success(), "pkg-config {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let libdir = pc(&["--variable=libdir", "libdpdk"]);
    assert!(
        std::path::Path::new(&format!("{libdir}/librte_eal.a")).exists(),
        "{libdir}/librte_eal.a missing: DPDK's static libraries come with libdpdk-dev (scripts/setup.sh); or build with ANTIDOTE_DPDK_LINK=shared"
    );
    let flags = pc(&["--static", "--libs", "libdpdk"]);
    println!("cargo:rustc-link-search=native={libdir}");
    let mut seen = std::collections::HashSet::new();
    for f in flags.split_whitespace() {
        if let Some(a) = f.strip_prefix("-l:lib").and_then(|a| a.strip_suffix(".a")) {
            if seen.insert(a.to_string()) {
                println!("cargo:rustc-link-lib=static:+whole-archive,-bundle={a}");
            }
        }
    }
    // The system libraries, shared. (The list also names the shared DPDK libraries, for a link
    // that falls back to them: not wanted here; and libraries that only the static builds of
    // libpcap or dbus need, such as libsystemd, whose development links may be absent.)
    for f in flags.split_whitespace() {
        if let Some(l) = f.strip_prefix("-l") {
            if l.starts_with(':') || l.starts_with("rte_") || !seen.insert(l.to_string()) {
                continue;
            }
            // (libatomic lies in the compiler's own directory, which cc searches.)
            if l == "atomic" || std::path::Path::new(&format!("{libdir}/lib{l}.so")).exists() {
                println!("cargo:rustc-link-lib=dylib={l}");
            }
        }
    }
}
