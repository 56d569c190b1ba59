/* The DPDK surface antidote uses: headers for bindgen, and non-inline wrappers
 * for DPDK's static inline functions and thread-locals (compiled in shim.c). */
#include <rte_config.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_launch.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_cycles.h>
#include <rte_mbuf_dyn.h>

uint16_t ad_rx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);
uint16_t ad_tx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);
struct rte_mbuf *ad_pktmbuf_alloc(struct rte_mempool *mp);
int ad_pktmbuf_alloc_bulk(struct rte_mempool *mp, struct rte_mbuf **pkts, unsigned n);
void ad_pktmbuf_free(struct rte_mbuf *m);
void ad_pktmbuf_free_bulk(struct rte_mbuf **pkts, unsigned n);
char *ad_pktmbuf_append(struct rte_mbuf *m, uint16_t len);
int ad_pktmbuf_trim(struct rte_mbuf *m, uint16_t len);
int ad_errno(void);
unsigned ad_lcore_id(void);
/* The RX timestamp a PMD wrote into an mbuf's dynamic field (RTE_ETH_RX_OFFLOAD_TIMESTAMP):
   the field's offset and flag, looked up once (-1 / 0 when no PMD registered them). */
int ad_rx_timestamp_field(uint64_t *flag);
/* A queue's burst function and queue pointer, as rte_eth_rx_burst / rte_eth_tx_burst read them
   from ethdev's fast-path table (rte_eth_fp_ops) on every call: read once, for a caller that
   keeps them while the port stays started. 0, or -1 when the queue has callbacks (then every
   burst must go through rte_eth_rx_burst / rte_eth_tx_burst, which call them). */
typedef uint16_t (*ad_burst_fn)(void *queue, struct rte_mbuf **pkts, uint16_t n);
int ad_queue_fn(uint16_t port, uint16_t queue, int rx, ad_burst_fn *fn, void **data);
