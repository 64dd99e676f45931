# lwIP 2.1.3 for boards on port/lwip: the raw-API IPv4/TCP core, compiled
# from Debian's source package (scripts/fetch-sources.sh puts it in deps/)
# with fcgate's own lwipopts.h and arch/cc.h. Included by a board.mk.
LWIP_DIR := deps/lwip/src
LWIP_STAMP := $(LWIP_DIR)/include/lwip/init.h
LWIP_SRC := $(addprefix $(LWIP_DIR)/core/, init.c def.c inet_chksum.c ip.c mem.c \
	memp.c netif.c pbuf.c tcp.c tcp_in.c tcp_out.c timeouts.c) \
	$(addprefix $(LWIP_DIR)/core/ipv4/, etharp.c icmp.c ip4.c ip4_addr.c) \
	$(LWIP_DIR)/netif/ethernet.c
ifeq ($(CONFIG_NET_DHCP),y)
LWIP_SRC += $(LWIP_DIR)/core/udp.c $(LWIP_DIR)/core/ipv4/dhcp.c
endif
LWIP_CFLAGS := -Iport/lwip -I$(LWIP_DIR)/include
OBJ_LWIP = $(LWIP_SRC:%.c=$(B)/obj/%.o)

$(LWIP_STAMP):
	bash scripts/fetch-sources.sh lwip

# The sources come with the stamp (see mbedtls.mk).
$(LWIP_SRC): | $(LWIP_STAMP)
	@test -f $@ || { echo "$@: not in the fetched lwIP" >&2; exit 1; }

# Third-party code: the board's flags, not the project's warning set.
$(B)/obj/deps/%.o: deps/%.c $(B)/autoconf.h | $(LWIP_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -I$(B) $(BOARD_CFLAGS) -MMD -MP -c -o $@ $<
