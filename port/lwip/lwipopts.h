/*
 * lwipopts.h - lwIP's configuration for fcgate: NO_SYS=1, raw API only,
 * IPv4 + TCP (+ UDP for DHCP when on), every pool a static array whose
 * size follows from Kconfig.
 *
 * The TCP PCB pool is sized from the slots: one per client slot and per
 * backend slot, one per connection the listener may hold waiting
 * (LISTEN_BACKLOG), and a few for connections in TIME_WAIT (lwIP reuses
 * the oldest of those when it runs out).
 */
#ifndef FCGATE_LWIPOPTS_H
#define FCGATE_LWIPOPTS_H

#include "autoconf.h"

#define NO_SYS                          1
#define LWIP_SOCKET                     0
#define LWIP_NETCONN                    0
#define LWIP_NETIF_API                  0
#define SYS_LIGHTWEIGHT_PROT            0
#define LWIP_TIMERS                     1

/* Memory: lwIP's heap and pools are static arrays, never the C heap. */
#define MEM_LIBC_MALLOC                 0
#define MEMP_MEM_MALLOC                 0
/* A preprocessor constant (init.c tests it in #if): 4 on Cortex-M3, 8 on x86-64. */
#define MEM_ALIGNMENT                   __SIZEOF_POINTER__
#define MEM_SIZE                        CONFIG_LWIP_MEM_SIZE
#define PBUF_POOL_SIZE                  CONFIG_LWIP_PBUF_POOL_SIZE
#define PBUF_POOL_BUFSIZE               LWIP_MEM_ALIGN_SIZE(TCP_MSS + 40 + PBUF_LINK_ENCAPSULATION_HLEN + PBUF_LINK_HLEN)

#ifdef CONFIG_TLS
#define FCGATE_TLS_SLOTS CONFIG_TLS_SLOTS
#define FCGATE_LISTENERS 2
#else
#define FCGATE_TLS_SLOTS 0
#define FCGATE_LISTENERS 1
#endif
#define FCGATE_CLIENT_SLOTS (CONFIG_CLIENT_SLOTS + FCGATE_TLS_SLOTS)
#define MEMP_NUM_TCP_PCB                (FCGATE_CLIENT_SLOTS + CONFIG_BACKEND_SLOTS + \
					 FCGATE_LISTENERS * CONFIG_LISTEN_BACKLOG + \
					 CONFIG_LWIP_TIME_WAIT_PCBS)
#define MEMP_NUM_TCP_PCB_LISTEN         FCGATE_LISTENERS
#define MEMP_NUM_TCP_SEG                CONFIG_LWIP_TCP_SEGS
#define MEMP_NUM_REASSDATA              0
#define MEMP_NUM_FRAG_PBUF              0
#define MEMP_NUM_ARP_QUEUE              4
#define MEMP_NUM_PBUF                   4
#define MEMP_NUM_SYS_TIMEOUT            (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 1)

/*
 * Data a slot has not read yet stays in pool buffers, up to a receive
 * window per connection; port/lwip packs small segments together, so a
 * connection pins at most about TCP_WND_MSS buffers. If every connection
 * that can exist at once may fill its window and a few buffers remain for
 * ACKs, no connection can starve another of ACKs (a stall that lasts until
 * timeouts fire).
 */
#define FCGATE_LWIP_CONNS (FCGATE_CLIENT_SLOTS + FCGATE_LISTENERS * CONFIG_LISTEN_BACKLOG + \
			   CONFIG_BACKEND_SLOTS)
#if PBUF_POOL_SIZE < FCGATE_LWIP_CONNS * CONFIG_LWIP_TCP_WND_MSS + 4
#error "LWIP_PBUF_POOL_SIZE must be at least (CLIENT_SLOTS + TLS_SLOTS + LISTEN_BACKLOG x listeners + BACKEND_SLOTS) x LWIP_TCP_WND_MSS + 4"
#endif

/* Protocols: IPv4, TCP, ARP; UDP only for DHCP. */
#define LWIP_IPV4                       1
#define LWIP_IPV6                       0
#define LWIP_ARP                        1
#define ARP_TABLE_SIZE                  4
#define ARP_QUEUEING                    1
#define LWIP_ICMP                       1
#define LWIP_RAW                        0
#define LWIP_IGMP                       0
#define LWIP_DNS                        0
#define LWIP_AUTOIP                     0
#define IP_REASSEMBLY                   0
#define IP_FRAG                         0
#ifdef CONFIG_NET_DHCP
#define LWIP_DHCP                       1
#define LWIP_UDP                        1
#define MEMP_NUM_UDP_PCB                1
#else
#define LWIP_DHCP                       0
#define LWIP_UDP                        0
#endif

/* TCP. */
#define LWIP_TCP                        1
#define TCP_MSS                         CONFIG_LWIP_TCP_MSS
#define TCP_WND                         (CONFIG_LWIP_TCP_WND_MSS * TCP_MSS)
#define TCP_SND_BUF                     (CONFIG_LWIP_TCP_SND_BUF_MSS * TCP_MSS)
#define TCP_SND_QUEUELEN                ((4 * TCP_SND_BUF + TCP_MSS - 1) / TCP_MSS)
#define TCP_QUEUE_OOSEQ                 0
#define TCP_LISTEN_BACKLOG              1
#define TCP_DEFAULT_LISTEN_BACKLOG      CONFIG_LISTEN_BACKLOG
#define LWIP_TCP_KEEPALIVE              0
#define TCP_OVERSIZE                    TCP_MSS
#define LWIP_TCP_TIMESTAMPS             0
#define LWIP_CALLBACK_API               1
#define LWIP_EVENT_API                  0

/* Interface. */
#define LWIP_NETIF_STATUS_CALLBACK      0
#define LWIP_NETIF_LINK_CALLBACK        0
#define LWIP_SINGLE_NETIF               1
#define LWIP_NETIF_HOSTNAME             0
#define ETH_PAD_SIZE                    0

/* Checksums in software both ways (neither NIC offloads them). */
#define CHECKSUM_GEN_IP                 1
#define CHECKSUM_GEN_TCP                1
#define CHECKSUM_CHECK_IP               1
#define CHECKSUM_CHECK_TCP              1

/* No statistics, no debug output: size matters more. */
#define LWIP_STATS                      0
/* LWIP_DEBUG stays undefined: lwIP tests it with #ifdef. */
#define LWIP_NOASSERT_ON_ERROR          1
#ifndef CONFIG_LWIP_ASSERTS
#define LWIP_NOASSERT
#endif

#endif
