#!/usr/bin/env bash
# Whole-process comparison: `picket parse` against liblognorm's `lognormalizer` on the same
# generated file, both writing one JSON object per line to /dev/null, pinned to one CPU.
#
#   bench/parse_vs_lognormalizer.sh            # 1.5 M lines, CPU 1, 5 runs each
#   LINES=2000000 CPU=0 RUNS=10 bench/parse_vs_lognormalizer.sh
#
# Two inputs in the same run (CORPORA, default "mixed security"): the mixed corpus and a
# security-only file (tcpd, Snort, PortSentry, xinetd, log_in_vain; `gen_corpus ... security`).
# picket runs with `--jobs 1` pinned to CPU $CPU and with `--jobs 2` on CPUs $CPUS2 (0,1);
# lognormalizer, single-threaded, pinned to CPU $CPU.
#
# Environment: LINES (default 1500000), SEED (1), CPU (1), RUNS (5), WORK (a new temp dir;
# keeps corpus.log, the rulebases and the results there), PICKET_BIN (an already built picket
# binary to use instead of building target/release/picket), GEN_CORPUS (a built gen_corpus).
#
# Installs liblognorm-utils (and hyperfine, if it can) from Debian when missing. Falls back to
# /usr/bin/time when hyperfine is not available. Peak RSS comes from /usr/bin/time -f %M.
set -euo pipefail

LINES=${LINES:-1500000}
SEED=${SEED:-1}
CPU=${CPU:-1}
RUNS=${RUNS:-5}
CORPORA=${CORPORA:-mixed security}
CPUS2=${CPUS2:-0,1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=${WORK:-$(mktemp -d -t picket-vs-lognorm.XXXXXX)}
mkdir -p "$WORK"
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

apt_install() {
    # Install the packages, running apt-get update first only if the first try fails.
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 || {
        $SUDO apt-get update -qq >/dev/null
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    }
}

command -v lognormalizer >/dev/null || { echo "installing liblognorm-utils" >&2; apt_install liblognorm-utils; }
command -v hyperfine >/dev/null || apt_install hyperfine || echo "hyperfine unavailable: using /usr/bin/time" >&2
[ -x /usr/bin/time ] || apt_install time

echo "== building (release)" >&2
if [ -n "${GEN_CORPUS:-}" ]; then
    GEN=$GEN_CORPUS
else
    (cd "$ROOT" && cargo build --release -q -p picket-bench --bin gen_corpus)
    GEN="$TARGET/release/gen_corpus"
fi
if [ -n "${PICKET_BIN:-}" ]; then
    PICKET=$PICKET_BIN
else
    (cd "$ROOT" && cargo build --release -q -p picket --bin picket)
    PICKET="$TARGET/release/picket"
fi
for kind in $CORPORA; do
    echo "== generating $LINES $kind lines (seed $SEED) into $WORK/$kind.log" >&2
    "$GEN" "$LINES" "$WORK/$kind.log" "$SEED" "$kind"
done

# The rulebase: liblognorm v2 syntax, one rule per message shape of the eight families, behind
# user-defined header types for the header variants in the corpus (RFC 3164 with and without
# PRI, year in the stamp, ISO stamps, RFC 5424, Cisco sequence numbers). The two `syslog` rules
# at the end give every other line its header fields, as picket does; RULEBASE_NOCATCHALL drops
# them (unrelated lines then come out as liblognorm's short "unparsed-data" record).
RULEBASE="$WORK/families.rulebase"
RULEBASE_NOCATCHALL="$WORK/families-only.rulebase"
cat >"$RULEBASE" <<'EOF'
version=2
# ---- building blocks ------------------------------------------------------------------------
type=@ip:%ip:ipv4%
type=@ip:%ip:ipv6%
type=@tag:%app:char-to:[%[%pid:number%]: 
type=@tag:%app:char-to:\x3a%: 
type=@hdr:<%pri:number%>%ts:date-rfc3164% %host:word% %.:@tag%
type=@hdr:%ts:date-rfc3164% %host:word% %.:@tag%
type=@hdr:%ts:date-rfc5424% %host:word% %.:@tag%
type=@hdr:<%pri:number%>%ts:date-rfc3164% %{"name":".","type":"@tag","priority":60000}%
type=@hdr:%ts:date-rfc3164% %{"name":".","type":"@tag","priority":60000}%
type=@hdr:%ts:date-rfc5424% %{"name":".","type":"@tag","priority":60000}%
type=@hdr:<%pri:number%>1 %ts:date-rfc5424% %host:word% %app:word% %pid:word% %msgid:word% %sd:word% 
# Cisco: sequence numbers, device stamps, no tag.
type=@chdr:<%pri:number%>%seq:number%: %-:char-to:\x25%
type=@chdr:<%pri:number%>%ts:date-rfc3164% %host:word% %seq:number%: %-:char-to:\x25%
type=@chdr:<%pri:number%>%ts:date-rfc3164% %host:word% %seq:number%: 
type=@chdr:<%pri:number%>%ts:date-rfc3164% %host:word% : 
type=@chdr:<%pri:number%>%ts:date-rfc3164% %host:word% 
type=@chdr:<%pri:number%>%ts:date-rfc3164%: 
type=@chdr:<%pri:number%>%ts:date-rfc3164% 
type=@chdr:%ts:date-rfc3164% %host:word% 

# ---- tcpd -------------------------------------------------------------------------------------
rule=tcpd:%.:@hdr%refused connect from %src:@ip%
rule=tcpd:%.:@hdr%refused connect from %src_name:word%
rule=tcpd:%.:@hdr%refused connect from %src_name:word% (%src:char-to:)%)
rule=tcpd:%.:@hdr%connect from %src:@ip%
rule=tcpd:%.:@hdr%connect from %user:char-to:@%@%src:@ip%
rule=tcpd:%.:@hdr%warning: can't verify hostname: getaddrinfo(%src_name:char-to:,%, %family:char-to:)%) failed
rule=tcpd:%.:@hdr%warning: host name/address mismatch: %src:@ip% != %src_name:word%

# ---- Snort / Suricata ---------------------------------------------------------------------------
type=@flow:{%proto:char-to:}%} %src:ipv4%:%sport:number% -> %dst:ipv4%:%dport:number%
type=@flow:{%proto:char-to:}%} %src:ipv4% -> %dst:ipv4%
type=@flow:{%proto:char-to:}%} [%src:char-to:]%]:%sport:number% -> [%dst:char-to:]%]:%dport:number%
type=@flow:{%proto:char-to:}%} %src:ipv6% -> %dst:ipv6%
type=@flow:{%proto:char-to:}%} %src_addr_port:word% -> %dst_addr_port:word%
rule=snort:%.:@hdr%[%gid:number%:%sid:number%:%rev:number%] %sig:char-to:[%[Classification: %class:char-to:]%] [Priority: %prio:number%]: %.:@flow%
rule=snort:%.:@hdr%[%gid:number%:%sid:number%:%rev:number%] %sig:char-to:[%[Classification: %class:char-to:]%] [Priority: %prio:number%] %.:@flow%
rule=snort:%.:@hdr%%sig:char-to:\x3a%: %src:ipv4%:%sport:number% -> %dst:ipv4%:%dport:number%
rule=snort:%.:@hdr%spp_portscan: PORTSCAN DETECTED from %src:@ip% (%detail:char-to:)%)
rule=snort:%.:@hdr%spp_portscan: End of portscan from %src:ipv4%: %summary:rest%

# ---- PortSentry ----------------------------------------------------------------------------------
rule=portsentry:%.:@hdr%attackalert: %{"type":"string-to","name":"kind","extradata":" from host: "}% from host: %src_name:char-to:/%/%src:@ip% to %proto:word% port: %dport:number%
rule=portsentry:%.:@hdr%attackalert: Host %src:@ip% has been blocked via wrappers with string: %cmd:rest%
rule=portsentry:%.:@hdr%attackalert: Host %src:@ip% has been blocked via dropped route using command: %cmd:rest%
rule=portsentry:%.:@hdr%attackalert: Host: %src_name:char-to:/%/%src:@ip% is already blocked Ignoring

# ---- xinetd --------------------------------------------------------------------------------------
rule=xinetd:%.:@hdr%START: %svc:word% pid=%xpid:number% from=%src:@ip%
rule=xinetd:%.:@hdr%START: %svc:word% from=%src:@ip%
rule=xinetd:%.:@hdr%EXIT: %svc:word% status=%status:number% pid=%xpid:number% duration=%duration:number%(sec)
rule=xinetd:%.:@hdr%FAIL: %svc:word% %reason:word% from=%src:@ip%
rule=xinetd:%.:@hdr%libwrap refused connection to %svc:word% (libwrap=%libwrap:char-to:)%) from %src:@ip%

# ---- FreeBSD log_in_vain ---------------------------------------------------------------------------
type=@ipport:%ip:ipv4%:%port:number%
type=@ipport:[%ip:char-to:]%]:%port:number%
type=@ipport:%addr_port:word%
rule=log_in_vain:%.:@hdr%Connection attempt to %proto:word% %dst:@ipport% from %src:@ipport%
rule=log_in_vain:%.:@hdr%Connection attempt to %proto:word% %dst:@ipport% from %src:@ipport% %extra:rest%

# ---- Cisco IOS / ASA -----------------------------------------------------------------------------------
rule=cisco_acl:%{"name":".","type":"@chdr","priority":1}%%%SEC-6-IPACCESSLOGP: list %list:word% %verdict:word% %proto:word% %src:ipv4%(%sport:number%) -> %dst:ipv4%(%dport:number%), %count:number% %-:rest%
rule=cisco_acl:%{"name":".","type":"@chdr","priority":1}%%%SEC-6-IPACCESSLOGDP: list %list:word% %verdict:word% %proto:word% %src:ipv4% -> %dst:ipv4% (%icmp:char-to:)%), %count:number% %-:rest%
rule=cisco_acl:%{"name":".","type":"@chdr","priority":1}%%%SEC-6-IPACCESSLOGS: list %list:word% %verdict:word% %src:ipv4% %count:number% %-:rest%
rule=cisco_acl:%{"name":".","type":"@chdr","priority":1}%%%SEC-6-IPACCESSLOGNP: list %list:word% %verdict:word% %proto:number% %src:ipv4% -> %dst:ipv4%, %count:number% %-:rest%
rule=cisco_acl:%{"name":".","type":"@chdr","priority":1}%%%IPV6_ACL-6-ACCESSLOGP: list %list:word% %verdict:word% %proto:word% %src:char-to:(%(%sport:number%) -> %dst:char-to:(%(%dport:number%), %count:number% %-:rest%
rule=cisco_acl:%{"name":".","type":"@chdr","priority":1}%%%%dev:char-to:-%-4-106023: Deny %proto:word% src %src_if:char-to:\x3a%:%src:char-to:/%/%sport:number% dst %dst_if:char-to:\x3a%:%dst:char-to:/%/%dport:number% by access-group "%acl:char-to:"%" %-:rest%
rule=cisco_acl:%{"name":".","type":"@chdr","priority":1}%%%%dev:char-to:-%-2-106001: Inbound %proto:word% connection denied from %src:ipv4%/%sport:number% to %dst:ipv4%/%dport:number% flags %-:rest%
rule=cisco_acl:%{"name":".","type":"@chdr","priority":1}%%%%dev:char-to:-%-5-106100: access-list %acl:word% %verdict:word% %proto:word% %src_if:char-to:/%/%src:ipv4%(%sport:number%) -> %dst_if:char-to:/%/%dst:ipv4%(%dport:number%) hit-cnt %-:rest%
rule=cisco_acl:%{"name":".","type":"@chdr","priority":1}%%%%dev:char-to:-%-6-106015: Deny %proto:word% (no connection) from %src:ipv4%/%sport:number% to %dst:ipv4%/%dport:number% flags %-:rest%

# ---- netfilter LOG -----------------------------------------------------------------------------------
rule=iptables:%.:@hdr%[%uptime:char-to:]%] %{"type":"string-to","name":"prefix","extradata":"IN="}%%fw:v2-iptables%
rule=iptables:%.:@hdr%%{"type":"string-to","name":"prefix","extradata":"IN="}%%fw:v2-iptables%
rule=iptables:%.:@hdr%%{"type":"string-to","name":"prefix","extradata":"IN="}%%fields:rest%

# ---- sshd ----------------------------------------------------------------------------------------------
rule=sshd:%.:@hdr%Failed password for %user:word% from %src:@ip% port %sport:number% ssh2
rule=sshd:%.:@hdr%Failed password for invalid user %user:word% from %src:@ip% port %sport:number% ssh2
rule=sshd:%.:@hdr%Invalid user %user:word% from %src:@ip% port %sport:number%
rule=sshd:%.:@hdr%Accepted %method:word% for %user:word% from %src:@ip% port %sport:number% ssh2
rule=sshd:%.:@hdr%Accepted %method:word% for %user:word% from %src:@ip% port %sport:number% ssh2: %key:rest%
rule=sshd:%.:@hdr%Connection closed by authenticating user %user:word% %src:@ip% port %sport:number% [preauth]
rule=sshd:%.:@hdr%Disconnected from invalid user %user:word% %src:@ip% port %sport:number% [preauth]
rule=sshd:%.:@hdr%error: maximum authentication attempts exceeded for %user:word% from %src:@ip% port %sport:number% ssh2 [preauth]
rule=sshd:%.:@hdr%pam_unix(sshd:auth): authentication failure; logname= uid=%uid:number% euid=%euid:number% tty=%tty:word% ruser= rhost=%src:@ip%  user=%user:word%

# ---- everything else: header fields and the message -----------------------------------------------
rule=syslog:%.:@hdr%%msg:rest%
rule=syslog:%.:@chdr%%msg:rest%
EOF
grep -v '^rule=syslog:' "$RULEBASE" >"$RULEBASE_NOCATCHALL"

echo "== picket: $("$PICKET" --version 2>/dev/null || echo "$PICKET"), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for kind in $CORPORA; do
CORPUS="$WORK/$kind.log"
echo
echo "======== $kind: $CORPUS, $(wc -l <"$CORPUS") lines, $(stat -c %s "$CORPUS") bytes"
echo "== coverage on the first 100000 lines" >&2
head -n 100000 "$CORPUS" >"$WORK/head.log"
echo "picket parse: lines per event.dataset"
"$PICKET" parse --year 2026 "$WORK/head.log" | grep -o '"dataset":"[a-z_]*"' | sort | uniq -c
echo "lognormalizer: lines per rule tag (\"none\": no rule matched)"
lognormalizer -r "$RULEBASE" -T <"$WORK/head.log" |
    sed -n 's/.*"event.tags": \[ "\([a-z_]*\)".*/\1/p;t;s/.*/none/p' | sort | uniq -c

PICKET_CMD="taskset -c $CPU $PICKET parse --jobs 1 --year 2026 $CORPUS > /dev/null"
PICKET2_CMD="taskset -c $CPUS2 $PICKET parse --jobs 2 --year 2026 $CORPUS > /dev/null"
LOGNORM_CMD="taskset -c $CPU lognormalizer -r $RULEBASE -e json < $CORPUS > /dev/null"
LOGNORM2_CMD="taskset -c $CPU lognormalizer -r $RULEBASE_NOCATCHALL -e json < $CORPUS > /dev/null"

if command -v hyperfine >/dev/null; then
    hyperfine --warmup 1 --runs "$RUNS" \
        --export-markdown "$WORK/hyperfine-$kind.md" --export-json "$WORK/hyperfine-$kind.json" \
        -n "picket parse --jobs 1" "$PICKET_CMD" \
        -n "picket parse --jobs 2" "$PICKET2_CMD" \
        -n "lognormalizer (families + catch-all)" "$LOGNORM_CMD" \
        -n "lognormalizer (families only)" "$LOGNORM2_CMD"
    cat "$WORK/hyperfine-$kind.md"
else
    for c in "$PICKET_CMD" "$PICKET2_CMD" "$LOGNORM_CMD" "$LOGNORM2_CMD"; do
        for _ in $(seq "$RUNS"); do
            /usr/bin/time -f "%e s elapsed  %U s user  %S s sys  | $c" sh -c "$c"
        done
    done
fi

echo
echo "== peak RSS and CPU time (one run each, /usr/bin/time)"
for c in "$PICKET_CMD" "$PICKET2_CMD" "$LOGNORM_CMD" "$LOGNORM2_CMD"; do
    /usr/bin/time -f "%M KiB max RSS  %e s elapsed  %U s user  %S s sys  | $c" sh -c "$c"
done
done
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "(results kept in $WORK)"
