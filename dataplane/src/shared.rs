//! What every worker shares (the policy, the alert queue, the clock, the actions' settings) and
//! what each is given to do (its tasks: a direction of a port pair on a queue).
use crate::alert::AlertQueue;
use crate::clock::Clock;
use crate::policy::PolicySlot;
use antidote_dpdk::{Port, RxQueue, TxQueue};
use antidote_policy::state::Network;
use antidote_wire::ethernet::Mac;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// One direction of one port pair, on one queue.
#[derive(Clone, Copy, Debug)]
pub struct Task {
    pub rx_port: Port,
    /// Index of the RX port in the profile (selects its counters).
    pub rx_index: usize,
    pub rx_queue: u16,
    pub tx_port: Port,
    pub tx_queue: u16,
    /// The RX port is a pair's `a` side (the victims' segment).
    pub from_segment: bool,
    /// The RX port's MAC (source of injected answers to broadcast queries).
    pub rx_mac: Mac,
    /// The segment the port belongs to: its pair (the lower port index of the two), the same
    /// for both directions. What is learned of the network is kept per segment.
    pub pair: u16,
    /// The RX queue and the TX queue forwarded frames go out of, as the worker polls them (their
    /// PMDs' burst functions read once: [`antidote_dpdk::queue`]).
    pub rx: RxQueue,
    pub tx: TxQueue,
}

impl Task {
    /// Queue `queue` of started port `rx_port` (index `rx_index` in the profile), forwarded
    /// out of the same queue of `tx_port`; `pair`: the pair's lower port index.
    pub fn new(rx_port: Port, rx_index: usize, queue: u16, tx_port: Port, from_segment: bool, pair: u16) -> Task {
        Task {
            rx_port,
            rx_index,
            rx_queue: queue,
            tx_port,
            tx_queue: queue,
            from_segment,
            rx_mac: Mac(rx_port.mac()),
            pair,
            rx: rx_port.rx_queue(queue),
            tx: tx_port.tx_queue(queue),
        }
    }
}

/// What every worker shares: the policy, the alert queue, the mempool, the clock.
pub struct Shared {
    pub policy: PolicySlot,
    /// What the workers learn of the network, kept across policy swaps (the policy slot's
    /// programs consult the same).
    pub network: Arc<Network>,
    pub alerts: AlertQueue,
    pub clock: Clock,
    /// Source address of injected NBT-NS answers to broadcast queries (unicast queries are
    /// answered from the server they asked).
    pub inject_from: Option<Ipv4Addr>,
    /// How long workers fold repeats of an alert ([`AlertFolds`]; 0: never).
    pub alert_fold_ms: u64,
    /// Mirror port and the TX queue base (worker w uses queue w).
    pub mirror: Option<Port>,
    /// The canary identities of the profile's pairs, and what the control side built for them
    /// (None: no pair has one).
    pub canaries: Option<Arc<crate::canary::Canaries>>,
    /// The frames carry their capture's time (`antidote replay`): workers judge by it, not by the
    /// clock ([`crate::clock::CaptureClock`]) — what a live run learned over ten minutes is
    /// learned over the capture's ten minutes, however fast it is read.
    pub capture_time: Option<antidote_dpdk::RxTimestamp>,
    /// The profile's answer budget ([`crate::flood`]).
    pub floods: crate::flood::FloodSpec,
}
