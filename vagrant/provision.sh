#!/usr/bin/env bash
# physalia provisioning: run as root on every machine of a generated vagrant/
# directory (the Vagrantfile passes the arguments), and by the tests on one
# machine. Every step is idempotent: a second run with the same arguments
# changes nothing and starts nothing twice.
#
#   1. network: addresses and routes of a host or router machine, written to
#      /etc/physalia/network.sh and re-applied at boot (systemd unit);
#   2. dependencies: the project's own scripts/install-deps.sh --no-optional;
#   3. physalia: built from the source of one commit (or a binary built from
#      it) and installed under PREFIX (physalia-node in sbin, physalia and
#      physalia-chaos in bin), the commit kept in PREFIX/share/physalia/COMMIT;
#      skipped when that commit is installed;
#   4. the node: started under supervision with the given config, by systemd
#      when it is PID 1 (the project's node/physalia-node.service with
#      ExecStart pointed at PREFIX and CONFIG), else by start-stop-daemon and
#      a restart loop (PREFIX/lib/physalia/supervise, logs in STATE/node.log).
#
# Usage: provision.sh --src TARBALL|DIR [options]
#   --commit HASH        the commit of the source (default: SRC's COMMIT file
#                        or git HEAD)
#   --kind host|tor|spine   the machine's kind (routers forward packets)
#   --nic ADDR/PREFIX    an address vagrant gave this machine (repeatable;
#                        the first is the fabric NIC)
#   --addr ADDR          an extra host address on the fabric NIC (grouped)
#   --route DST/LEN=VIA  a route; DST equal to a NIC's own subnet replaces the
#                        connected route so the segment goes through VIA
#   --network-only       do step 1 only
#   --etc DIR            where network.sh is kept (default /etc/physalia)
#   --no-deps            skip step 2 (the tests, where deps are installed)
#   --binary PATH        install this physalia-node (built from --commit)
#                        instead of building from the source
#   --prefix DIR         install prefix (default /usr/local)
#   --state DIR          build and supervision state (default
#                        /var/lib/physalia-provision; the node's own data
#                        lives where its config says, /var/lib/physalia/node
#                        in generated configs, under the unit's StateDirectory)
#   --node-config FILE   install FILE as ETC/node.yaml (0644: a test colony's key)
#   --start-node CONFIG  start physalia-node CONFIG under supervision
#   --supervisor auto|systemd|supervise   (default auto: systemd if PID 1)
#   --stop-node          stop the supervised node and exit
set -euo pipefail

src= commit= kind=host network_only=0 deps=1 binary= prefix=/usr/local
state=/var/lib/physalia-provision node_config= supervisor=auto stop_node=0 etc=/etc/physalia
config_in=
nics=() addrs=() routes=()

die() { echo "provision: $*" >&2; exit 2; }
say() { echo "provision: $*"; }

while (($#)); do
	case $1 in
	--src) src=$2; shift ;;
	--commit) commit=$2; shift ;;
	--kind) kind=$2; shift ;;
	--nic) nics+=("$2"); shift ;;
	--addr) addrs+=("$2"); shift ;;
	--route) routes+=("$2"); shift ;;
	--network-only) network_only=1 ;;
	--etc) etc=$2; shift ;;
	--no-deps) deps=0 ;;
	--binary) binary=$2; shift ;;
	--prefix) prefix=$2; shift ;;
	--state) state=$2; shift ;;
	--start-node) node_config=$2; shift ;;
	--node-config) config_in=$2; shift ;;
	--supervisor) supervisor=$2; shift ;;
	--stop-node) stop_node=1 ;;
	*) die "unknown argument '$1' (see the comment at the top of this script)" ;;
	esac
	shift
done
[[ $(id -u) -eq 0 ]] || die "must run as root"
case $kind in host | tor | spine) ;; *) die "--kind: host, tor or spine, not '$kind'" ;; esac
case $supervisor in
auto) if [[ -d /run/systemd/system ]]; then supervisor=systemd; else supervisor=supervise; fi ;;
systemd | supervise) ;;
*) die "--supervisor: auto, systemd or supervise, not '$supervisor'" ;;
esac

libdir=$prefix/lib/physalia
sharedir=$prefix/share/physalia
rundir=$state/run
unit=/etc/systemd/system/physalia-node.service

# ------------------------------------------------------------ the node
supervise_pidfile=$rundir/supervise.pid

stop_supervised() {
	if [[ $supervisor == systemd ]]; then
		if systemctl is-active --quiet physalia-node 2>/dev/null; then
			systemctl stop physalia-node
			say "node stopped (systemd)"
		fi
		return
	fi
	[[ -f $supervise_pidfile ]] || return 0
	# The loop traps TERM: it stops the node, waits for it, then exits.
	start-stop-daemon --stop --quiet --oknodo --pidfile "$supervise_pidfile" \
		--retry TERM/10/KILL/5
	rm -f "$supervise_pidfile"
	say "node stopped (supervise)"
}

if ((stop_node)); then
	stop_supervised
	exit 0
fi

# ------------------------------------------------------------- network
# Writes the commands into one script so that boot re-applies exactly them.
# Vagrant has already given each NIC its address (auto_config); this adds
# what Vagrant cannot say: forwarding, extra host addresses, routes.
network_script() {
	echo "#!/bin/sh"
	echo "# physalia machine network ($kind), written by provision.sh"
	echo "set -e"
	if [[ $kind != host ]]; then
		echo "sysctl -qw net.ipv4.ip_forward=1"
		echo "sysctl -qw net.ipv4.conf.all.send_redirects=0"
		echo "sysctl -qw net.ipv4.conf.default.send_redirects=0"
		echo "sysctl -qw net.ipv4.conf.all.rp_filter=0"
	else
		echo "sysctl -qw net.ipv4.conf.all.accept_redirects=0"
	fi
	local n dev addr plen
	declare -A devof
	for n in "${nics[@]}"; do
		addr=${n%/*}
		dev=$(ip -o -4 addr show | awk -v a="$addr" '{split($4, p, "/"); if (p[1] == a && !found) {print $2; found = 1}}')
		[[ -n $dev ]] || die "no interface carries $addr (did vagrant configure --nic $n?)"
		devof[$n]=$dev
		if [[ $kind != host ]]; then
			echo "sysctl -qw net.ipv4.conf.$dev.send_redirects=0"
			echo "sysctl -qw net.ipv4.conf.$dev.rp_filter=0"
		fi
	done
	local fabric=${nics[0]}
	for addr in "${addrs[@]}"; do
		echo "ip addr replace $addr/32 dev ${devof[$fabric]}"
	done
	local r dst via subnet
	for r in "${routes[@]}"; do
		dst=${r%=*} via=${r#*=}
		dev=
		for n in "${nics[@]}"; do
			subnet=$(ipcalc_net "$n")
			if [[ $subnet == "$dst" ]]; then dev=${devof[$n]}; fi
		done
		if [[ -n $dev ]]; then
			# The segment itself goes through VIA: drop the connected route,
			# keep VIA reachable on the link.
			echo "ip route del $dst dev $dev proto kernel 2>/dev/null || true"
			echo "ip route replace $via/32 dev $dev scope link"
		fi
		echo "ip route replace $dst via $via"
	done
}

# Network address of ADDR/PREFIX without python3 (bash arithmetic).
ipcalc_net() {
	local a=${1%/*} p=${1#*/} o1 o2 o3 o4
	IFS=. read -r o1 o2 o3 o4 <<<"$a"
	local n=$(((o1 << 24 | o2 << 16 | o3 << 8 | o4) & (0xffffffff << (32 - p)) & 0xffffffff))
	echo "$((n >> 24 & 255)).$((n >> 16 & 255)).$((n >> 8 & 255)).$((n & 255))/$p"
}

if ((${#nics[@]})); then
	mkdir -p "$etc"
	tmp=$(mktemp)
	network_script >"$tmp"
	if cmp -s "$tmp" "$etc/network.sh"; then
		rm -f "$tmp"
		say "network: unchanged"
	else
		install -m 0755 "$tmp" "$etc/network.sh"
		rm -f "$tmp"
		say "network: written to $etc/network.sh"
	fi
	sh "$etc/network.sh"
	if [[ -d /run/systemd/system ]]; then
		cat >/etc/systemd/system/physalia-network.service <<-EOF
			[Unit]
			Description=physalia fabric addresses and routes
			After=network-online.target
			Wants=network-online.target
			[Service]
			Type=oneshot
			RemainAfterExit=yes
			ExecStart=/bin/sh $etc/network.sh
			[Install]
			WantedBy=multi-user.target
		EOF
		systemctl daemon-reload
		systemctl enable --quiet physalia-network.service
	fi
	say "network: $kind, ${#nics[@]} nics, ${#routes[@]} routes applied"
fi
((network_only)) && exit 0

# -------------------------------------------------------- dependencies
[[ -n $src ]] || die "--src TARBALL|DIR is required"
[[ -e $src ]] || die "--src $src: no such file or directory"
mkdir -p "$state"
if [[ -f $src ]]; then
	# A tarball of the source (git archive --prefix=physalia/).
	unpack=$state/src
	stamp=$unpack/.tarball.sha256
	sum=$(sha256sum "$src" | cut -d' ' -f1)
	if [[ ! -f $stamp || $(cat "$stamp") != "$sum" ]]; then
		rm -rf "$unpack"
		mkdir -p "$unpack"
		tar -xzf "$src" -C "$unpack" --strip-components=1
		echo "$sum" >"$stamp"
	fi
	srcdir=$unpack
else
	srcdir=$src
fi
[[ -f $srcdir/scripts/install-deps.sh ]] || die "$src is not physalia's source (no scripts/install-deps.sh)"
if [[ -z $commit ]]; then
	if [[ -f $srcdir/COMMIT ]]; then
		commit=$(cat "$srcdir/COMMIT")
	elif git -C "$srcdir" rev-parse HEAD >/dev/null 2>&1; then
		commit=$(git -C "$srcdir" rev-parse HEAD)
	else
		die "no --commit given and $src does not say its commit"
	fi
fi
if ((deps)); then
	bash "$srcdir/scripts/install-deps.sh" --no-optional
fi

# ------------------------------------------------------------ physalia
installed=$(cat "$sharedir/COMMIT" 2>/dev/null || true)
changed=0
if [[ -n $binary ]]; then
	[[ -x $binary ]] || die "--binary $binary: not an executable"
	if [[ $installed == "$commit" ]] && cmp -s "$binary" "$prefix/sbin/physalia-node"; then
		say "physalia $commit already installed"
	else
		install -D -m 0755 "$binary" "$prefix/sbin/physalia-node"
		changed=1
	fi
elif [[ $installed == "$commit" && -x $prefix/sbin/physalia-node ]]; then
	say "physalia $commit already installed"
else
	build=$state/build
	rm -rf "$build"
	cmake -S "$srcdir" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
	targets=$(cmake --build "$build" --target help | awk '{print $2}')
	grep -qx physalia-node <<<"$targets" || die "the source of $commit has no physalia-node target"
	for t in physalia-node physalia-chaos physalia; do
		grep -qx "$t" <<<"$targets" || continue
		cmake --build "$build" --target "$t" -j"$(nproc)" >/dev/null
		dir=bin
		[[ $t == physalia-node ]] && dir=sbin
		bin=$(find "$build" -type f -name "$t" -perm -u+x -print -quit)
		[[ -n $bin ]] || die "the build of $commit made no $t"
		install -D -m 0755 "$bin" "$prefix/$dir/$t"
	done
	if [[ -f $srcdir/node/physalia-node.service ]]; then
		install -D -m 0644 "$srcdir/node/physalia-node.service" "$sharedir/physalia-node.service"
	fi
	changed=1
fi
if ((changed)); then
	mkdir -p "$sharedir"
	echo "$commit" >"$sharedir/COMMIT"
	say "physalia $commit installed in $prefix"
fi

# ------------------------------------------------------------- the node
if [[ -n $config_in ]]; then
	[[ -f $config_in ]] || die "--node-config $config_in: no such file"
	mkdir -p "$etc"
	if cmp -s "$config_in" "$etc/node.yaml"; then
		say "node config unchanged"
	else
		install -m 0644 "$config_in" "$etc/node.yaml"
		say "node config installed in $etc/node.yaml"
	fi
fi
[[ -n $node_config ]] || exit 0
[[ -f $node_config ]] || die "--start-node $node_config: no such file"
node_config=$(readlink -f "$node_config")
mkdir -p "$rundir" "$libdir"
# A changed config (or another config file) restarts the node.
sum=$(printf '%s\n' "$node_config" | cat - "$node_config" | sha256sum | cut -d' ' -f1)
if [[ $(cat "$rundir/config.sha256" 2>/dev/null || true) != "$sum" ]]; then
	echo "$sum" >"$rundir/config.sha256"
	changed=1
fi

if [[ $supervisor == systemd ]]; then
	# The node's own unit (hardened, DynamicUser, StateDirectory=physalia:
	# the config's data_dir belongs under /var/lib/physalia), pointed at our
	# binary and config, restarted whenever it exits.
	[[ -f $srcdir/node/physalia-node.service ]] || die "the source of $commit has no node/physalia-node.service"
	tmp=$(mktemp)
	sed -e "s|^ExecStart=.*|ExecStart=$prefix/sbin/physalia-node --config $node_config|" \
		-e "s|^Restart=.*|Restart=always|" \
		"$srcdir/node/physalia-node.service" >"$tmp"
	if ! cmp -s "$tmp" "$unit"; then
		install -m 0644 "$tmp" "$unit"
		systemctl daemon-reload
		changed=1
	fi
	rm -f "$tmp"
	systemctl enable --quiet physalia-node.service
	if ((changed)); then
		systemctl restart physalia-node.service
		say "node (re)started by systemd"
	elif systemctl is-active --quiet physalia-node.service; then
		say "node already running (systemd)"
	else
		systemctl start physalia-node.service
		say "node started by systemd"
	fi
	exit 0
fi

# Without systemd as PID 1 (containers, this project's CI): a restart loop
# detached by start-stop-daemon. It restarts the node when it exits, one
# second later, and on TERM stops the node and waits for it.
tmp=$(mktemp)
cat >"$tmp" <<'EOF'
#!/bin/sh
# physalia-node supervisor: supervise NODE_BINARY CONFIG PIDFILE LOG
bin=$1 config=$2 pidfile=$3 log=$4
child=
stop() {
	[ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child"
	rm -f "$pidfile"
	exit 0
}
trap stop TERM INT
while :; do
	"$bin" --config "$config" >>"$log" 2>&1 &
	child=$!
	echo "$child" >"$pidfile"
	wait "$child"
	echo "supervise: physalia-node exited with status $?; restarting in 1s" >>"$log"
	sleep 1
done
EOF
if ! cmp -s "$tmp" "$libdir/supervise"; then
	install -m 0755 "$tmp" "$libdir/supervise"
	changed=1
fi
rm -f "$tmp"
if ((changed)); then
	stop_supervised
fi
if start-stop-daemon --status --pidfile "$supervise_pidfile"; then
	say "node already running (supervise, pid $(cat "$rundir/node.pid" 2>/dev/null || echo '?'))"
	exit 0
fi
start-stop-daemon --start --background --make-pidfile --pidfile "$supervise_pidfile" \
	--startas "$libdir/supervise" -- "$prefix/sbin/physalia-node" "$node_config" \
	"$rundir/node.pid" "$state/node.log"
say "node started (supervise, supervisor pid $(cat "$supervise_pidfile"))"
