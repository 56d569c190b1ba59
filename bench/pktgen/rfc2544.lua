-- RFC 2544 throughput and latency through a device under test, driven by pktgen-dpdk: pktgen's
-- port 0 sends into the device's port A, the device forwards out of its port B into pktgen's
-- port 1. For each frame size (or a capture replayed from port 0): a binary search for the
-- no-drop rate (NDR) and the partial-drop rate (PDR), each confirmed by a last trial; then
-- latency probes at 10, 50 and 90 % of the PDR. One JSON object per result is appended to
-- AD_OUT; the script quits pktgen when done.
--
-- Parameters (environment; bench/pktgen/run.sh sets them):
--   AD_DUT          name of the device under test, copied into every result
--   AD_SIZES        frame sizes with CRC, comma-separated ("64,128,256"), or "mix" (the capture
--                   loaded on port 0 with -s 0:FILE; AD_MIX_AVG: its mean frame size with CRC)
--   AD_TRIAL_MS     length of a trial (default 2000)
--   AD_NDR_LOSS     loss (percent) still called no drop: the generator's pacing precision
--                   (default 0.01)
--   AD_PDR_LOSS     partial-drop tolerance in percent (default 0.5)
--   AD_RATE_MIN / AD_RATE_MAX   search bounds, percent of the link rate (default 0.1 / 100)
--   AD_PRECISION    stop when the bounds are this close, percent of the link rate (default 0.1)
--   AD_ITERATIONS   at most this many trials per search (default 12)
--   AD_LATENCY      1: latency at 10/50/90 % of the PDR (default 1)
--   AD_MIX_POLICY_DROP  percent of the mix the device's policy drops by design (the poisoned
--                   answers under the default policy): subtracted from the mix's loss
--   AD_OUT          where results go (JSON lines)
--   AD_DONE / AD_RELEASE  files: when its trials are over the script creates AD_DONE, then waits
--                   (up to 60 s) for AD_RELEASE before it quits. The device is stopped in
--                   between, while its memif links are still up: DPDK 22.11's memif unmaps a
--                   ring under a poller whose peer leaves, which crashes the poller (testpmd
--                   and the appliance alike), and reads its counters as zero once the peer left.
package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;../?.lua"
require "Pktgen"

local function env(k, d)
  local v = os.getenv(k)
  if v == nil or v == "" then return d end
  return v
end

local DUT = env("AD_DUT", "dut")
local TRIAL_MS = tonumber(env("AD_TRIAL_MS", "2000"))
local NDR_LOSS = tonumber(env("AD_NDR_LOSS", "0.01"))
local PDR_LOSS = tonumber(env("AD_PDR_LOSS", "0.5"))
local RATE_MIN = tonumber(env("AD_RATE_MIN", "0.1"))
local RATE_MAX = tonumber(env("AD_RATE_MAX", "100"))
local PRECISION = tonumber(env("AD_PRECISION", "0.1"))
local ITERATIONS = tonumber(env("AD_ITERATIONS", "12"))
local LATENCY = env("AD_LATENCY", "1") == "1"
local MIX_AVG = tonumber(env("AD_MIX_AVG", "0"))
local OUT = env("AD_OUT", "pktgen-results.jsonl")
-- Of the mix, what the device's policy drops by design (percent): not a loss.
local MIX_POLICY_DROP = tonumber(env("AD_MIX_POLICY_DROP", "0"))
local POLICY_DROP = 0
local TX, RX = "0", "1"

local function log(fmt, ...)
  io.stdout:write(string.format("rfc2544: " .. fmt .. "\n", ...))
  io.stdout:flush()
end

local function emit(fields)
  local parts = {}
  for _, kv in ipairs(fields) do
    local k, v = kv[1], kv[2]
    local s
    if type(v) == "string" then
      s = string.format("%q", v)
    elseif type(v) == "boolean" then
      s = tostring(v)
    elseif v == nil then
      s = "null"
    elseif v == math.floor(v) and math.abs(v) < 2^53 then
      s = string.format("%d", v)
    else
      s = string.format("%.6g", v)
    end
    table.insert(parts, string.format("%q:%s", k, s))
  end
  local f = assert(io.open(OUT, "a"))
  f:write("{" .. table.concat(parts, ",") .. "}\n")
  f:close()
end

-- The link rate pktgen paces against (Mb/s), from "<UP-100000-FD>".
local function link_mbps()
  local s = pktgen.linkState(TX)[tonumber(TX)] or ""
  local m = tonumber(string.match(s, "UP%-(%d+)"))
  if m == nil or m == 0 then m = 10000 end
  return m
end

-- The memif links come up once both sides are connected.
for _ = 1, 100 do
  local st = pktgen.linkState("all")
  if string.match(st[0] or "", "UP") and string.match(st[1] or "", "UP") then break end
  pktgen.delay(100)
end
local LINK = link_mbps()

-- Frames per second at `pct` percent of the link for frames of `size` bytes (with CRC; 20 bytes
-- of preamble and gap each on the wire).
local function pps_at(pct, size)
  return pct / 100 * LINK * 1e6 / ((size + 20) * 8)
end

-- Wall-clock milliseconds (pktgen's Lua has no clock of its own; its rate counters are
-- refreshed by its display thread, which yields to the worker here).
local function now_ms()
  local f = io.popen("date +%s%3N")
  local t = tonumber(f:read("*l"))
  f:close()
  return t
end

-- The ports' own counters, read from the driver now (pktgen's portStats are its display
-- thread's last copy).
local function stats(p)
  return pktgen.devStats(p)[tonumber(p)]
end

-- One trial at `pct` percent for `size`: what was offered, sent and received.
local function trial(pct, size, latency)
  pktgen.stop(TX)
  pktgen.delay(200)
  pktgen.clr()
  pktgen.set(TX, "rate", pct)
  if latency then
    -- Port 0 sends the probes, port 1 reads their stamps: both have latency on.
    pktgen.latency("all", "rate", 1000)
    pktgen.latency("all", "enable")
  end
  pktgen.delay(200)
  local s0, r0 = stats(TX).opackets, stats(RX).ipackets
  local t0 = now_ms()
  pktgen.start(TX)
  pktgen.delay(TRIAL_MS)
  pktgen.stop(TX)
  local elapsed = math.max(now_ms() - t0, 1) / 1000
  -- What is still in the device's queues arrives.
  pktgen.delay(500)
  local s1, r1 = stats(TX).opackets, stats(RX).ipackets
  local lat = nil
  if latency then
    pktgen.latency("all", "disable")
    lat = pktgen.pktStats(RX)[tonumber(RX)].latency
  end
  local offered = pps_at(pct, size) * TRIAL_MS / 1000
  local sent, received = s1 - s0, r1 - r0
  local tx_pps, rx_pps = sent / elapsed, received / elapsed
  -- RFC 2544's loss: of the frames sent into the device, those that did not come out. (A link
  -- that pushes back — memif — loses nothing: the generator sends less, and the rate received
  -- is what the device forwards.)
  local loss = 100
  if sent > 0 then loss = math.max(0, (sent - received) / sent * 100 - POLICY_DROP) end
  log("%s size %s rate %.3f%%: offered %.0f sent %d received %d loss %.4f%%, %.3f Mpps out", DUT, tostring(size), pct, offered, sent, received, loss, rx_pps / 1e6)
  emit({ { "dut", DUT }, { "size", size }, { "kind", "trial" }, { "rate_pct", pct }, { "offered", offered }, { "sent", sent }, { "received", received },
         { "loss_pct", loss }, { "tx_pps", tx_pps }, { "rx_pps", rx_pps } })
  return { pct = pct, offered = offered, sent = sent, received = received, loss = loss, latency = lat, tx_pps = tx_pps, rx_pps = rx_pps }
end

-- The highest rate whose loss is at most `tol` percent: a binary search, then a confirmation
-- trial (a rate that fails it is searched again below).
local function search(size, tol, hi)
  local lo, best = RATE_MIN, nil
  hi = math.min(hi, RATE_MAX)
  local trials = 0
  local first = trial(hi, size, false)
  trials = trials + 1
  if first.loss <= tol then
    best = first
  else
    while trials < ITERATIONS and hi - lo > PRECISION do
      local mid = (lo + hi) / 2
      local t = trial(mid, size, false)
      trials = trials + 1
      if t.loss <= tol then
        lo, best = mid, t
      else
        hi = mid
      end
    end
  end
  if best == nil then
    best = trial(RATE_MIN, size, false)
    trials = trials + 1
  end
  -- Confirm: the rate found, once more.
  local c = trial(best.pct, size, false)
  trials = trials + 1
  local confirmed = c.loss <= tol
  return best, c, confirmed, trials
end

local function record(label, size, kind, tol, best, c, confirmed, trials)
  -- The rate received in the steady state of the trial that found it.
  local mpps = best.rx_pps / 1e6
  emit({
    { "dut", DUT }, { "size", label }, { "kind", kind }, { "loss_tolerance_pct", tol },
    { "rate_pct", best.pct }, { "offered_mpps", best.offered / (TRIAL_MS / 1000) / 1e6 }, { "sent_mpps", best.tx_pps / 1e6 },
    { "mpps", mpps }, { "gbps", mpps * 1e6 * (size * 8) / 1e9 }, { "line_pct", mpps * 1e6 / pps_at(100, size) * 100 },
    { "loss_pct", best.loss },
    { "sent", best.sent }, { "received", best.received },
    { "confirmed", confirmed }, { "confirm_loss_pct", c.loss }, { "trials", trials },
    { "trial_ms", TRIAL_MS }, { "link_mbps", LINK },
  })
end

local function run()
  pktgen.screen("off")
  pktgen.set(TX, "burst", 32)
  local sizes = {}
  for s in string.gmatch(env("AD_SIZES", "64"), "[^,]+") do table.insert(sizes, s) end
  for _, s in ipairs(sizes) do
    local size
    POLICY_DROP = 0
    if s == "mix" then
      size = MIX_AVG
      POLICY_DROP = MIX_POLICY_DROP
      pktgen.pcap(TX, "on")
    else
      size = tonumber(s)
      pktgen.pcap(TX, "off")
      pktgen.set_type(TX, "ipv4")
      pktgen.set_proto(TX, "udp")
      pktgen.set(TX, "size", size)
    end
    log("%s: frame size %s (link %d Mb/s)", DUT, s, LINK)
    local nb, nc, nok, nt = search(size, NDR_LOSS, RATE_MAX)
    local label = s == "mix" and "mix" or size
    record(label, size, "ndr", NDR_LOSS, nb, nc, nok, nt)
    local pb, pc, pok, pt = search(size, PDR_LOSS, RATE_MAX)
    record(label, size, "pdr", PDR_LOSS, pb, pc, pok, pt)
    if LATENCY then
      -- At 10, 50 and 90 % of the rate the device forwarded at its PDR (not of the rate offered:
      -- over a link that pushes back they differ).
      local pdr_pct = math.min(pb.pct, pb.rx_pps / pps_at(100, size) * 100)
      for _, frac in ipairs({ 10, 50, 90 }) do
        local t = trial(pdr_pct * frac / 100, size, true)
        local l = t.latency or {}
        emit({
          { "dut", DUT }, { "size", label }, { "kind", "latency" },
          { "pdr_fraction_pct", frac }, { "rate_pct", t.pct }, { "loss_pct", t.loss },
          { "probes", l.num_pkts or 0 }, { "min_us", l.min_us or 0 }, { "avg_us", l.avg_us or 0 }, { "max_us", l.max_us or 0 },
        })
      end
    end
  end
  log("%s: done", DUT)
end

local ok, err = pcall(run)
if not ok then
  log("failed: %s", tostring(err))
  local f = io.open(OUT, "a")
  if f then
    f:write(string.format("{\"dut\":%q,\"kind\":\"error\",\"error\":%q}\n", DUT, tostring(err)))
    f:close()
  end
end
local DONE, RELEASE = env("AD_DONE", ""), env("AD_RELEASE", "")
if DONE ~= "" then
  local f = io.open(DONE, "w")
  if f then f:close() end
  for _ = 1, 600 do
    local r = RELEASE ~= "" and io.open(RELEASE, "r")
    if r then r:close() break end
    pktgen.delay(100)
  end
end
pktgen.quit()
