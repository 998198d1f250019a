#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Host half of `make bench`: reads what bench_guest.sh left in OUT/raw (fio
# JSON per job, target and round; replay and cache-full records) and writes
#   OUT/results.json  every number, medians and per-round values
#   OUT/results.md    the tables below, in Markdown
#   OUT/bench.png     IOPS of every target relative to raw pmem, per job
#   OUT/cachefull.png IOPS over time while writing 3x a small cache
# and prints the main table plus the targets, met or not.
#
# Why medians of interleaved rounds: under TCG one round can be +-20 % off;
# the median of rounds taken A B C A B C in one boot is what we compare.

import json
import os
import re
import shutil
import statistics
import subprocess
import sys

TARGETS = ["pmem", "backing", "ours", "intree", "wc"]
LABEL = {
    "pmem": "raw pmem",
    "backing": "raw backing",
    "ours": "our pcache",
    "intree": "in-tree pcache",
    "wc": "dm-writecache",
}
JOBS = ["randwrite", "randread_hit", "randread_50", "mixed_70_30",
        "seqwrite_128k", "randwrite_qd1"]
JOB_LABEL = {
    "randwrite": "4K randwrite QD16x2",
    "randread_hit": "4K randread hit QD16x2",
    "randread_50": "4K randread ~50% hit QD16x2",
    "mixed_70_30": "4K randrw 70/30 QD16x2",
    "seqwrite_128k": "128K seq write QD16",
    "randwrite_qd1": "4K randwrite QD1",
}


def kv_file(path):
    d = {}
    if os.path.exists(path):
        for line in open(path):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                d[k] = v
    return d


def fio_point(path):
    """IOPS, mean latency (us) and p99 latency (us) of one fio run."""
    j = json.load(open(path))["jobs"][0]
    r, w = j["read"], j["write"]
    iops = r["iops"] + w["iops"]
    n_r, n_w = r["total_ios"], w["total_ios"]
    n = max(n_r + n_w, 1)
    mean = (r["lat_ns"]["mean"] * n_r + w["lat_ns"]["mean"] * n_w) / n
    p99 = 0
    for d in (r, w):
        if d["total_ios"]:
            p99 = max(p99, d["lat_ns"].get("percentile", {}).get("99.000000", 0))
    return {"iops": iops, "mean_us": mean / 1000, "p99_us": p99 / 1000}


def status_fields(s):
    return s.split()[3:] if s and s != "-" else []


def hit_ratio(target, st):
    """Read-hit ratio of one job from the target's own counters, if any."""
    b, a = status_fields(st.get("before", "")), status_fields(st.get("after", ""))
    try:
        if target == "ours":
            h = int(a[11]) - int(b[11])
            m = int(a[12]) - int(b[12])
        elif target == "wc":
            # reads and read hits are counted in 4 KiB blocks
            m = (int(a[4]) - int(b[4])) - (int(a[5]) - int(b[5]))
            h = int(a[5]) - int(b[5])
        else:
            return None
    except (IndexError, ValueError):
        return None
    return h / (h + m) if h + m else None


def collect(out):
    raw = os.path.join(out, "raw")
    runs = {}
    pat = re.compile(r"^([a-z0-9_]+)\.([a-z]+)\.(\d+)\.json$")
    for f in sorted(os.listdir(raw)):
        m = pat.match(f)
        if not m:
            continue
        job, tgt, rnd = m.group(1), m.group(2), int(m.group(3))
        try:
            p = fio_point(os.path.join(raw, f))
        except (ValueError, KeyError, IndexError):
            continue
        st = kv_file(os.path.join(raw, f[:-5] + ".status"))
        p["round"] = rnd
        p["hit_ratio"] = hit_ratio(tgt, st)
        runs.setdefault(job, {}).setdefault(tgt, []).append(p)
    return runs


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarize(runs):
    summary = {}
    for job, per in runs.items():
        summary[job] = {}
        for tgt, pts in per.items():
            summary[job][tgt] = {
                "rounds": len(pts),
                "iops": med(p["iops"] for p in pts),
                "mean_us": med(p["mean_us"] for p in pts),
                "p99_us": med(p["p99_us"] for p in pts),
                "hit_ratio": med(p["hit_ratio"] for p in pts),
                "iops_rounds": [round(p["iops"]) for p in
                                sorted(pts, key=lambda p: p["round"])],
            }
        pm = summary[job].get("pmem")
        ours = summary[job].get("ours")
        for tgt, s in summary[job].items():
            s["x_pmem"] = s["iops"] / pm["iops"] if pm and pm["iops"] else None
            s["ours_x"] = (ours["iops"] / s["iops"]
                           if ours and s["iops"] else None)
    return summary


def parse_mem(line):
    return {k: int(v) for k, v in re.findall(r"(\w+)=(-?\d+)", line)}


def dram(m):
    return m.get("slab", 0) + m.get("VmallocUsed", 0) + m.get("Percpu", 0)


def slabinfo(path):
    d = {}
    if os.path.exists(path):
        for line in open(path).readlines()[2:]:
            f = line.split()
            d[f[0]] = int(f[1]) * int(f[3])
    return d


def slab_growth(a, b, n=5):
    """The slab caches that grew most from slabinfo file a to b (bytes)."""
    x, y = slabinfo(a), slabinfo(b)
    g = sorted(((y[k] - x.get(k, 0), k) for k in y), reverse=True)[:n]
    return [[k, v] for v, k in g if v > 0]


def replay(out):
    res = {}
    for t in ("ours", "intree"):
        p = os.path.join(out, "raw", "replay.%s.txt" % t)
        if not os.path.exists(p):
            continue
        d, mem = {}, {}
        for line in open(p):
            line = line.rstrip("\n")
            if line.startswith("mem_"):
                k, v = line.split(":", 1)
                mem[k[4:]] = parse_mem(v)
            elif "=" in line:
                k, v = line.split("=", 1)
                d[k] = v
        ext = int(d["extents"])
        r = {
            "extents": ext,
            "replay_ms": int(d["replay_ns"]) / 1e6,
            "create_empty_ms": int(d["create_empty_ns"]) / 1e6,
            "fill_s": int(d["fill_ns"]) / 1e9,
            "status_filled": d.get("status_filled"),
            "status_replayed": d.get("status_replayed"),
            "mem": mem,
        }
        # Only `dmsetup create` runs between before/empty and between
        # removed/replayed: the device's footprint empty and with N extents.
        if all(k in mem for k in ("before", "empty", "removed", "replayed")):
            fixed = dram(mem["empty"]) - dram(mem["before"])
            full = dram(mem["replayed"]) - dram(mem["removed"])
            r["dram_fixed_b"] = fixed
            r["dram_replayed_b"] = full
            r["dram_per_extent_b"] = (full - fixed) / ext
            r["slab_per_extent_b"] = ((mem["replayed"]["slab"] - mem["removed"]["slab"]) -
                                      (mem["empty"]["slab"] - mem["before"]["slab"])) / ext
            r["slab_growth"] = slab_growth(
                os.path.join(out, "raw", "slabinfo.%s.removed" % t),
                os.path.join(out, "raw", "slabinfo.%s.replayed" % t))
        if "filled" in mem and "empty" in mem:
            r["dram_per_extent_filled_b"] = (dram(mem["filled"]) - dram(mem["empty"])) / ext
        res[t] = r
    return res


def cachefull(out):
    res = {}
    raw = os.path.join(out, "raw")
    for t in ("ours", "intree", "wc"):
        log = os.path.join(raw, "cachefull.%s_iops.1.log" % t)
        js = os.path.join(raw, "cachefull.%s.json" % t)
        if not os.path.exists(log) or not os.path.exists(js):
            continue
        series = []
        for line in open(log):
            f = [x.strip() for x in line.split(",")]
            if len(f) >= 2:
                series.append((int(f[0]), int(f[1])))
        # fio logs the IOPS of every 250 ms window that completed I/O: the
        # longest stall is the longest gap between windows (or a run of
        # windows at zero)
        stall, last, zero_from = 0, 0, None
        for ms, v in series:
            stall = max(stall, ms - last - 250)
            if v == 0:
                zero_from = last if zero_from is None else zero_from
                stall = max(stall, ms - zero_from)
            else:
                zero_from = None
            last = ms
        j = json.load(open(js))["jobs"][0]["write"]
        iops = [v for _, v in series]
        res[t] = {
            "iops": j["iops"],
            "seconds": j["runtime"] / 1000,
            "bytes": j["io_bytes"],
            "max_lat_ms": j["lat_ns"]["max"] / 1e6,
            "longest_stall_ms": stall,
            "min_iops_250ms": min(iops) if iops else None,
            "series": series,
        }
    return res


def fmt(x, f="%.0f"):
    return "-" if x is None else f % x


def main_table(summary):
    rows = []
    hdr = ["job", "target", "IOPS", "mean us", "p99 us", "x raw pmem",
           "ours / this", "hit %", "IOPS per round"]
    for job in JOBS:
        if job not in summary:
            continue
        for t in TARGETS:
            s = summary[job].get(t)
            if not s:
                continue
            rows.append([JOB_LABEL[job], LABEL[t], fmt(s["iops"]),
                         fmt(s["mean_us"], "%.1f"), fmt(s["p99_us"], "%.1f"),
                         fmt(s["x_pmem"], "%.2f"),
                         "" if t == "ours" else fmt(s["ours_x"], "%.2f"),
                         fmt(None if s["hit_ratio"] is None else
                             100 * s["hit_ratio"]),
                         " ".join(str(x) for x in s["iops_rounds"])])
    return hdr, rows


def text_table(hdr, rows):
    w = [max(len(str(r[i])) for r in [hdr] + rows) for i in range(len(hdr))]
    line = lambda r: "  ".join(str(c).ljust(w[i]) if i < 2 else
                               str(c).rjust(w[i]) for i, c in enumerate(r))
    return "\n".join([line(hdr), line(["-" * x for x in w])] +
                     [line(r) for r in rows])


def md_table(hdr, rows):
    return "\n".join(["| " + " | ".join(hdr) + " |",
                      "|" + "---|" * len(hdr)] +
                     ["| " + " | ".join(str(c) for c in r) + " |" for r in rows])


def targets_check(summary, rep, cf):
    """The bar of issue 8, each line: (met?, text)."""
    out = []

    def get(job, t, k):
        return summary.get(job, {}).get(t, {}).get(k)

    for job in ("randwrite", "randread_hit"):
        o, p = get(job, "ours", "iops"), get(job, "pmem", "iops")
        wc, it = get(job, "wc", "iops"), get(job, "intree", "iops")
        if o is None:
            continue
        if p:
            out.append((o >= 0.9 * p, "%s: ours %.0f IOPS >= 90%% of raw pmem %.0f (%.0f%%)"
                        % (job, o, p, 100 * o / p)))
        if wc:
            out.append((o >= wc, "%s: ours >= dm-writecache %.0f (x%.2f)"
                        % (job, wc, o / wc)))
        if it:
            out.append((o >= 3 * it, "%s: ours >= 3x in-tree %.0f (x%.2f)"
                        % (job, it, o / it)))
        op = get(job, "ours", "p99_us")
        for peer in ("wc", "intree"):
            pp = get(job, peer, "p99_us")
            if op is not None and pp:
                out.append((op <= pp, "%s: ours p99 %.0f us <= %s p99 %.0f us"
                            % (job, op, LABEL[peer], pp)))
    if "ours" in rep and "intree" in rep:
        o, i = rep["ours"], rep["intree"]
        out.append((o["replay_ms"] <= i["replay_ms"] / 2,
                    "replay of %d extents: ours %.0f ms <= half of in-tree %.0f ms"
                    % (o["extents"], o["replay_ms"], i["replay_ms"])))
        if "dram_per_extent_b" in o and "dram_per_extent_b" in i:
            out.append((o["dram_per_extent_b"] <= i["dram_per_extent_b"],
                        "index DRAM per extent: ours %.0f B <= in-tree %.0f B"
                        % (o["dram_per_extent_b"], i["dram_per_extent_b"])))
    if "ours" in cf:
        s = cf["ours"]["longest_stall_ms"]
        out.append((s <= 1000, "cache full: ours longest stall %d ms <= 1000 ms" % s))
    return out


def gnuplot(out, summary, cf):
    if not shutil.which("gnuplot"):
        print("bench: gnuplot not installed, no charts")
        return
    dat = os.path.join(out, "bench.dat")
    tg = [t for t in TARGETS if any(t in summary.get(j, {}) for j in JOBS)]
    with open(dat, "w") as f:
        f.write("job " + " ".join('"%s"' % LABEL[t] for t in tg) + "\n")
        for j in JOBS:
            if j not in summary:
                continue
            vals = []
            for t in tg:
                x = summary[j].get(t, {}).get("x_pmem")
                vals.append("%.4f" % (100 * x) if x is not None else "0")
            f.write('"%s" %s\n' % (JOB_LABEL[j], " ".join(vals)))
    ymax = 1.15 * max([100] + [100 * s["x_pmem"] for j in summary.values()
                               for s in j.values() if s.get("x_pmem")])
    env = kv_file(os.path.join(out, "env.txt"))
    host = kv_file(os.path.join(out, "host.txt"))
    title = "dm-pcache bench: IOPS in %% of raw pmem (median of %s rounds, %s, %s vCPUs%s)" % (
        env.get("rounds", "?"), env.get("kernel", "?"), env.get("cpus", "?"),
        ", icount" if host.get("icount") == "1" else ", QEMU TCG")
    gp = """set terminal pngcairo size 1400,700 noenhanced font ",10"
set output '%s'
set title '%s'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set ylabel 'IOPS, %% of raw /dev/pmem0'
set yrange [0:%.0f]
set grid ytics
set key top right
set xtics nomirror
plot for [i=2:%d] '%s' using i:xtic(1) title columnheader(i)
""" % (os.path.join(out, "bench.png"), title, ymax, len(tg) + 1, dat)
    if cf:
        cfd = os.path.join(out, "cachefull.dat")
        with open(cfd, "w") as f:
            for t, r in cf.items():
                f.write("# %s\n" % t)
                last = 0
                for ms, v in r["series"]:
                    if ms - last > 500:	# a stall: draw it at zero
                        f.write("%.3f 0\n%.3f 0\n" % ((last + 250) / 1000,
                                                     (ms - 250) / 1000))
                    f.write("%.3f %d\n" % (ms / 1000, v))
                    last = ms
                f.write("\n\n")
        gp += """set output '%s'
set title 'Cache full: 4 KiB random writes of 3x a %s MiB cache (IOPS, 250 ms averages)'
set style data lines
set yrange [0:*]
unset xtics
set xtics auto
set xlabel 'seconds'
set ylabel 'IOPS'
set key top right
plot %s
""" % (os.path.join(out, "cachefull.png"), env.get("cf_mb", "?"),
           ", ".join("'%s' index %d using 1:2 with lines title '%s'" %
                     (cfd, i, LABEL[t]) for i, t in enumerate(cf)))
    p = subprocess.run(["gnuplot"], input=gp, text=True, capture_output=True)
    if p.returncode:
        print("bench: gnuplot failed:\n" + p.stderr)


def main():
    out = sys.argv[1]
    runs = collect(out)
    summary = summarize(runs)
    rep = replay(out)
    cf = cachefull(out)
    env = kv_file(os.path.join(out, "env.txt"))
    host = kv_file(os.path.join(out, "host.txt"))
    hdr, rows = main_table(summary)
    checks = targets_check(summary, rep, cf)

    lines = []
    mode = "icount (deterministic guest time)" if host.get("icount") == "1" else "TCG"
    lines.append("Environment: QEMU %s, %s vCPUs, guest kernel %s, emulated nvdimm "
                 "(%s MiB fsdax) and virtio-blk backing on host files; fio %s, "
                 "direct I/O, libaio; median of %s interleaved rounds of %s s "
                 "(+%s s ramp) per job. Absolute numbers are an emulator's; "
                 "compare ratios." % (
                     mode, env.get("cpus"), env.get("kernel"),
                     int(env.get("pmem_bytes", 0)) >> 20, env.get("fio"),
                     env.get("rounds"), env.get("runtime"), env.get("ramp")))
    rep_rows, cf_rows = [], []
    for t, r in rep.items():
        rep_rows.append([LABEL[t], r["extents"], "%.0f" % r["replay_ms"],
                         "%.0f" % r["create_empty_ms"],
                         fmt(r.get("dram_per_extent_b")),
                         fmt(r.get("slab_per_extent_b")),
                         fmt(r.get("dram_per_extent_filled_b")),
                         " ".join("%s:%d" % (k, v >> 10)
                                  for k, v in r.get("slab_growth", []))])
    rep_hdr = ["target", "4K extents", "replay ms", "empty create ms",
               "DRAM B/extent", "slab B/extent", "DRAM B/extent (live)",
               "slab caches grown by replay (KiB)"]
    for t, r in cf.items():
        cf_rows.append([LABEL[t], "%.0f" % r["iops"], "%.1f" % r["seconds"],
                        r["bytes"] >> 20, fmt(r["min_iops_250ms"]),
                        r["longest_stall_ms"], "%.0f" % r["max_lat_ms"]])
    cf_hdr = ["target", "IOPS", "seconds", "MiB written", "min IOPS (250 ms avg)",
              "longest stall ms", "max latency ms"]

    text = ["", lines[0], "", text_table(hdr, rows)]
    md = ["# dm-pcache bench results", "", lines[0], "",
          "IOPS, mean and p99 total latency are medians over rounds. "
          "'x raw pmem' is IOPS / raw pmem IOPS; 'ours / this' is our "
          "pcache's IOPS / this target's. 'hit %' is the read-hit ratio "
          "from the target's own counters (ours, dm-writecache).", "",
          md_table(hdr, rows)]
    if rep_rows:
        text += ["", "Replay (dmsetup create of a cache holding dirty 4 KiB extents) and index DRAM:",
                 text_table(rep_hdr, rep_rows)]
        md += ["", "## Replay and index DRAM", "",
               "A fresh cache takes N non-adjacent 4 KiB random writes, is "
               "removed and created again: `replay ms` is that `dmsetup create`. "
               "DRAM per extent = (growth of slab + vmalloc + percpu over the "
               "`dmsetup create` that replays N extents - growth over the one "
               "that creates an empty cache) / N, caches dropped before each "
               "reading. 'live' is the same measured right after the fill, "
               "with fio's traces in it.", "",
               md_table(rep_hdr, rep_rows)]
    if cf_rows:
        text += ["", "Cache full (4 KiB random writes of 3x a %s MiB cache):" % env.get("cf_mb"),
                 text_table(cf_hdr, cf_rows)]
        md += ["", "## Cache full", "",
               "4 KiB random writes QD16 of 3x the size of a %s MiB cache "
               "(a dm-linear slice of the pmem); IOPS logged every 250 ms. "
               "A stall is a stretch without a completed write." % env.get("cf_mb"),
               "", md_table(cf_hdr, cf_rows)]
    if checks:
        text += ["", "Issue 8 targets:"]
        md += ["", "## Issue 8 targets", ""]
        for ok, s in checks:
            text.append("  [%s] %s" % ("met" if ok else "NOT met", s))
            md.append("- [%s] %s" % ("x" if ok else " ", s))
    print("\n".join(text))

    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n\n![IOPS relative to raw pmem](bench.png)\n")
        if cf:
            f.write("\n![Cache full](cachefull.png)\n")
    for r in cf.values():
        r["series"] = [list(x) for x in r["series"]]
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"environment": {"guest": env, "host": host},
                   "summary": summary, "runs": runs, "replay": rep,
                   "cachefull": cf,
                   "targets": [{"met": ok, "what": s} for ok, s in checks]},
                  f, indent=1)
    gnuplot(out, summary, cf)
    print("\nbench: wrote %s/results.{json,md} and charts" % out)


if __name__ == "__main__":
    main()
