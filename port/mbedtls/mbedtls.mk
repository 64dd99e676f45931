# mbedTLS 2.28 for boards with CONFIG_TLS=y: a TLS 1.2 server compiled
# from Debian's source package (scripts/fetch-sources.sh puts it in deps/)
# with fcgate's own port/mbedtls/mbedtls_config.h, for every board, the
# host included. Included by a board.mk, after BOARD_CFLAGS is set or
# before: the compile rule reads it when it runs.
#
# A board.mk adds $(MBEDTLS_CFLAGS) to what core/tls.c is compiled with and
# links $(OBJ_MBEDTLS); objects that include mbedTLS headers wait for
# $(MBEDTLS_STAMP).
MBEDTLS_DIR := deps/mbedtls
MBEDTLS_STAMP := $(MBEDTLS_DIR)/include/mbedtls/version.h
MBEDTLS_SRC := $(addprefix $(MBEDTLS_DIR)/library/, \
	aes.c asn1parse.c asn1write.c base64.c bignum.c chacha20.c chachapoly.c \
	cipher.c cipher_wrap.c constant_time.c ctr_drbg.c ecdh.c ecdsa.c ecp.c \
	ecp_curves.c entropy.c gcm.c hmac_drbg.c md.c memory_buffer_alloc.c \
	oid.c pem.c pk.c pk_wrap.c pkparse.c platform.c platform_util.c \
	poly1305.c sha256.c sha512.c ssl_ciphersuites.c ssl_msg.c ssl_srv.c \
	ssl_ticket.c ssl_tls.c x509.c x509_crt.c)
ifeq ($(CONFIG_TLS_RSA),y)
MBEDTLS_SRC += $(addprefix $(MBEDTLS_DIR)/library/, rsa.c rsa_internal.c)
endif
MBEDTLS_CFLAGS := '-DMBEDTLS_CONFIG_FILE="mbedtls_config.h"' -Iport/mbedtls \
	-I$(MBEDTLS_DIR)/include
OBJ_MBEDTLS = $(MBEDTLS_SRC:%.c=$(B)/obj/%.o)

$(MBEDTLS_STAMP):
	bash scripts/fetch-sources.sh mbedtls

# The sources come with the stamp: without this rule a fresh clone has no
# deps/mbedtls/library/*.c yet and make rejects the compile rule below.
$(MBEDTLS_SRC): | $(MBEDTLS_STAMP)
	@test -f $@ || { echo "$@: not in the fetched mbedTLS" >&2; exit 1; }

# Third-party code: the board's flags, not the project's warning set. The
# pattern is more specific than lwip.mk's deps/% rule, so make picks this
# one for mbedTLS files when both are included.
$(B)/obj/$(MBEDTLS_DIR)/%.o: $(MBEDTLS_DIR)/%.c $(B)/autoconf.h \
		port/mbedtls/mbedtls_config.h | $(MBEDTLS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -I$(B) $(BOARD_CFLAGS) $(MBEDTLS_CFLAGS) -MMD -MP -c -o $@ $<

-include $(OBJ_MBEDTLS:.o=.d)
