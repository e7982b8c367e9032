// Package sequential decides crashrig compare: whether one variant of a run configuration
// (a kernel, a build, an option) crashes more often than another, from runs that finish
// one at a time, stopping as soon as the chosen error rates allow.
//
// It is a pure state machine, [Comparison]: no I/O, no clock, no goroutines. The caller
// asks [Comparison.Next] which variant to start, reports each finished run with
// [Comparison.Record] (or [Comparison.Cancel] for a run that produced no result), may
// stop a running VM early at [Comparison.StopAfter], and stops when [Comparison.Done].
// [Comparison.Decisions] says where each comparison stands. [Simulate] and [Bench] drive it
// with fake runs of known crash-time laws, for tests and for crashrig bench.
//
// # The decision procedure
//
// Variants[0] is A; every other variant B is compared with A. For each comparison the runs
// are turned into points, each won by A or by B:
//
//   - Race (the default, notes/statistics.md §6 "paired race"): runs are paired by
//     number, A's i-th run with B's i-th run (a heat); the first of the two to crash, in
//     reproducer seconds from its own start, wins the point, and the other run is useless
//     from that second on (StopAfter tells the harness so). A heat where neither crashes
//     within the limit gives no point.
//   - Exposure: each variant's runs are laid end to end on its own exposure clock;
//     every crash inside the exposure both variants have covered is a point for its
//     variant. The scheduler keeps the clocks level, and StopAfter names the exposure at
//     which crashes the other variant already had will decide the test.
//   - PerRun: runs are paired as for Race but run to their limit; a heat where exactly
//     one crashed is a point for it.
//
// If the variants crash alike, each point is A's with probability ½; if A crashes R times
// as often as B, with probability R/(1+R). Two one-sided Wald SPRTs run on the points:
// "A crashes more" (H0 p = ½ against H1 p = R/(1+R)) and "B crashes more" (H0 p = ½ against
// p = 1/(1+R)), with R = MinRatio and the bounds ln((1−β)/(α/2)) and ln(β/(1−α/2)); a test
// freezes at its first crossing. The outcome is
//
//   - MoreA when the first accepts its H1, MoreB when the second does;
//   - NoDifference when both have accepted H0: no difference of MinRatio or more;
//   - Undecided when MaxVMSeconds or MaxRuns is spent first;
//
// with the ratio and a Clopper–Pearson interval from the points (nA, nB) mapped through
// R = p/(1−p). At α = β = .05 and R = 2 a point for A adds ln(4/3) = .288 to the first test
// and a point for B ln(2/3) = −.405, so 13 straight points for A decide MoreA.
//
// With more than two variants each comparison gets α/(K−1) (Bonferroni) and its own β.
// With Config.FixedRuns the sequential test is replaced by N runs per variant and one
// fixed-sample test at the end (the exact conditional rate-ratio test, or Fisher's exact
// test for PerRun).
//
// # Assumptions and error rates
//
// Runs are independent, and all runs of a comparison have the same limit and setup.
//
// Race needs nothing else for its α: when A and B crash alike, whatever the shape of the
// hazard, each heat is won by either with probability ½, so the chance of a false "A
// crashes more" is at most α/2 (Wald; overshoot makes it smaller) and of any false
// difference at most α. Its β holds when the hazards are proportional, λA(t) = R·λB(t) at
// every second of a run, because the winner of a race is then A with probability R/(1+R)
// at whatever time the first crash comes; constant hazards (exponential crash times) are
// the common case, and MinRatio is then the ratio of crash rates and of MTTCs. For
// hazards that are not proportional, Race answers "which crashes first", which is what a
// developer waiting for a reproducer cares about. Race wastes the time of heats where
// neither crashes, and it relies on the harness stopping the losing run at StopAfter:
// without that the losing VM runs on to its limit for nothing (the "runs not cut" row of
// the benchmark costs 5.8× as much).
//
// Exposure uses every VM second but its points are independent only under a constant
// hazard. With a rising hazard (crashes need time to build up, Weibull k > 1) it loses
// power, because restarting runs hides the crash (notes/statistics.md §4): it missed a
// hazard ratio of 2 at k = 2 in half the simulated comparisons. With a falling hazard
// (early or never, k < 1) crashes bunch on the exposure clock and its α is far too high:
// a false difference in .42 of them at k = 0.5. Its points also follow the order runs are
// recorded in, which is exact with one run per variant at a time; with many VMs per
// variant crashes are recorded before long clean runs started with them, which costs power
// (β ≈ .10 with 4 VMs per variant). Use it only when the hazard check (stats.CheckHazard,
// reported in Decision.Warnings) finds the hazard constant and one VM runs per variant.
//
// PerRun is the per-run Bernoulli test of notes/statistics.md §4: it compares p(crash
// within the limit), assumes nothing about when crashes happen, and suits a rising hazard
// with a limit at or above the p95 time to crash. MinRatio is then an odds ratio. It
// needs both variants to crash rarely enough for runs to disagree: with p(crash) near 1
// for both it needs thousands of runs.
//
// Simulations in the tests (limit 600 s, α = β = .05, R = 2, 2000 comparisons a scenario)
// find for Race a false difference rate of .032–.049 for equal variants (exponential,
// Weibull k = 2 and k = 0.5, 2 or 8 VMs, runs cut or not) and a miss rate of .038–.045
// at exactly R = 2 (exponential, and Weibull k = 2 and 0.5 with proportional hazards).
// Clearing a clean kernel against one with MTTC 60 s takes about 1550 VM-seconds, against
// 6600 for 10 runs of 10 × MTTC per variant and 13700 for the fixed-sample test with the
// same α and β (Bench prints the full table). For one kernel against a known MTTC,
// stats.PoissonSPRT clears it in 176.7 VM-seconds against 600 for one 10-minute run.
//
// The ratio interval in a Decision is computed as for a fixed sample. After a sequential
// stop it is only nominal, and it tends to overstate the difference, since the test
// stops when the evidence runs high.
package sequential
