#include "shim.h"

uint16_t ad_rx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{ return rte_eth_rx_burst(port, queue, pkts, n); }
uint16_t ad_tx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{ return rte_eth_tx_burst(port, queue, pkts, n); }
struct rte_mbuf *ad_pktmbuf_alloc(struct rte_mempool *mp) { return rte_pktmbuf_alloc(mp); }
int ad_pktmbuf_alloc_bulk(struct rte_mempool *mp, struct rte_mbuf **pkts, unsigned n)
{ return rte_pktmbuf_alloc_bulk(mp, pkts, n); }
void ad_pktmbuf_free(struct rte_mbuf *m) { rte_pktmbuf_free(m); }
void ad_pktmbuf_free_bulk(struct rte_mbuf **pkts, unsigned n) { rte_pktmbuf_free_bulk(pkts, n); }
char *ad_pktmbuf_append(struct rte_mbuf *m, uint16_t len) { return rte_pktmbuf_append(m, len); }
int ad_pktmbuf_trim(struct rte_mbuf *m, uint16_t len) { return rte_pktmbuf_trim(m, len); }
int ad_errno(void) { return rte_errno; }
unsigned ad_lcore_id(void) { return rte_lcore_id(); }
int ad_rx_timestamp_field(uint64_t *flag)
{
    int bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
    *flag = bit < 0 ? 0 : (1ULL << bit);
    return bit < 0 ? -1 : rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
}
int ad_queue_fn(uint16_t port, uint16_t queue, int rx, ad_burst_fn *fn, void **data)
{
    if (port >= RTE_MAX_ETHPORTS || queue >= RTE_MAX_QUEUES_PER_PORT)
        return -1;
    struct rte_eth_fp_ops *p = &rte_eth_fp_ops[port];
    struct rte_ethdev_qdata *q = rx ? &p->rxq : &p->txq;
    *fn = rx ? p->rx_pkt_burst : (ad_burst_fn)p->tx_pkt_burst;
    *data = q->data[queue];
#ifdef RTE_ETHDEV_RXTX_CALLBACKS
    if (__atomic_load_n((void **)&q->clbk[queue], __ATOMIC_RELAXED) != NULL)
        return -1;
#endif
    return *data == NULL ? -1 : 0;
}
