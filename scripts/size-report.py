#!/usr/bin/python3
"""Flash and RAM of a firmware image, split by component.

usage: size-report.py IMAGE.elf IMAGE.map AUTOCONF.H [NM] [FLASH_GOAL RAM_GOAL]

Reads the GNU ld map file: every input section that was kept, with its
size and the object (or archive member) it came from. Flash is what sits
at load addresses in flash (.text, .rodata, the initial values of .data);
RAM is .data, .bss and the stack. Prints a markdown table, the cost of one
client slot and one backend slot, and lwIP's pools.
"""
import re
import subprocess
import sys

RAM_BASE = 0x20000000

COMPONENTS = ["core", "routes", "ROM fs files", "TLS cert+key", "port", "board", "lwIP",
              "mbedTLS", "libc", "other"]


def component(path):
    if "/obj/core/" in path:
        return "core"
    if path.endswith("/obj/routes.o"):
        return "routes"
    if path.endswith("/obj/romfs_data.o"):
        return "ROM fs files"
    if path.endswith("/obj/tls_cert.o"):
        return "TLS cert+key"
    if "/obj/port/" in path:
        return "port"
    if "/obj/boards/" in path:
        return "board"
    if "/deps/lwip/" in path:
        return "lwIP"
    if "/deps/mbedtls/" in path:
        return "mbedTLS"
    if re.search(r"lib(c|c_nano|g|g_nano|gcc|nosys|m)\.a\(", path):
        return "libc"
    return "other"


def parse_map(path):
    """Yield (output section, is_load_in_flash, addr, size, object)."""
    text = open(path).read()
    start = text.find("Linker script and memory map")
    lines = text[start:].splitlines()
    out_sec, out_vma, out_lma = None, 0, 0
    pending = None
    for line in lines:
        m = re.match(r"^(\.\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)(?:\s+load address 0x([0-9a-f]+))?", line)
        if m:
            out_sec, out_vma = m.group(1), int(m.group(2), 16)
            out_lma = int(m.group(4), 16) if m.group(4) else out_vma
            continue
        m = re.match(r"^(\.\S+)\s*$", line)
        if m:       # an output section name alone on its line
            out_sec, out_vma, out_lma = m.group(1), 0, 0
            pending = "out"
            continue
        if pending == "out":
            m = re.match(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)(?:\s+load address 0x([0-9a-f]+))?", line)
            pending = None
            if m:
                out_vma = int(m.group(1), 16)
                out_lma = int(m.group(3), 16) if m.group(3) else out_vma
                continue
        m = re.match(r"^ (\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", line)
        if not m:
            m2 = re.match(r"^ (\.\S+|COMMON)\s*$", line)
            if m2:
                pending = m2.group(1)
            elif pending and pending != "out":
                m3 = re.match(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", line)
                if m3:
                    yield out_sec, out_vma, out_lma, int(m3.group(2), 16), m3.group(3)
                pending = None
            continue
        pending = None
        if m.group(1) == "*fill*":
            continue
        yield out_sec, out_vma, out_lma, int(m.group(3), 16), m.group(4)


def config_value(autoconf, name):
    m = re.search(r"#define CONFIG_%s (\d+)" % name, open(autoconf).read())
    return int(m.group(1)) if m else 0


def symbol_sizes(elf, nm):
    sizes = {}
    out = subprocess.run([nm, "-S", elf], capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 4:
            sizes[f[3]] = int(f[1], 16)
    return sizes


def main():
    elf, mapfile, autoconf = sys.argv[1:4]
    nm = sys.argv[4] if len(sys.argv) > 4 else "arm-none-eabi-nm"
    goals = [int(v) for v in sys.argv[5:7]]
    flash = dict.fromkeys(COMPONENTS, 0)
    ram = dict.fromkeys(COMPONENTS, 0)
    stack = 0
    for sec, vma, lma, size, obj in parse_map(mapfile):
        if size == 0 or sec is None or sec.startswith((".debug", ".comment", ".ARM.attributes")):
            continue
        comp = component(obj)
        if sec == ".stack" or "stack" in obj:
            stack += size
            continue
        if vma < RAM_BASE:
            flash[comp] += size
        else:
            ram[comp] += size
            if sec.startswith(".data") and lma < RAM_BASE:  # initial values, in flash
                flash[comp] += size
    syms = symbol_sizes(elf, nm)
    if stack == 0:
        stack = config_value(autoconf, "BOARD_STACK_SIZE")
    tot_f, tot_r = sum(flash.values()), sum(ram.values()) + stack
    print("| component | flash (bytes) | RAM (bytes) |")
    print("|---|---:|---:|")
    for c in COMPONENTS:
        if flash[c] or ram[c]:
            print("| %s | %d | %d |" % (c, flash[c], ram[c]))
    print("| stack | | %d |" % stack)
    print("| **total** | **%d (%.1f KiB)** | **%d (%.1f KiB)** |" % (tot_f, tot_f / 1024, tot_r, tot_r / 1024))
    for what, used, goal in zip(("flash", "RAM"), (tot_f, tot_r), goals):
        print("goal: %s under %d KiB: %s (%d bytes %s)" % (
            what, goal // 1024, "met" if used < goal else "NOT MET",
            abs(goal - used), "spare" if used < goal else "over"))
    cs, bs = config_value(autoconf, "CLIENT_SLOTS"), config_value(autoconf, "BACKEND_SLOTS")
    cs += config_value(autoconf, "TLS_SLOTS")   # TLS slots are client slots too
    if cs and "gw_clients" in syms:
        print("\none client slot: %d bytes (x %d); one backend slot: %d bytes (x %d)"
              % (syms["gw_clients"] // cs, cs, syms.get("gw_backends", 0) // max(bs, 1), bs))
    if "tls_arena" in syms:
        print("TLS: arena %d bytes, %d TLS slots" % (syms["tls_arena"], config_value(autoconf, "TLS_SLOTS")))
    pools = sorted((v, k) for k, v in syms.items() if k.startswith(("memp_memory_", "ram_heap")))
    if pools:
        print("lwIP pools: " + ", ".join("%s %d" % (k, v) for v, k in reversed(pools)))


if __name__ == "__main__":
    main()
