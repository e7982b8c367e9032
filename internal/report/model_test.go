package report

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/crashrig/crashrig/internal/stats"
)

// Hand-built models for the golden files, and a realistic one for the screenshot.

const (
	titleGo     = "go: fatal error: unexpected signal during runtime execution in main.worker"
	titleKernel = "general protection fault in vread_tsc"
	limit       = 120.0
)

var generated = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// obs is a compact observation: a title for a crash, "" for a pass.
type obs struct {
	t     float64
	title string
}

// variant summarises hand-written observations; every crash gets an excerpt, run ids counting
// from firstID.
func variant(name, desc string, firstID int64, list []obs, texts map[string]string) Variant {
	v := Variant{Name: name, Description: desc, Runs: len(list)}
	var so []stats.Observation
	for i, o := range list {
		so = append(so, stats.Observation{Crashed: o.title != "", Time: o.t, Title: o.title, Limit: limit})
		if o.title != "" {
			v.Crashes = append(v.Crashes, Excerpt{RunID: firstID + int64(i), Title: o.title, TimeToCrash: o.t, Text: texts[o.title]})
			if strings.HasPrefix(o.title, HangPrefix) {
				v.Hangs++
			}
		}
	}
	v.Summary = stats.Summarize(so, 0.95)
	return v
}

func passes(n int) []obs {
	out := make([]obs, n)
	for i := range out {
		out[i] = obs{t: limit}
	}
	return out
}

var goldenTexts = map[string]string{
	titleGo: "fatal error: unexpected signal during runtime execution\n" +
		"[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x41b2c5]\n\n" +
		"goroutine 7 gp=0xc000102380 m=4 mp=0xc000080008 [running]:\n" +
		"runtime.throw({0x4e1f2a?, 0x0?})\n\t/usr/lib/go/src/runtime/panic.go:1101 +0x48\n" +
		"main.worker(0x3)\n\t/src/go20427/main.go:41 +0x7d\n",
	titleKernel: "general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] PREEMPT SMP NOPTI\n" +
		"CPU: 1 PID: 1 Comm: init Not tainted 6.1.0-56-cloud-amd64 #1  Debian 6.1.192-2\n" +
		"RIP: 0010:vread_tsc+0x12/0x30\n<script>alert(\"not a script\")</script> & friends\n",
	HangPrefix + "no heartbeat": "",
}

// compareModel has three variants: crashes of two titles and a hang, an all-pass variant with
// a boot failure, and a variant with two crashes, reused and excluded runs.
func compareModel() *Model {
	old := append([]obs{{14.2, titleGo}, {31.5, titleGo}, {47, titleKernel}, {58.3, titleGo}, {75.9, titleKernel},
		{88.1, HangPrefix + "no heartbeat"}, {102.4, titleGo}}, passes(5)...)
	mid := append([]obs{{66, titleGo}, {110.5, titleGo}}, passes(10)...)
	vOld := variant("old", "6.1.0-56-cloud-amd64 · go20427 -d 2m · smp 2 · tcg", 1, old, goldenTexts)
	vNew := variant("new", "6.1.0-57-cloud-amd64 · go20427 -d 2m · smp 2 · tcg", 13, passes(12), goldenTexts)
	vNew.Runs, vNew.Excluded = 13, map[string]int{"boot-fail": 1}
	vMid := variant("patched", "6.1.0-56+vdso-fix · go20427 -d 2m · smp 2 · tcg", 26, mid, goldenTexts)
	vMid.Runs, vMid.Excluded, vMid.Reused = 14, map[string]int{"infra-fail": 2}, 4
	return &Model{
		Title:     "crashrig compare: go20427 on three kernels",
		Generated: generated,
		Variants:  []Variant{vOld, vNew, vMid},
		Decision:  &Decision{Text: "old crashes more than new", Confidence: "95%", RatioText: "rate ratio ∞ [2.1, ∞]"},
		Warnings:  []string{"variants ran on different hosts (builder-1, builder-2): host noise does not cancel"},
		Conf:      0.95,
	}
}

// singleModel is one unnamed configuration, as crashrig report shows a session.
func singleModel() *Model {
	list := append([]obs{{9.5, titleGo}, {22.25, titleKernel}, {40, titleGo}, {71.8, titleGo}, {96.3, titleGo}}, passes(15)...)
	v := variant("", "6.1.0-56-cloud-amd64 · go20427 -d 2m · smp 2 · kvm", 101, list, goldenTexts)
	v.Runs, v.Excluded = 22, map[string]int{"boot-fail": 1, "interrupted": 1}
	return &Model{Title: "crashrig report: session 7 (run)", Generated: generated, Variants: []Variant{v}, Conf: 0.95}
}

// realisticModel is a comparison as crashrig compare would build it: 40 boots a side, the
// old kernel crashing with a mean time of about 80 s, the fixed one once.
func realisticModel() *Model {
	r := rand.New(rand.NewPCG(1, 2))
	goText := goldenTexts[titleGo] + strings.Repeat("runtime.goexit({})\n\t/usr/lib/go/src/runtime/asm_amd64.s:1700 +0x1\n", 3)
	var old []obs
	for range 40 {
		t := r.ExpFloat64() * 80
		switch {
		case t >= limit:
			old = append(old, obs{t: limit})
		case r.IntN(4) == 0:
			old = append(old, obs{t, titleKernel})
		default:
			old = append(old, obs{t, titleGo})
		}
	}
	texts := map[string]string{titleGo: goText, titleKernel: goldenTexts[titleKernel]}
	vOld := variant("old", "6.1.0-56-cloud-amd64 · go20427 -d 2m · smp 2 · tcg,thread=multi", 1, old, texts)
	vOld.Runs, vOld.Excluded = 41, map[string]int{"infra-fail": 1}
	fixed := append(passes(31), obs{57.2, titleGo})
	fixed = append(fixed, passes(8)...)
	vNew := variant("fixed", "6.1.0-56-cloud-amd64 + vdso stack probe fix · go20427 -d 2m · smp 2 · tcg,thread=multi", 42, fixed, texts)
	rr := stats.CompareRates(vOld.Summary.Crashes, vOld.Summary.Exposure, vNew.Summary.Crashes, vNew.Summary.Exposure, 0.95)
	return &Model{
		Title:     "crashrig compare: does the vDSO fix stop go20427 crashing?",
		Generated: generated,
		Variants:  []Variant{vOld, vNew},
		Decision: &Decision{Text: "old crashes more than fixed", Confidence: "sequential test at α = β = 5%",
			RatioText: fmt.Sprintf("rate ratio %s [%s, %s]", num(rr.Ratio.Estimate), num(rr.Ratio.Lower), num(rr.Ratio.Upper))},
		Conf: 0.95,
	}
}
