#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Host half of `make bench`: reads what bench_guest.sh left in OUT/raw (fio
# JSON per job, target and round; replay and cache-full records) and writes
#   OUT/results.json  every number, medians and per-round values
#   OUT/results.md    the tables below, in Markdown
#   OUT/bench.png     IOPS of every target relative to raw pmem, per job
#   OUT/cachefull.png IOPS over time while writing 3x a small cache
#   OUT/scale.png     replay time and index DRAM by cache size (scale extra)
# and prints the main table plus the targets, met or not.  The
# locks extra's lock_stat counts (bench_locks.sh, a debug-kernel boot) land
# in the same OUT/raw and get their own tables.  An extra that did not run
# leaves no file and so no section.
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


REPLAYED_RE = re.compile(r"replayed (\d+) ksets, (\d+) keys \((\d+) stale\), "
                         r"(\d+) KiB dirty in (\d+) ms")


def replay_record(out, t, sfx=""):
    """One raw/replay.T[SFX].txt (bench_guest.sh replay_one), or None."""
    raw = os.path.join(out, "raw")
    p = os.path.join(raw, "replay.%s%s.txt" % (t, sfx))
    if not os.path.exists(p):
        return None
    d, mem, again = {}, {}, {}
    for line in open(p, errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("mem_"):
            k, v = line.split(":", 1)
            mem[k[4:]] = parse_mem(v)
        elif "=" in line:
            k, v = line.split("=", 1)
            if k.endswith("_again_ns") or k.endswith("_again"):
                again.setdefault(k, []).append(v)
            else:
                d[k] = v
    cache_mb = int(d["cache_bytes"]) >> 20 if d.get("cache_bytes") else None
    if "refused" in d:
        return {"refused": d["refused"].strip(), "cache_mb": cache_mb,
                "extents": int(d.get("extents", 0))}
    try:
        ext = int(d["extents"])
        runs = [int(v) / 1e6 for v in [d["replay_ns"]] +
                again.get("replay_again_ns", [])]
        r = {
            "extents": ext,
            "cache_mb": cache_mb,
            # the median of the creates that replayed the same journal
            "replay_ms": med(runs),
            "replay_ms_runs": runs,
            # the median of the format and the empty creates after it
            "create_empty_ms": med([int(v) / 1e6 for v in [d["create_empty_ns"]] +
                                    again.get("create_empty_again_ns", [])]),
            "fill_s": int(d["fill_ns"]) / 1e9,
            "status_filled": d.get("status_filled"),
            "status_replayed": d.get("status_replayed"),
            "mem": mem,
        }
    except (KeyError, ValueError):
        print("bench: %s is incomplete (the guest stopped in it?)" % p)
        return None
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
            os.path.join(raw, "slabinfo.%s%s.removed" % (t, sfx)),
            os.path.join(raw, "slabinfo.%s%s.replayed" % (t, sfx)))
    if "filled" in mem and "empty" in mem:
        r["dram_per_extent_filled_b"] = (dram(mem["filled"]) - dram(mem["empty"])) / ext
    # ours logs its own journal walk: keys found and the walk's time
    ms = []
    for line in [d.get("dmesg_replayed", "")] + again.get("dmesg_replayed_again", []):
        m = REPLAYED_RE.search(line)
        if m:
            ms.append(int(m.group(5)))
    m = REPLAYED_RE.search(d.get("dmesg_replayed", ""))
    if m:
        r["kernel_replay"] = {"ksets": int(m.group(1)), "keys": int(m.group(2)),
                              "stale": int(m.group(3)),
                              "dirty_kib": int(m.group(4)),
                              "ms": med(ms), "ms_runs": ms}
    return r


def replay(out):
    res = {}
    for t in ("ours", "intree"):
        r = replay_record(out, t)
        if r and "refused" not in r:
            res[t] = r
    return res


def scale(out):
    """The scale extra: {cache MiB: {target: replay record}}."""
    res = {}
    raw = os.path.join(out, "raw")
    if not os.path.isdir(raw):
        return res
    pat = re.compile(r"^replay\.(ours|intree)\.(\d+)\.txt$")
    for f in sorted(os.listdir(raw)):
        m = pat.match(f)
        if not m:
            continue
        r = replay_record(out, m.group(1), "." + m.group(2))
        if r:
            res.setdefault(int(m.group(2)), {})[m.group(1)] = r
    return dict(sorted(res.items()))


def runs_ms(xs):
    """Each create's time, in the order they ran."""
    return " ".join("%.0f" % x for x in xs)


def ratio(a, b):
    return a / b if a is not None and b else None


def scale_tables(sc):
    """Rows of the per-point table and of the ours / in-tree table."""
    hdr = ["target", "cache MiB", "4K extents", "replay ms", "empty create ms",
           "(replay - empty) us / 1000 extents", "replay ms each create",
           "DRAM B/extent",
           "fixed DRAM KiB", "keys replayed (own log)", "own walk ms"]
    rows, rhdr, rrows = [], ["cache MiB", "4K extents", "replay ms ours / in-tree",
                             "DRAM B/extent ours / in-tree"], []
    for mb, per in sc.items():
        for t in ("ours", "intree"):
            r = per.get(t)
            if not r:
                continue
            if "refused" in r:
                rows.append([LABEL[t], mb, "-", "refused", "-", "-", "-", "-",
                             "-", "-", "-"])
                continue
            k = r.get("kernel_replay", {})
            rows.append([LABEL[t], mb, r["extents"], "%.0f" % r["replay_ms"],
                         "%.0f" % r["create_empty_ms"],
                         "%.1f" % ((r["replay_ms"] - r["create_empty_ms"]) * 1e6 /
                                   r["extents"]),
                         runs_ms(r["replay_ms_runs"]),
                         fmt(r.get("dram_per_extent_b")),
                         fmt(None if r.get("dram_fixed_b") is None
                             else r["dram_fixed_b"] / 1024),
                         fmt(k.get("keys"), "%d"), fmt(k.get("ms"), "%d")])
        o, i = per.get("ours"), per.get("intree")
        if o and i and "refused" not in o and "refused" not in i:
            rrows.append([mb, o["extents"],
                          fmt(ratio(o["replay_ms"], i["replay_ms"]), "%.2f"),
                          fmt(ratio(o.get("dram_per_extent_b"),
                                    i.get("dram_per_extent_b")), "%.2f")])
    return hdr, rows, rhdr, rrows


def scale_refusals(sc):
    """'target at N MiB: its kernel message' for every refused point."""
    return ["%s at %d MiB: %s" % (LABEL[t], mb,
                                  re.sub(r"^\[[^]]*\]\s*", "", r["refused"]))
            for mb, per in sc.items() for t, r in per.items() if "refused" in r]


# ---------------------------------------------------------------- locks

LS_FIELDS = ["con_bounces", "contentions", "wait_min_us", "wait_max_us",
             "wait_total_us", "wait_avg_us", "acq_bounces", "acquisitions",
             "hold_min_us", "hold_max_us", "hold_total_us", "hold_avg_us"]
LS_NUM = re.compile(r"^\d+(\.\d+)?$")
LS_POINT = re.compile(r"^\s*(.*?)\s+(\d+)\s+\[<([0-9a-fA-Fx]+)>\]\s+(.*)$")


def parse_lock_stat(path):
    """/proc/lock_stat (version 0.4, kernel/locking/lockdep_proc.c).

    A class line is NAME: (or NAME-W: / NAME-R: for a lock taken both ways)
    and 12 numbers (times in us); after it, when it was contended, up to
    two groups of contention points, each after a line of dashes: the call
    sites that waited, then the ones that held the lock meanwhile; a line
    of dots ends the class."""
    classes, cur, seps, warning = {}, None, 0, False
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("*WARNING*"):
            warning = True
            continue
        parts = line.rsplit(None, 12)
        if (len(parts) == 13 and parts[0].rstrip().endswith(":") and
                all(LS_NUM.match(x) for x in parts[1:])):
            name, mode = parts[0].strip()[:-1], "W"
            if name.endswith(("-W", "-R")):
                name, mode = name[:-2], name[-1]
            cur = classes.setdefault(name, {"modes": {}, "waiters": [],
                                            "holders": []})
            cur["modes"][mode] = dict(zip(LS_FIELDS, (float(x) for x in parts[1:])))
            seps = 0
            continue
        if cur is None:
            continue
        st = line.strip()
        if st and set(st) == {"-"}:
            seps += 1
        elif st and set(st) == {"."}:
            cur = None
        else:
            m = LS_POINT.match(line)
            if m and seps in (1, 2):
                cur["waiters" if seps == 1 else "holders"].append(
                    {"count": int(m.group(2)), "where": m.group(4).strip()})
    for c in classes.values():
        for k in ("contentions", "acquisitions", "wait_total_us",
                  "con_bounces", "acq_bounces", "hold_total_us"):
            c[k] = sum(x[k] for x in c["modes"].values())
        c["wait_max_us"] = max(x["wait_max_us"] for x in c["modes"].values())
    return {"classes": classes, "warning": warning}


def lock_stat_name(full):
    """The name /proc/lock_stat prints for a /proc/lockdep class name: the
    base cut to 37 characters, less 2 per #version and /subclass suffix,
    each of which keeps one digit."""
    m = re.match(r"^(.*?)(#\d+)?(/\d+)?$", full)
    base, ver, sub = m.group(1), m.group(2) or "", m.group(3) or ""
    n = 38 - (2 if ver else 0) - (2 if sub else 0)
    return base[:n - 1] + ver[:2] + sub[:2]


def locks(out):
    """The locks extra: per target, its module's lock classes, counted."""
    raw = os.path.join(out, "raw")
    res = {}
    for t in ("ours", "intree"):
        ls = os.path.join(raw, "lock_stat.%s.txt" % t)
        if not os.path.exists(ls):
            continue
        stat = parse_lock_stat(ls)
        kv = kv_file(os.path.join(raw, "locks.%s.txt" % t))
        ios, iops = int(kv.get("ios", 0) or 0), None
        try:
            j = json.load(open(os.path.join(raw, "locks.%s.json" % t)))["jobs"][0]
            ios = j["read"]["total_ios"] + j["write"]["total_ios"]
            iops = j["read"]["iops"] + j["write"]["iops"]
        except (OSError, ValueError, KeyError, IndexError):
            pass
        meta, names = {}, []
        cf = os.path.join(raw, "lockdep_classes.%s.txt" % t)
        if os.path.exists(cf):
            for line in open(cf, errors="replace"):
                line = line.rstrip("\n")
                if line.startswith("#"):
                    meta.update(re.findall(r"(\w+)=(\S+)", line))
                elif line:
                    names.append(line)
        per = lambda x, k=1: x * k / ios if ios else None
        zero = {"contentions": 0, "acquisitions": 0, "wait_total_us": 0,
                "wait_max_us": 0, "con_bounces": 0, "acq_bounces": 0,
                "hold_total_us": 0, "waiters": [], "holders": []}
        mine, keys = [], set()
        for n in names:
            key = lock_stat_name(n)
            keys.add(key)
            c = stat["classes"].get(key, zero)
            mine.append({"class": n, "contentions": c["contentions"],
                         "acquisitions": c["acquisitions"],
                         "wait_total_us": c["wait_total_us"],
                         "wait_max_us": c["wait_max_us"],
                         "acq_per_io": per(c["acquisitions"]),
                         "cont_per_mio": per(c["contentions"], 1e6),
                         "wait_ns_per_io": per(c["wait_total_us"], 1e3),
                         "top_waiter": (c["waiters"][0]["where"]
                                        if c["waiters"] else None)})
        mine.sort(key=lambda c: (-c["contentions"], -c["acquisitions"], c["class"]))
        top = sorted(((n, c) for n, c in stat["classes"].items()
                      if c["contentions"]),
                     key=lambda kv_: -kv_[1]["contentions"])[:5]
        tot = lambda k: sum(c[k] for c in mine)
        res[t] = {
            "ios": ios, "iops_debug_kernel": iops,
            "method": meta.get("method"), "hashed": meta.get("hashed"),
            "lock_debugging_disabled": stat["warning"],
            "module_classes": mine,
            "module_total": {
                "classes": len(mine),
                "classes_taken": sum(1 for c in mine if c["acquisitions"]),
                "acquisitions": tot("acquisitions"),
                "contentions": tot("contentions"),
                "wait_total_us": tot("wait_total_us"),
                "acq_per_io": per(tot("acquisitions")),
                "cont_per_mio": per(tot("contentions"), 1e6),
                "wait_ns_per_io": per(tot("wait_total_us"), 1e3)},
            "top5_any": [{"class": n, "of_module": n in keys,
                          "contentions": c["contentions"],
                          "acquisitions": c["acquisitions"],
                          "cont_per_mio": per(c["contentions"], 1e6),
                          "acq_per_io": per(c["acquisitions"]),
                          "wait_ns_per_io": per(c["wait_total_us"], 1e3),
                          "top_waiter": (c["waiters"][0]["where"]
                                         if c["waiters"] else None)}
                         for n, c in top],
        }
    return res


def locks_tables(lk):
    shdr = ["target", "I/Os", "IOPS (debug kernel)", "module lock classes (taken)",
            "acq / I/O", "cont / 1M I/O", "wait ns / I/O", "classes from"]
    srows = []
    for t, r in lk.items():
        m = r["module_total"]
        srows.append([LABEL[t], r["ios"], fmt(r["iops_debug_kernel"]),
                      "%d (%d)" % (m["classes"], m["classes_taken"]),
                      fmt(m["acq_per_io"], "%.2f"), fmt(m["cont_per_mio"], "%.1f"),
                      fmt(m["wait_ns_per_io"], "%.1f"), r["method"] or "-"])
    if "ours" in lk and "intree" in lk:
        o, i = lk["ours"]["module_total"], lk["intree"]["module_total"]
        srows.append(["ours / in-tree", "", "", "",
                      fmt(ratio(o["acq_per_io"], i["acq_per_io"]), "%.2f"),
                      fmt(ratio(o["cont_per_mio"], i["cont_per_mio"]), "%.2f"),
                      fmt(ratio(o["wait_ns_per_io"], i["wait_ns_per_io"]), "%.2f"),
                      ""])
    chdr = ["target", "lock class", "acquisitions", "acq / I/O", "contentions",
            "cont / 1M I/O", "wait ns / I/O", "max wait us", "where it waited most"]
    crows = []
    for t, r in lk.items():
        for c in r["module_classes"]:
            crows.append([LABEL[t], c["class"], "%d" % c["acquisitions"],
                          fmt(c["acq_per_io"], "%.3f"), "%d" % c["contentions"],
                          fmt(c["cont_per_mio"], "%.1f"),
                          fmt(c["wait_ns_per_io"], "%.1f"),
                          fmt(c["wait_max_us"], "%.1f"), c["top_waiter"] or "-"])
    thdr = ["target", "lock class (any subsystem)", "of the module", "contentions",
            "cont / 1M I/O", "acq / I/O", "wait ns / I/O", "where it waited most"]
    trows = []
    for t, r in lk.items():
        for c in r["top5_any"]:
            trows.append([LABEL[t], c["class"], "yes" if c["of_module"] else "",
                          "%d" % c["contentions"], fmt(c["cont_per_mio"], "%.1f"),
                          fmt(c["acq_per_io"], "%.3f"), fmt(c["wait_ns_per_io"], "%.1f"),
                          c["top_waiter"] or "-"])
    return (shdr, srows), (chdr, crows), (thdr, trows)


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
        # the fixed cost of any `dmsetup create`, shown beside the target
        on, inn = (o["replay_ms"] - o["create_empty_ms"],
                   i["replay_ms"] - i["create_empty_ms"])
        out.append((o["replay_ms"] <= i["replay_ms"] / 2,
                    "replay of %d extents: ours %.0f ms <= half of in-tree %.0f ms"
                    " (x%.2f; less each one's empty create: %.0f vs %.0f ms, x%.2f)"
                    % (o["extents"], o["replay_ms"], i["replay_ms"],
                       o["replay_ms"] / i["replay_ms"], on, inn,
                       on / inn if inn > 0 else float("nan"))))
        if "dram_per_extent_b" in o and "dram_per_extent_b" in i:
            out.append((o["dram_per_extent_b"] <= i["dram_per_extent_b"],
                        "index DRAM per extent: ours %.0f B <= in-tree %.0f B"
                        % (o["dram_per_extent_b"], i["dram_per_extent_b"])))
    if "ours" in cf:
        s = cf["ours"]["longest_stall_ms"]
        out.append((s <= 1000, "cache full: ours longest stall %d ms <= 1000 ms" % s))
    return out


def gnuplot(out, summary, cf, sc):
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
    pts = {t: [(r["extents"], r["replay_ms"], r.get("dram_per_extent_b"))
               for per in sc.values() for tt, r in per.items()
               if tt == t and "refused" not in r]
           for t in ("ours", "intree")}
    pts = {t: v for t, v in pts.items() if v}
    if pts:
        scd = os.path.join(out, "scale.dat")
        with open(scd, "w") as f:
            for t, v in pts.items():
                f.write("# %s: extents replay_ms dram_bytes_per_extent\n" % t)
                for e, ms, b in sorted(v):
                    f.write("%d %.3f %s\n" % (e, ms, "NaN" if b is None else "%.1f" % b))
                f.write("\n\n")
        plot = lambda col: ", ".join(
            "'%s' index %d using 1:%d with linespoints lw 2 pt 7 title '%s'"
            % (scd, i, col, LABEL[t]) for i, t in enumerate(pts))
        gp += """reset
set terminal pngcairo size 1400,600 noenhanced font ",10"
set output '%s'
set multiplot layout 1,2 title 'Replay and index DRAM by cache size (caches half full of non-adjacent dirty 4 KiB extents)'
set logscale x 2
set grid
set key top left
set xlabel '4 KiB extents in the cache'
set ylabel 'replay: dmsetup create, ms'
set yrange [0:*]
plot %s
set ylabel 'index DRAM, bytes per extent'
plot %s
unset multiplot
""" % (os.path.join(out, "scale.png"), plot(2), plot(3))
    p = subprocess.run(["gnuplot"], input=gp, text=True, capture_output=True)
    if p.returncode:
        print("bench: gnuplot failed:\n" + p.stderr)


def main():
    out = sys.argv[1]
    runs = collect(out)
    summary = summarize(runs)
    rep = replay(out)
    cf = cachefull(out)
    sc = scale(out)
    lk = locks(out)
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
    if env.get("cache_dev_bytes", env.get("pmem_bytes")) != env.get("pmem_bytes"):
        lines[0] += (" The cache targets use a dm-linear slice of its first %d MiB "
                     "(%s), raw pmem the same span." % (
                         int(env["cache_dev_bytes"]) >> 20, env.get("cache_dev")))
    rep_rows, cf_rows = [], []
    for t, r in rep.items():
        rep_rows.append([LABEL[t], r["extents"], "%.0f" % r["replay_ms"],
                         runs_ms(r["replay_ms_runs"]),
                         "%.0f" % r["create_empty_ms"],
                         fmt(r.get("dram_per_extent_b")),
                         fmt(r.get("slab_per_extent_b")),
                         fmt(r.get("dram_per_extent_filled_b")),
                         " ".join("%s:%d" % (k, v >> 10)
                                  for k, v in r.get("slab_growth", []))])
    rep_hdr = ["target", "4K extents", "replay ms", "replay ms each create",
               "empty create ms",
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
               "removed and created again: `replay ms` is the median of "
               "that `dmsetup create` and of the ones after it (each right "
               "after a remove) that replay the same journal; 'empty create "
               "ms' the median of the create that formats the cache and of "
               "the empty creates after it. "
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
    if sc:
        s_hdr, s_rows, r_hdr, r_rows = scale_tables(sc)
        text += ["", "Replay and index DRAM by cache size:",
                 text_table(s_hdr, s_rows)]
        refusals = scale_refusals(sc)
        text += ["  refused: " + x for x in refusals]
        if r_rows:
            text += ["", text_table(r_hdr, r_rows)]
        md += ["", "## Replay and index DRAM by cache size", "",
               "The replay measurement (as in the replay extra), on dm-linear slices of the "
               "first S MiB of a larger nvdimm (S = %s), each cache filled "
               "to half its size with non-adjacent dirty 4 KiB extents in "
               "random order; only the head of each slice is zeroed. "
               "'(replay - empty)' takes out the fixed cost of creating the "
               "device; 'fixed DRAM' is what an empty cache of that size "
               "costs. 'keys replayed' and 'own walk ms' come from our "
               "target's log line (to compare with the extents). The "
               "in-tree target refuses caches under 512 MiB." % (
                   " ".join(str(x) for x in sc)), "",
               md_table(s_hdr, s_rows)]
        if refusals:
            md += [""] + ["Refused: %s" % x for x in refusals]
        if r_rows:
            md += ["", "Ours / in-tree (below 1: ours is faster or smaller):", "",
                   md_table(r_hdr, r_rows)]
    if lk:
        (l_hdr, l_rows), (c_hdr, c_rows), (t_hdr, t_rows) = locks_tables(lk)
        lenv = kv_file(os.path.join(out, "raw", "locks_env.txt"))
        text += ["", "Lock contention during 4K randwrite (debug kernel, lock_stat; "
                 "counts, not speed):", text_table(l_hdr, l_rows), "",
                 text_table(c_hdr, c_rows), "",
                 "Top 5 lock classes by contentions, any subsystem (context):",
                 text_table(t_hdr, t_rows)]
        md += ["", "## Lock contention during 4K randwrite (debug kernel, lock_stat)", "",
               "A second boot, of the debug kernel (%s, KASAN, lockdep, "
               "CONFIG_LOCK_STAT), which is many times slower than the bench "
               "kernel: these are counts per I/O, not speed. For each target "
               "on a fresh cache (the 256 MiB hot set written first), the "
               "4 KiB randwrite job (QD16 x 2 jobs, %s s) ran with "
               "/proc/lock_stat cleared and on; background writeback ran "
               "meanwhile and counts too. The module's lock classes are the "
               "lockdep classes whose key lies in its memory ('classes from: "
               "address'; 'new-since-load' means the classes that appeared "
               "after it was loaded, which may include a few of other "
               "subsystems); each is listed even when it was not taken. "
               "'acq / I/O': acquisitions (read and write) per fio I/O; "
               "'cont / 1M I/O': acquisitions that had to wait, per million "
               "I/Os; 'wait ns / I/O': total time spent waiting, per I/O. "
               "With 2 vCPUs under TCG, contention is what two CPUs produce; "
               "acquisitions per I/O are what more cores would fight over." % (
                   lenv.get("kernel", "?"), lenv.get("runtime", "?")), "",
               md_table(l_hdr, l_rows), "", "Every lock class of the module:", "",
               md_table(c_hdr, c_rows), "",
               "For context, the 5 most contended lock classes of the whole "
               "kernel during the same job (any subsystem):", "",
               md_table(t_hdr, t_rows)]
        for t, r in lk.items():
            if r["lock_debugging_disabled"]:
                w = ("%s: lock debugging was disabled during the run (a lockdep "
                     "report, see vm-locks/): its counts are incomplete" % LABEL[t])
                text.append("WARNING: " + w)
                md += ["", "**Warning:** " + w + "."]
    if host.get("locks_rc", "0") != "0":
        w = ("the locks extra's debug boot failed (status %s, see vm-locks/)"
             % host["locks_rc"])
        text += ["", "NOTE: " + w]
        md += ["", "Note: " + w + "."]
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
        if sc:
            f.write("\n![Replay and index DRAM by cache size](scale.png)\n")
    for r in cf.values():
        r["series"] = [list(x) for x in r["series"]]
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"environment": {"guest": env, "host": host},
                   "summary": summary, "runs": runs, "replay": rep,
                   "cachefull": cf,
                   "scale": {str(k): v for k, v in sc.items()},
                   "locks": lk,
                   "targets": [{"met": ok, "what": s} for ok, s in checks]},
                  f, indent=1)
    gnuplot(out, summary, cf, sc)
    print("\nbench: wrote %s/results.{json,md} and charts" % out)


if __name__ == "__main__":
    main()
