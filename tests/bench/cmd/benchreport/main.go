// Command benchreport prints ginauth's benchmark results as one table of
// ratios against the targets of docs/performance.md. It reads `go test
// -bench` output (BenchmarkVerify, BenchmarkVerifyPaired, BenchmarkGuardCost
// and BenchmarkAttach*, any -count; medians are taken) and the JSON lines
// the load tests append to -bench.out.
//
//	go run ./tests/bench/cmd/benchreport -bench bench.txt -load load.jsonl
//
// scripts/bench.sh (make bench) runs the benchmarks and then this.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

func main() {
	benchFile := flag.String("bench", "", "go test -bench output")
	loadFile := flag.String("load", "", "JSON lines from the load tests")
	flag.Parse()
	m := metrics{}
	if *benchFile != "" {
		if err := m.readBench(*benchFile); err != nil {
			fmt.Fprintln(os.Stderr, "benchreport:", err)
			os.Exit(1)
		}
	}
	if *loadFile != "" {
		if err := m.readLoad(*loadFile); err != nil {
			fmt.Fprintln(os.Stderr, "benchreport:", err)
			os.Exit(1)
		}
	}
	m.print()
}

// metrics maps "name unit" to every value seen.
type metrics map[string][]float64

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func (m metrics) readBench(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		g := benchLine.FindStringSubmatch(sc.Text())
		if g == nil {
			continue
		}
		fields := strings.Fields(g[2])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			m.add(g[1], fields[i+1], v)
		}
	}
	return sc.Err()
}

func (m metrics) readLoad(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var r struct {
			Name  string
			Value float64
			Unit  string
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return err
		}
		m.add(r.Name, r.Unit, r.Value)
	}
	return nil
}

func (m metrics) add(name, unit string, v float64) { m[name+" "+unit] = append(m[name+" "+unit], v) }

// get returns the median of name/unit, and whether there was any.
func (m metrics) get(name, unit string) (float64, bool) {
	xs := m[name+" "+unit]
	if len(xs) == 0 {
		return 0, false
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

type row struct {
	what, measured, target, verdict string
}

func (m metrics) print() {
	var rows []row
	add := func(what, measured, target string, met *bool) {
		v := "info"
		if met != nil {
			v = map[bool]string{true: "MET", false: "NOT MET"}[*met]
		}
		rows = append(rows, row{what, measured, target, v})
	}
	b := func(x bool) *bool { return &x }
	paired := func(alg, name string) (float64, bool) {
		return m.get("BenchmarkVerifyPaired/"+alg, "ns/"+name)
	}
	allocs := func(alg, name string) string {
		a, ok := m.get("BenchmarkVerify/"+alg+"/"+name, "allocs/op")
		if !ok {
			return ""
		}
		by, _ := m.get("BenchmarkVerify/"+alg+"/"+name, "B/op")
		return fmt.Sprintf("; %.0f allocs, %.0f B", a, by)
	}
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		raw, ok := paired(alg, "raw-signature")
		if !ok {
			continue
		}
		for _, c := range []struct{ name, label string }{
			{"ginauth/cold", "VerifySession, cache off"},
			{"ginauth/cold-claim", "VerifySession + RequireClaim, cache off"},
		} {
			if v, ok := paired(alg, c.name); ok {
				add(fmt.Sprintf("%s %s / raw verify", alg, c.label),
					fmt.Sprintf("%.2fx (%.1f / %.1f µs%s)", v/raw, v/1e3, raw/1e3, allocs(alg, c.name)), "≤ 1.20x", b(v/raw <= 1.2))
			}
		}
		for _, c := range []struct{ name, label string }{
			{"ginauth/cached", "VerifySession, repeat (cache hit)"},
			{"ginauth/cached-claim", "VerifySession + RequireClaim, cache hit"},
		} {
			if v, ok := paired(alg, c.name); ok {
				add(fmt.Sprintf("%s %s", alg, c.label), fmt.Sprintf("%.2f µs%s", v/1e3, allocs(alg, c.name)), "< 2 µs", b(v < 2000))
			}
		}
		if v, ok := paired(alg, "gin/no-guard"); ok && alg == "RS256" {
			add("gin engine + recorder, no guard (the floor under every row)", fmt.Sprintf("%.2f µs%s", v/1e3, allocs(alg, "gin/no-guard")), "", nil)
		}
		// The guard's own cost comes from BenchmarkGuardCost (interleaved
		// batches, means with garbage collection), not from the round robin
		// above: see docs/performance.md, "The guard's own cost".
		if g, ok := m.get("BenchmarkGuardCost/"+alg, "ns/guard"); ok {
			hit, _ := m.get("BenchmarkGuardCost/"+alg, "ns/hit")
			none, _ := m.get("BenchmarkGuardCost/"+alg, "ns/bare")
			add(fmt.Sprintf("%s guard's own cost: cache hit − bare gin route (interleaved batches)", alg),
				fmt.Sprintf("%.2f µs (%.2f − %.2f µs)", g/1e3, hit/1e3, none/1e3), "≤ 0.5 µs", b(g <= 500))
		}
		if v, ok := paired(alg, "ginauth/cached-checkdb"); ok && alg == "RS256" {
			add("RS256 VerifySession CheckDatabase (cache hit + 1 indexed read)", fmt.Sprintf("%.1f µs%s", v/1e3, allocs(alg, "ginauth/cached-checkdb")), "", nil)
		}
	}
	if cold, ok := paired("RS256", "ginauth/cold"); ok {
		if jwt, ok := paired("RS256", "gin-jwt/RS256"); ok {
			add("RS256 ginauth cold / gin-jwt RS256", fmt.Sprintf("%.2fx (%.1f / %.1f µs%s)", cold/jwt, cold/1e3, jwt/1e3, allocs("RS256", "gin-jwt/RS256")), "≤ 1.20x", b(cold/jwt <= 1.2))
		}
		if hs, ok := paired("RS256", "gin-jwt/HS256"); ok {
			add("gin-jwt HS256 (reference, shared secret)", fmt.Sprintf("%.1f µs%s", hs/1e3, allocs("RS256", "gin-jwt/HS256")), "", nil)
		}
		if ck, ok := paired("RS256", "sessions/cookie"); ok {
			add("gin-contrib/sessions cookie store (reference)", fmt.Sprintf("%.1f µs%s", ck/1e3, allocs("RS256", "sessions/cookie")), "", nil)
		}
		if g, ok := paired("RS256", "sessions/gorm"); ok {
			add("RS256 ginauth cold / gin-contrib/sessions gorm store (DB)", fmt.Sprintf("%.2fx (%.1f / %.1f µs%s)", cold/g, cold/1e3, g/1e3, allocs("RS256", "sessions/gorm")), "< 1x (beat every DB check)", b(cold < g))
		}
	}

	if none, ok := m.get("BenchmarkAttachPaired", "ns/none"); ok {
		for _, w := range []struct{ name, label string }{
			{"c.Set", "c.Set only (SessionFrom)"},
			{"ctx-only", "request context only, Request.WithContext"},
			{"ctx-only/one-alloc", "request context only, request copy in the same allocation (ginauth now)"},
			{"both/one-alloc", "both, one allocation (ginauth before)"},
			{"both/with-value", "both, context.WithValue"},
		} {
			if v, ok := m.get("BenchmarkAttachPaired", "ns/"+w.name); ok {
				al := ""
				if a, ok := m.get("BenchmarkAttach/"+w.name, "allocs/op"); ok {
					an, _ := m.get("BenchmarkAttach/none", "allocs/op")
					by, _ := m.get("BenchmarkAttach/"+w.name, "B/op")
					bn, _ := m.get("BenchmarkAttach/none", "B/op")
					al = fmt.Sprintf("; +%.0f allocs, +%.0f B", a-an, by-bn)
				}
				add("attach a session: "+w.label+", over a bare route", fmt.Sprintf("%.2f µs%s", (v-none)/1e3, al), "", nil)
			}
		}
	}

	if cold, ok := m.get("peers/ginauth/cold/rps", "req/s"); ok {
		cl, _ := m.get("peers/clients", "clients")
		p50c, _ := m.get("peers/ginauth/cold/p50", "µs")
		p99c, _ := m.get("peers/ginauth/cold/p99", "µs")
		add(fmt.Sprintf("HTTP, %.0f clients: ginauth VerifySession cold (the base of the ratios below)", cl),
			fmt.Sprintf("%.0f req/s, p50 %.2f ms, p99 %.2f ms", cold, p50c/1e3, p99c/1e3), "", nil)
		for _, c := range []struct{ name, label string }{
			{"ginauth/cached", "ginauth VerifySession, cache hit"},
			{"ginauth/checkdb", "ginauth VerifySession + CheckDatabase"},
			{"gin/none", "gin, no guard (Go floor)"},
			{"supertokens-node", "supertokens-node verifySession (Express), same tokens"},
			{"better-auth", "Better Auth getSession, cookie cache off"},
			{"better-auth/cookie-cache", "Better Auth getSession, cookie cache on"},
			{"express/none", "Express, no guard (node floor)"},
		} {
			r, ok := m.get("peers/"+c.name+"/rps-vs-cold", "ratio")
			if !ok {
				continue
			}
			rps, _ := m.get("peers/"+c.name+"/rps", "req/s")
			p50, _ := m.get("peers/"+c.name+"/p50-vs-cold", "ratio")
			p99, _ := m.get("peers/"+c.name+"/p99-vs-cold", "ratio")
			add(fmt.Sprintf("HTTP: %s / ginauth cold", c.label),
				fmt.Sprintf("req/s %.2fx (%.0f), p50 %.2fx, p99 %.2fx", r, rps, p50, p99), "", nil)
		}
		if n, ok := m.get("peers/supertokens-node/core-calls", "calls"); ok {
			req, _ := m.get("peers/supertokens-node/requests", "requests")
			add("supertokens-node core calls during the run (local verify)", fmt.Sprintf("%.0f in %.0f requests", n, req), "0", b(n == 0))
		}
	}

	if bound, ok := m.get("signin/bound", "req/s"); ok {
		ht, _ := m.get("signin/hash-ms", "ms")
		add("sign-in hash bound (cores / one argon2id hash)", fmt.Sprintf("%.1f req/s (hash %.1f ms)", bound, ht), "", nil)
		if pb, ok := m.get("signin/parallel-bound", "req/s"); ok {
			add("sign-in parallel hash bound (every core hashing at once) / hash bound", fmt.Sprintf("%.0f%% (%.1f req/s)", pb/bound*100, pb), "", nil)
		}
		var levels []int
		for k := range m {
			var c int
			if _, err := fmt.Sscanf(k, "signin/c%d/throughput", &c); err == nil {
				levels = append(levels, c)
			}
		}
		sort.Ints(levels)
		for _, c := range levels {
			p := fmt.Sprintf("signin/c%d/", c)
			rps, _ := m.get(p+"throughput", "req/s")
			of, _ := m.get(p+"of-bound", "ratio")
			p50, _ := m.get(p+"p50", "ms")
			p99, _ := m.get(p+"p99", "ms")
			rss, _ := m.get(p+"peak-rss", "MiB")
			heap, _ := m.get(p+"peak-heap", "MiB")
			var met *bool
			target := "n/a: 1 client cannot use 2 cores"
			if c > 1 {
				met, target = b(of >= 0.9), "≥ 90% of bound"
			}
			add(fmt.Sprintf("sign-in, %d clients", c), fmt.Sprintf("%.0f%% of bound (%.1f req/s, p50 %.0f ms, p99 %.0f ms)", of*100, rps, p50, p99), target, met)
			if op, ok := m.get(p+"of-parallel-bound", "ratio"); ok {
				add(fmt.Sprintf("sign-in, %d clients / parallel hash bound", c), fmt.Sprintf("%.0f%%", op*100), "", nil)
			}
			add(fmt.Sprintf("sign-in, %d clients: peak memory", c), fmt.Sprintf("RSS %.0f MiB, Go heap %.0f MiB", rss, heap), "≈ pool x 20 MB, flat in clients", nil)
		}
	}
	for _, alg := range []string{"RS256", "EdDSA"} {
		if of, ok := m.get("refresh/"+alg+"/of-floor", "ratio"); ok {
			rps, _ := m.get("refresh/"+alg+"/throughput", "req/s")
			fl, _ := m.get("refresh/"+alg+"/floor", "req/s")
			add(fmt.Sprintf("refresh (%s) / floor (same signature and statements, minimal gin handler)", alg), fmt.Sprintf("%.2fx (%.0f vs %.0f req/s)", of, rps, fl), "≥ 0.80x", b(of >= 0.8))
		}
		if of, ok := m.get("refresh/"+alg+"/of-pgbench", "ratio"); ok {
			rps, _ := m.get("refresh/"+alg+"/throughput", "req/s")
			pg, _ := m.get("refresh/pgbench", "tps")
			add(fmt.Sprintf("refresh (%s) / pgbench one-row UPDATE (reference)", alg), fmt.Sprintf("%.1f%% (%.0f req/s vs %.0f tps)", of*100, rps, pg), "", nil)
		}
	}
	var sizes []int
	for k := range m {
		var n int
		if _, err := fmt.Sscanf(k, "refresh/latency/%d µs", &n); err == nil {
			sizes = append(sizes, n)
		}
	}
	sort.Ints(sizes)
	for i, n := range sizes {
		v, _ := m.get(fmt.Sprintf("refresh/latency/%d", n), "µs")
		if i == 0 {
			add(fmt.Sprintf("refresh latency, %d sessions", n), fmt.Sprintf("%.0f µs (p50)", v), "", nil)
			continue
		}
		r, _ := m.get(fmt.Sprintf("refresh/latency/%d-vs-first", n), "ratio")
		add(fmt.Sprintf("refresh latency, %d sessions / %d", n, sizes[0]), fmt.Sprintf("%.2fx (%.0f µs p50)", r, v), "≤ 1.5x", b(r <= 1.5))
	}

	if tp, ok := m.get("soak/throughput", "req/s"); ok {
		users, _ := m.get("soak/users", "users")
		cl, _ := m.get("soak/clients", "clients")
		secs, _ := m.get("soak/seconds", "s")
		add(fmt.Sprintf("soak: %.0f users, %.0f clients, %.0f s, 90/8/2 verify/refresh/sign-in", users, cl, secs), fmt.Sprintf("%.0f req/s", tp), "", nil)
		for _, k := range []string{"verify", "refresh", "signin"} {
			n, _ := m.get("soak/"+k+"/count", "requests")
			p50, _ := m.get("soak/"+k+"/p50", "ms")
			p99, _ := m.get("soak/"+k+"/p99", "ms")
			add("soak: "+k, fmt.Sprintf("%.0f requests, p50 %.2f ms, p99 %.2f ms", n, p50, p99), "", nil)
		}
		e, _ := m.get("soak/errors", "errors")
		add("soak: errors", fmt.Sprintf("%.0f", e), "0", b(e == 0))
		if r, ok := m.get("soak/heap/second-vs-first-half", "ratio"); ok {
			rss, _ := m.get("soak/peak-rss", "MiB")
			add("soak: peak Go heap, second half / first half", fmt.Sprintf("%.2fx (peak RSS %.0f MiB)", r, rss), "≤ 1.25x (flat)", b(r <= 1.25))
		}
	}

	w := [3]int{len("measure"), len("measured"), len("target")}
	for _, r := range rows {
		w[0], w[1], w[2] = max(w[0], len([]rune(r.what))), max(w[1], len([]rune(r.measured))), max(w[2], len([]rune(r.target)))
	}
	pad := func(s string, n int) string { return s + strings.Repeat(" ", n-len([]rune(s))) }
	fmt.Printf("| %s | %s | %s | verdict |\n", pad("measure", w[0]), pad("measured", w[1]), pad("target", w[2]))
	fmt.Printf("|%s|%s|%s|---------|\n", strings.Repeat("-", w[0]+2), strings.Repeat("-", w[1]+2), strings.Repeat("-", w[2]+2))
	for _, r := range rows {
		fmt.Printf("| %s | %s | %s | %s |\n", pad(r.what, w[0]), pad(r.measured, w[1]), pad(r.target, w[2]), r.verdict)
	}
}
