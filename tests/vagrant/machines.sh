#!/usr/bin/env bash
# Emulates `vagrant up` of a generated vagrant/ directory with network
# namespaces instead of VMs, so that what the VMs would run can run here:
#
#   - one namespace per machine of the Vagrantfile's MACHINES table, with
#     eth0 on a management network (as Vagrant's NAT/management NIC) and
#     eth1.. on the private networks, addressed as Vagrant's auto_config does;
#   - one namespace holding a bridge per private network (the hypervisor's
#     switch), and one for the controller (the machine running vagrant and
#     physalia-chaos), on the management network only;
#   - provision.sh --network-only in every machine, with the arguments the
#     Vagrantfile computes (read by Ruby from the file itself);
#   - an sshd per machine on its management address, its own /var/lib
#     (a private bind mount, as a VM has its own disk), keys made for the run;
#   - an ssh_config naming the machines, as `vagrant ssh-config` writes it.
#
# Usage: machines.sh up RUN DIR VAGRANTDIR PROVISION_SH   (prints nothing on success)
#        machines.sh down RUN DIR
# RUN is a short prefix of the namespace names; DIR a scratch directory.
# Addresses: the Vagrantfile's (198.18.0.0/15); management 198.19.128.0/24.
set -euo pipefail
cmd=$1 run=$2 dir=$3

ns_list() { ip netns list | awk '{print $1}' | grep -E "^${run}-" || true; }

down() {
	local ns p
	for p in "$dir"/sshd-*.pid; do
		[[ -f $p ]] && kill "$(cat "$p")" 2>/dev/null || true
	done
	for ns in $(ns_list); do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null || true
		done
	done
	for ns in $(ns_list); do
		# Bounded: processes die before the namespace can go.
		for ((i = 0; i < 50; i++)); do
			[[ -z $(ip netns pids "$ns" 2>/dev/null) ]] && break
			sleep 0.1
		done
		ip netns del "$ns" 2>/dev/null || true
	done
}

if [[ $cmd == down ]]; then
	down
	exit 0
fi
vdir=$4 provision=$5
mkdir -p "$dir"

# The machines, as Vagrant reads them: name kind, NICs, and provision args.
ruby -e '
  src = File.read(ARGV[0])
  eval(src[/^MACHINES = \[.*?^\]\.freeze/m])
  MACHINES.each do |m|
    args = ["--kind", m[:kind]]
    m[:nics].each { |_n, ip, p| args += ["--nic", "#{ip}/#{p}"] }
    m[:hosts].drop(1).each { |_h, ip, _r| args += ["--addr", ip] }
    m[:routes].each { |d, v| args += ["--route", "#{d}=#{v}"] }
    nics = m[:nics].map { |n, ip, p| "#{n},#{ip}/#{p}" }.join(" ")
    puts [m[:name], nics, args.join(" ")].join("|")
  end
' "$vdir/Vagrantfile" >"$dir/machines.txt"

sw=$run-sw ctl=$run-ctl
ip netns add "$sw"
ip -n "$sw" link set lo up
ip -n "$sw" link add b-mgmt type bridge
ip -n "$sw" link set b-mgmt up
bridge_of() { # network name -> its bridge in the switch namespace (made once)
	local br=b-$1
	if ! ip -n "$sw" link show "$br" >/dev/null 2>&1; then
		ip -n "$sw" link add "$br" type bridge
		ip -n "$sw" link set "$br" up
	fi
	echo "$br"
}

ip netns add "$ctl"
ip -n "$ctl" link set lo up
ip link add eth0 netns "$ctl" type veth peer name vctl netns "$sw"
ip -n "$sw" link set vctl master b-mgmt up
ip -n "$ctl" addr add 198.19.128.1/24 dev eth0
ip -n "$ctl" link set eth0 up

ssh-keygen -q -t ed25519 -N '' -C physalia-test-host -f "$dir/host_key"
ssh-keygen -q -t ed25519 -N '' -C physalia-test-client -f "$dir/id_ed25519"
cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
: >"$dir/known_hosts"
: >"$dir/ssh_config"
# sshd's privilege separation dir (left in place: /run is cleared at boot,
# and a concurrent run's sshds need it).
mkdir -p /run/sshd

i=0
while IFS='|' read -r name nics args; do
	ns=$run-m$i mgmt=198.19.128.$((10 + i))
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip link add eth0 netns "$ns" type veth peer name "v${i}x0" netns "$sw"
	ip -n "$sw" link set "v${i}x0" master b-mgmt up
	ip -n "$ns" addr add "$mgmt/24" dev eth0
	ip -n "$ns" link set eth0 up
	j=1
	for nic in $nics; do
		net=${nic%%,*} addr=${nic#*,}
		br=$(bridge_of "$net")
		ip link add "eth$j" netns "$ns" type veth peer name "v${i}x$j" netns "$sw"
		ip -n "$sw" link set "v${i}x$j" master "$br" up
		ip -n "$ns" addr add "$addr" dev "eth$j"
		ip -n "$ns" link set "eth$j" up
		j=$((j + 1))
	done
	echo "$name $ns $mgmt" >>"$dir/namespaces.txt"
	# shellcheck disable=SC2086
	ip netns exec "$ns" bash "$provision" --network-only --etc "$dir/etc-$name" $args \
		>"$dir/provision-$name.log"
	# Its own /var/lib: a private directory mounted over it inside the
	# machine's mount namespace, so nothing is made or removed on this
	# machine's /var/lib (a concurrent run removing a shared mount point
	# would detach every other run's mounts).
	mkdir -p "$dir/varlib-$name/physalia" "$dir/varlib-$name/physalia-chaos"
	cat >"$dir/sshd-$name.conf" <<-EOF
		ListenAddress $mgmt
		Port 22
		HostKey $dir/host_key
		PidFile $dir/sshd-$name.pid
		AuthorizedKeysFile $dir/authorized_keys
		PermitRootLogin prohibit-password
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		StrictModes no
	EOF
	# ip netns exec gives sshd a private mount namespace: its own disk.
	ip netns exec "$ns" sh -c "mount --bind '$dir/varlib-$name' /var/lib &&
		exec /usr/sbin/sshd -f '$dir/sshd-$name.conf'"
	echo "$mgmt $(cut -d' ' -f1,2 "$dir/host_key.pub")" >>"$dir/known_hosts"
	cat >>"$dir/ssh_config" <<-EOF
		Host $name
		  HostName $mgmt
		  User root
		  IdentityFile $dir/id_ed25519
		  IdentitiesOnly yes
		  UserKnownHostsFile $dir/known_hosts
		  StrictHostKeyChecking yes
		  PasswordAuthentication no

	EOF
	i=$((i + 1))
done <"$dir/machines.txt"
# A machine that does not answer (nothing has that address).
cat >>"$dir/ssh_config" <<-EOF
	Host absent
	  HostName 198.19.128.250
	  User root
	  ConnectTimeout 2
EOF
# sshd is up when its pid file exists (it writes it after binding).
while read -r name ns mgmt; do
	for ((k = 0; k < 100; k++)); do
		[[ -s $dir/sshd-$name.pid ]] && break
		sleep 0.05
	done
	[[ -s $dir/sshd-$name.pid ]] || { echo "machines.sh: sshd of $name did not start" >&2; exit 1; }
done <"$dir/namespaces.txt"
