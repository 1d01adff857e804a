-- physalia.lua: Wireshark/tshark dissector for physalia's peer and client
-- protocols (docs/chaos.md; layouts from node/dgram.h, node/frame.h and
-- engine/engine.h).
--
--   tshark -X lua_script:chaos/wireshark/physalia.lua -r host.pcap -Y physalia
--
-- Peer datagrams (UDP) are found heuristically: "PH", version 1, a 30-byte
-- header, items, a 32-byte HMAC. Client frames (TCP) are found on the
-- client port (preference, default 7100) or heuristically by their header.

local ph = Proto("physalia", "physalia peer protocol")
local phc = Proto("physalia_client", "physalia client protocol")

local msg_types = {
	[1] = "prepare", [2] = "promise", [3] = "accept", [4] = "accepted",
	[5] = "reject", [6] = "chosen", [7] = "heartbeat", [8] = "catchup",
	[9] = "snapshot",
}
local item_kinds = { [1] = "cell", [2] = "jury" }
local frame_types = {
	[1] = "txn", [2] = "create", [3] = "discover", [4] = "cell-status",
	[5] = "node-status", [6] = "nodes",
}
local statuses = {
	[0] = "ok", [1] = "nocell", [2] = "busy", [3] = "notleader", [4] = "overload",
	[5] = "toobig", [6] = "malformed", [7] = "exists", [8] = "error", [9] = "stopping",
}

local f = {
	magic = ProtoField.string("physalia.magic", "Magic"),
	version = ProtoField.uint8("physalia.version", "Version"),
	flags = ProtoField.uint8("physalia.flags", "Flags", base.HEX),
	from = ProtoField.uint32("physalia.from", "From node"),
	to = ProtoField.uint32("physalia.to", "To node"),
	incarnation = ProtoField.uint64("physalia.incarnation", "Incarnation"),
	seq = ProtoField.uint64("physalia.seq", "Sequence"),
	count = ProtoField.uint16("physalia.count", "Items"),
	item = ProtoField.bytes("physalia.item", "Item"),
	kind = ProtoField.uint8("physalia.item.kind", "Kind", base.DEC, item_kinds),
	pkey = ProtoField.bytes("physalia.pkey", "Partition key"),
	len = ProtoField.uint16("physalia.item.len", "Length"),
	msg_type = ProtoField.uint8("physalia.msg.type", "Paxos message", base.DEC, msg_types),
	msg_version = ProtoField.uint8("physalia.msg.version", "Wire version"),
	msg_body = ProtoField.bytes("physalia.msg.body", "Body"),
	jury = ProtoField.uint32("physalia.jury", "Jury member"),
	mac = ProtoField.bytes("physalia.hmac", "HMAC"),
}
ph.fields = f

local cf = {
	length = ProtoField.uint32("physalia_client.length", "Length"),
	version = ProtoField.uint8("physalia_client.version", "Version"),
	type = ProtoField.uint8("physalia_client.type", "Type", base.HEX),
	reply = ProtoField.bool("physalia_client.reply", "Reply"),
	corr = ProtoField.uint64("physalia_client.corr", "Correlation"),
	status = ProtoField.uint8("physalia_client.status", "Status", base.DEC, statuses),
	body = ProtoField.bytes("physalia_client.body", "Body"),
}
phc.fields = cf
phc.prefs.port = Pref.uint("Client TCP port", 7100, "TCP port of physalia-node's client listener")

local HEADER, MAC = 30, 32

-- One engine message inside a cell item: "PH", version, type, pkey, body.
local function dissect_msg(tvb, tree, pinfo, names)
	if tvb:len() < 5 or tvb(0, 2):string() ~= "PH" then
		tree:add(f.msg_body, tvb)
		return
	end
	local t = tvb(3, 1):uint()
	local name = msg_types[t] or ("type " .. t)
	local st = tree:add(ph, tvb, "Paxos " .. name)
	st:add(f.msg_version, tvb(2, 1))
	st:add(f.msg_type, tvb(3, 1))
	local pl = tvb(4, 1):uint()
	if 5 + pl <= tvb:len() then
		if pl > 0 then st:add(f.pkey, tvb(5, pl)) end
		if 5 + pl < tvb:len() then st:add(f.msg_body, tvb(5 + pl)) end
	end
	names[#names + 1] = name
end

local function looks_like_dgram(tvb)
	local n = tvb:len()
	if n < HEADER + MAC then return false end
	if tvb(0, 2):string() ~= "PH" or tvb(2, 1):uint() ~= 1 then return false end
	return true
end

local function dissect_dgram(tvb, pinfo, tree)
	if not looks_like_dgram(tvb) then return 0 end
	local n = tvb:len()
	pinfo.cols.protocol = "physalia"
	local t = tree:add(ph, tvb(), "physalia peer datagram")
	t:add(f.magic, tvb(0, 2))
	t:add(f.version, tvb(2, 1))
	t:add(f.flags, tvb(3, 1))
	t:add(f.from, tvb(4, 4))
	t:add(f.to, tvb(8, 4))
	t:add(f.incarnation, tvb(12, 8))
	t:add(f.seq, tvb(20, 8))
	t:add(f.count, tvb(28, 2))
	local count = tvb(28, 2):uint()
	local off, names = HEADER, {}
	for i = 1, count do
		if off + 2 > n - MAC then break end
		local kind = tvb(off, 1):uint()
		local pl = tvb(off + 1, 1):uint()
		if off + 2 + pl + 2 > n - MAC then break end
		local bl = tvb(off + 2 + pl, 2):uint()
		local size = 2 + pl + 2 + bl
		if off + size > n - MAC then break end
		local it = t:add(f.item, tvb(off, size))
		it:set_text("Item " .. i .. ": " .. (item_kinds[kind] or ("kind " .. kind)))
		it:add(f.kind, tvb(off, 1))
		if pl > 0 then it:add(f.pkey, tvb(off + 2, pl)) end
		it:add(f.len, tvb(off + 2 + pl, 2))
		if bl > 0 then
			local body = tvb(off + 4 + pl, bl):tvb()
			if kind == 1 then
				dissect_msg(body, it, pinfo, names)
			elseif kind == 2 and bl >= 1 then
				local m = body(0, 1):uint()
				for j = 0, m - 1 do
					if 1 + 4 * j + 4 <= bl then it:add(f.jury, body(1 + 4 * j, 4)) end
				end
			end
		end
		off = off + size
	end
	t:add(f.mac, tvb(n - MAC, MAC))
	pinfo.cols.info = string.format("%d -> %d seq %s: %s", tvb(4, 4):uint(), tvb(8, 4):uint(),
		tostring(tvb(20, 8):uint64()), table.concat(names, ", "))
	return n
end

ph.dissector = dissect_dgram
ph:register_heuristic("udp", function(tvb, pinfo, tree)
	if not looks_like_dgram(tvb) then return false end
	dissect_dgram(tvb, pinfo, tree)
	return true
end)

-- Client frames: u32 length of what follows, u8 version, u8 type, u64 corr,
-- body (replies: type 0x80|t, body starts with a status byte).
local function frame_len(tvb, pinfo, offset)
	return tvb(offset, 4):uint() + 4
end

local function dissect_frame(tvb, pinfo, tree)
	pinfo.cols.protocol = "physalia-client"
	local t = tree:add(phc, tvb(), "physalia client frame")
	t:add(cf.length, tvb(0, 4))
	t:add(cf.version, tvb(4, 1))
	local ty = tvb(5, 1):uint()
	t:add(cf.type, tvb(5, 1))
	local reply = ty >= 0x80
	t:add(cf.reply, reply)
	t:add(cf.corr, tvb(6, 8))
	local name = frame_types[ty % 0x80] or ("type " .. ty)
	local info = (reply and "reply " or "request ") .. name
	if tvb:len() > 14 then
		if reply then
			t:add(cf.status, tvb(14, 1))
			info = info .. " " .. (statuses[tvb(14, 1):uint()] or "?")
		end
		t:add(cf.body, tvb(14))
	end
	pinfo.cols.info = info
	return tvb:len()
end

phc.dissector = function(tvb, pinfo, tree)
	dissect_tcp_pdus(tvb, tree, 4, frame_len, dissect_frame)
	return tvb:len()
end

local function register_client_port()
	DissectorTable.get("tcp.port"):add(phc.prefs.port, phc)
end
phc.prefs_changed = register_client_port
register_client_port()
