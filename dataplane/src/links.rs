//! The pairs' data links, as the control thread looks at them every 100 ms: a change is said at
//! once and counted; and where a pair's `link_propagation` is on (the default for PCI ports), a
//! link lost on one side is taken down on the other — as a cable would be — so that the switch
//! on that side sees the failure and fails over to another path instead of sending into a cut
//! wire. When the lost link comes back, the other side is brought up again.
//!
//! `net_af_packet` reports its link up whatever its interface does: its kernel interface's
//! carrier is read, and its interface set down and up, instead.
use antidote_dpdk::Port;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// Sets a port's link up or down: by its driver, or else (`net_af_packet`) its kernel
/// interface.
pub(crate) fn set_link(p: Port, iface: Option<&str>, up: bool) -> Result<(), String> {
    match (p.set_link(up), iface) {
        (Ok(()), _) => Ok(()),
        (Err(_), Some(i)) => antidote_dpdk::process::set_interface_up(i, up),
        (Err(e), None) => Err(e),
    }
}

/// The MTUs set on the kernel interfaces under `net_af_packet` ports (whose driver reports a
/// 1518-byte frame limit to DPDK and carries whatever its interface and ring frames do): each
/// interface's own MTU is put back when the guard is dropped, however the run ends.
#[derive(Default)]
pub(crate) struct KernelMtus(Vec<(String, String)>);

impl KernelMtus {
    /// Sets interface `iface`'s MTU (`/sys/class/net/<iface>/mtu`).
    pub(crate) fn set(&mut self, iface: &str, mtu: u16) -> Result<(), String> {
        let path = format!("/sys/class/net/{iface}/mtu");
        let old = std::fs::read_to_string(&path).map_err(|e| format!("interface {iface}: {path}: {e}"))?.trim().to_string();
        if old == mtu.to_string() {
            return Ok(());
        }
        std::fs::write(&path, mtu.to_string()).map_err(|e| format!("interface {iface}: setting its MTU to {mtu}: {e}"))?;
        self.0.push((path, old));
        Ok(())
    }
}

impl Drop for KernelMtus {
    fn drop(&mut self) {
        for (path, old) in self.0.drain(..).rev() {
            let _ = std::fs::write(&path, old);
        }
    }
}

/// Whether a port's link is up: its driver's word, or (`net_af_packet`) its interface's carrier.
fn link_up(port: Port, iface: Option<&str>) -> bool {
    match iface {
        Some(ifc) => std::fs::read_to_string(format!("/sys/class/net/{ifc}/carrier")).is_ok_and(|c| c.trim() == "1"),
        None => port.link().up,
    }
}

/// One port as the watch sees it.
struct Watched {
    port: Port,
    iface: Option<String>,
    name: String,
    peer: Option<usize>,
    /// Its link's loss is propagated to its peer.
    propagate: bool,
    /// Up at the last look.
    up: bool,
    /// Taken down by the watch (its peer lost its link), not by the wire.
    forced: bool,
}

pub struct LinkWatch {
    ports: Vec<Watched>,
    /// Per port: times its link went down (shared with the API and the lines).
    pub downs: Arc<Vec<AtomicU64>>,
    /// Per port: up at the last look (shared with the API).
    pub shown: Arc<Vec<AtomicBool>>,
}

impl LinkWatch {
    /// `ports[i]`: the port, its kernel interface (net_af_packet), its name, its peer in a pair
    /// (None: not paired, e.g. the mirror port) and whether its pair propagates link loss.
    pub fn new(ports: Vec<(Port, Option<String>, String, Option<usize>, bool)>) -> LinkWatch {
        let ports: Vec<Watched> = ports
            .into_iter()
            .map(|(port, iface, name, peer, propagate)| {
                let up = link_up(port, iface.as_deref());
                Watched { port, iface, name, peer, propagate, up, forced: false }
            })
            .collect();
        LinkWatch {
            downs: Arc::new(ports.iter().map(|_| AtomicU64::new(0)).collect()),
            shown: Arc::new(ports.iter().map(|p| AtomicBool::new(p.up)).collect()),
            ports,
        }
    }

    /// Whether port `i`'s link is up now.
    pub fn link_of(&self, i: usize) -> bool {
        link_up(self.ports[i].port, self.ports[i].iface.as_deref())
    }

    /// Per port: whether its link was down at the last look (paired ports only).
    pub fn down(&self) -> Vec<bool> {
        self.ports.iter().map(|p| p.peer.is_some() && !p.up).collect()
    }

    /// Looks at every paired port's link; `say` is told of each change (`elapsed_s`: since the
    /// run started).
    pub fn look(&mut self, elapsed_s: f64, say: &mut dyn FnMut(String)) {
        for i in 0..self.ports.len() {
            if self.ports[i].peer.is_none() || self.ports[i].forced {
                // (A port the watch took down is down by its doing: its peer decides.)
                continue;
            }
            let up = self.link_of(i);
            if up == self.ports[i].up {
                continue;
            }
            self.ports[i].up = up;
            self.shown[i].store(up, Relaxed);
            if !up {
                self.downs[i].fetch_add(1, Relaxed);
            }
            say(format!("port {} link {} ({elapsed_s:.1}s)", self.ports[i].name, if up { "up again" } else { "DOWN" }));
            let Some(j) = self.ports[i].peer.filter(|_| self.ports[i].propagate) else { continue };
            let (name, peer) = (self.ports[i].name.clone(), &mut self.ports[j]);
            if !up && !peer.forced && peer.up {
                match set_link(peer.port, peer.iface.as_deref(), false) {
                    Ok(()) => {
                        peer.forced = true;
                        self.shown[j].store(false, Relaxed);
                        say(format!("port {} link taken down: its pair's port {name} lost its link (link_propagation)", peer.name));
                    }
                    Err(e) => say(format!("port {}: cannot take its link down ({e})", peer.name)),
                }
            } else if up && peer.forced {
                match set_link(peer.port, peer.iface.as_deref(), true) {
                    Ok(()) => {
                        peer.forced = false;
                        self.shown[j].store(peer.up, Relaxed);
                        say(format!("port {} link brought up again: port {name} is back", peer.name));
                    }
                    Err(e) => say(format!("port {}: cannot bring its link up ({e})", peer.name)),
                }
            }
        }
    }

    /// The run ends: the links the watch took down are brought up again.
    pub fn release(&mut self) {
        for p in self.ports.iter_mut().filter(|p| p.forced) {
            let _ = set_link(p.port, p.iface.as_deref(), true);
            p.forced = false;
        }
    }
}
