#!/usr/bin/env bash
# Elastic launch on 4 network-namespace "hosts" (cluster/netns.sh), deterministic
# mode, so every run must end bitwise equal to one uninterrupted process:
#   1. kill loop: ROUNDS runs, each killing a random rank at a random step
#      (COHORT_LAUNCH_ROUNDS, default 10; COHORT_LAUNCH_SEED picks the faults);
#   2. a stopped rank (SIGSTOP) is detected by heartbeat timeout; the job goes on
#      without its host and grows back when the host's back-off ends;
#   3. a cut link (eth0 down in one namespace) is detected; the host rejoins once
#      its link is back;
#   4. restart latency: an external kill -9 at a known time, then detection,
#      relaunch and first step, from the launcher's event log.
# Needs root and iproute2; skipped (with a message) otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${COHORT_BIN:-$PWD/.build/release/cohort}
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then
  echo "launch-netns: skipped (needs root and iproute2 with network namespaces)"
  exit 0
fi
export COHORT_NETNS_PREFIX=cohl COHORT_NETNS_NET=10.202.0
NET=$COHORT_NETNS_NET
ROUNDS=${COHORT_LAUNCH_ROUNDS:-10}
RANDOM=${COHORT_LAUNCH_SEED:-$$}
work=$(mktemp -d)
trap '[ -n "${COHORT_LAUNCH_KEEP:-}" ] && cp -r "$work/." "$COHORT_LAUNCH_KEEP/"; rm -rf "$work"; cluster/netns.sh down' EXIT
cluster/netns.sh up 4
HOSTS="$NET.11:1,$NET.12:1,$NET.13:1,$NET.14:1"
MPIARGS="--mca plm_rsh_agent $PWD/cluster/netns-agent.sh --mca btl tcp,self --mca btl_tcp_if_include $NET.0/24"
MPIARGS+=" --mca oob_tcp_if_include $NET.0/24 --mca pml ob1 --mca osc ^ucx"
MPIARGS+=" -x OMPI_ALLOW_RUN_AS_ROOT=1 -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 -x COHORT_NETNS_PREFIX -x COHORT_NETNS_NET"
TRAIN=(--deterministic --steps 40 --global-batch 32 --hidden 32 --log-every 1000 --checkpoint-every 4 --lr-schedule constant)
# Longer runs (~25 ms a step: rank 0 sleeps in every attempt) leave time to lose a host and get it back:
# after a failure near step 60 about 10 s of steps remain, against a 5 s exclusion back-off.
LONG=(--steps 480 --checkpoint-every 10)
SLOW="slow@1:ms=25:attempt=0,slow@1:ms=25:attempt=1,slow@1:ms=25:attempt=2,slow@1:ms=25:attempt=3,slow@1:ms=25:attempt=4"

fail() { echo "launch-netns: FAILED ($1)"; [ -n "${2:-}" ] && tail -40 "$2"; [ -n "${COHORT_LAUNCH_KEEP:-}" ] && cp -r "$work" "$COHORT_LAUNCH_KEEP"; exit 1; }
sha() { sed -n 's/.*"weights_sha256" : "\([0-9a-f]*\)".*/\1/p' "$1"; }
# launch NAME [launcher options…] [-- extra train arguments]: runs the job in the head
# namespace; log in $work/NAME.log.
launch() {
  local name=$1; shift
  local opts=() extra=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
  [ "${1:-}" = "--" ] && { shift; extra=("$@"); }
  ip netns exec cohl-head env TMPDIR=/tmp/cohl-netns-head timeout 300 "$BIN" launch --hosts "$HOSTS" --min-np 1 \
    --control-address "$NET.1" --mpirun-args "$MPIARGS" --heartbeat-timeout 4 --collective-timeout 8 \
    --exclusion-backoff 5 --rediscover-interval 1 --max-restarts 6 "${opts[@]}" \
    -- "${TRAIN[@]}" "${extra[@]}" --checkpoint-dir "$work/$name" --summary-json "$work/$name.json" > "$work/$name.log" 2>&1
}
events() { cat "$work/$1/launch-events.jsonl"; }
seconds() { date -d "$1" +%s.%N; }   # ISO 8601 → Unix seconds

"$BIN" train "${TRAIN[@]}" --checkpoint-dir "$work/ref" --summary-json "$work/ref.json" > "$work/ref.log" 2>&1 \
  || fail "reference run" "$work/ref.log"
ref=$(sha "$work/ref.json")
"$BIN" train "${TRAIN[@]}" "${LONG[@]}" --checkpoint-dir "$work/reflong" --summary-json "$work/reflong.json" > "$work/reflong.log" 2>&1 \
  || fail "long reference run" "$work/reflong.log"
reflong=$(sha "$work/reflong.json")

only() { [ -z "${COHORT_LAUNCH_ONLY:-}" ] || [ "$COHORT_LAUNCH_ONLY" = "$1" ]; }

# 1. Kill loop.
if only kill; then
smaller=0
for ((r = 1; r <= ROUNDS; r++)); do
  step=$((3 + RANDOM % 34)); rank=$((RANDOM % 4))
  launch "kill$r" --inject-fault "kill@$step:rank=$rank" || fail "round $r (kill rank $rank at step $step) exited non-zero" "$work/kill$r.log"
  [ "$(sha "$work/kill$r.json")" = "$ref" ] || fail "round $r (kill rank $rank at step $step): weights differ from the uninterrupted run"
  events "kill$r" | grep -q '"to":"failed"' || fail "round $r: no failure recorded" "$work/kill$r/launch-events.jsonl"
  if events "kill$r" | grep '"to":"starting"' | grep -qv '"np":4'; then smaller=$((smaller + 1)); fi
  echo "launch-netns: round $r: killed rank $rank at step $step; same weights (attempts: $(events "kill$r" | grep -c '"event":"mpirun"'))"
done
[ "$smaller" -gt 0 ] || fail "no round resumed on fewer ranks"
fi

if only stop; then
# 2. SIGSTOP: detected by the heartbeat timeout (4 s), the job continues on 3 hosts (2 ranks), grows back to 4.
launch stop --inject-fault "stop@30:rank=2,$SLOW" -- "${LONG[@]}" || fail "stopped rank" "$work/stop.log"
[ "$(sha "$work/stop.json")" = "$reflong" ] || fail "stopped rank: weights differ"
silent=$(events stop | sed -n 's/.*"event":"hang_detected".*"silent_seconds":\([0-9.]*\).*/\1/p' | head -1)
[ -n "$silent" ] || fail "stopped rank: no hang detected" "$work/stop/launch-events.jsonl"
awk -v s="$silent" 'BEGIN { exit !(s < 4 + 3) }' || fail "stopped rank detected only after $silent s"
events stop | grep -q '"to":"starting".*"np":2' || fail "stopped rank: no smaller world size" "$work/stop/launch-events.jsonl"
events stop | grep -q 'scale_up_requested' || fail "stopped rank: never scaled up again" "$work/stop/launch-events.jsonl"
echo "launch-netns: SIGSTOP detected after $silent s without heartbeat; continued on 2 ranks, scaled back to 4; same weights"
fi

if only link; then
# 3. Cut link of host 4 once training runs; restore it 8 s later.
( while ! grep -q '"event":"first_step"' "$work/link/launch-events.jsonl" 2>/dev/null; do sleep 0.2; done
  sleep 1; ip -n cohl-h4 link set eth0 down; date +%s.%N > "$work/link.cut"; sleep 8; ip -n cohl-h4 link set eth0 up ) &
cutter=$!
launch link --inject-fault "$SLOW" -- "${LONG[@]}" || { wait $cutter || true; fail "cut link" "$work/link.log"; }
wait $cutter || true
[ "$(sha "$work/link.json")" = "$reflong" ] || fail "cut link: weights differ"
events link | grep -q 'scale_up_requested' || fail "cut link: never scaled up again" "$work/link/launch-events.jsonl"
detected=$(events link | grep -m1 '"event":"hang_detected"\|"to":"failed"' | sed -n 's/.*"time":"\([^"]*\)".*/\1/p')
[ -n "$detected" ] || fail "cut link: no failure detected" "$work/link/launch-events.jsonl"
latency=$(awk -v a="$(cat "$work/link.cut")" -v b="$(seconds "$detected")" 'BEGIN { printf "%.1f", b - a }')
awk -v l="$latency" 'BEGIN { exit !(l < 4 + 3) }' || fail "cut link detected only after $latency s (heartbeat timeout 4 s)"
echo "launch-netns: cut link detected after $latency s; continued smaller, scaled back up ($(events link | grep -c '"event":"mpirun"') launches); same weights"
fi

if only latency; then
# 4. Restart latency: kill -9 one rank from outside at a known time.
# The long run, slowed in its first attempt (~6 s), so the kill lands mid-run on a busy machine too.
( while ! grep -q '"event":"first_step"' "$work/lat/launch-events.jsonl" 2>/dev/null; do sleep 0.1; done
  sleep 0.5
  for _ in $(seq 100); do pid=$(pgrep -f "^[^ ]*/cohort train .*$work/lat " | head -1 || true); [ -n "$pid" ] && break; sleep 0.1; done
  [ -n "$pid" ] || exit 1
  date +%s.%N > "$work/lat.kill"; kill -9 "$pid" ) &
killer=$!
launch lat --exclusion-backoff 1000 --inject-fault "slow@1:ms=25:attempt=0" -- "${LONG[@]}" || { wait $killer || true; fail "latency run" "$work/lat.log"; }
wait $killer || fail "latency run: no rank to kill was found" "$work/lat.log"
[ "$(sha "$work/lat.json")" = "$reflong" ] || fail "latency run: weights differ"
t_kill=$(cat "$work/lat.kill")
t_failed=$(seconds "$(events lat | grep -m1 '"to":"failed"' | sed -n 's/.*"time":"\([^"]*\)".*/\1/p')")
t_start=$(seconds "$(events lat | grep -m1 '"from":"restarting","to":"starting"' | sed -n 's/.*"time":"\([^"]*\)".*/\1/p')")
t_healthy=$(seconds "$(events lat | grep '"to":"healthy"' | sed -n '2s/.*"time":"\([^"]*\)".*/\1/p')")
t_first=$(seconds "$(events lat | grep '"event":"first_step"' | sed -n '2s/.*"time":"\([^"]*\)".*/\1/p')")
awk -v k="$t_kill" -v f="$t_failed" -v s="$t_start" -v h="$t_healthy" -v p="$t_first" 'BEGIN {
  printf "launch-netns: restart latency %.2f s = detection %.2f + relaunch decision %.2f + start to all ranks up %.2f + checkpoint load and first step %.2f\n",
         p - k, f - k, s - f, h - s, p - h }'
fi
echo "launch-netns: OK"
